// SIG-13: the signature findings of `verify DIR --trusted-keys K`.
#pragma once

#include <string>

#include "common/fs.h"
#include "common/status.h"
#include "repl/verify.h"

namespace aero::repl {

// Adds one finding per segment and history file of the segment directory
// `dir` that is not signed by a key of `trusted_keys` (SIG-5..SIG-8), at
// the CommitId apply-wal meets it; kUsage for a bad trust directory.
Status AddSignatureFindings(Fs& fs, const std::string& dir, const std::string& trusted_keys,
                            VerifyReport* report);

}  // namespace aero::repl
