// verify and the encryption envelope (formats/encrypted-file.md ENC-9):
// with the key every chunk (data and final) is checked before the
// plaintext's own format; without it the framing only, and the report says
// what was not checked.
#pragma once

#include <string>
#include <vector>

#include "common/fs.h"
#include "repl/verify.h"

namespace aero::repl {

// The whole envelope of `file` (a view crypto::OpenDecrypting returned):
// true when it decided the report (corrupt, in transit, unreadable, or no
// key: framing only, with a notice of what was not checked); false for a
// plain file, or an envelope that checked out (a notice says so) and whose
// plaintext is to be verified next.
bool VerifyEnvelope(ReadableFile& file, const std::string& path, std::vector<Finding>* findings);

// The envelope's verdict as the view judged it at open (no full pass): true
// with a finding when it is not valid; `state` is the summary's state.
bool EnvelopeFinding(ReadableFile& file, const std::string& path, std::vector<Finding>* findings,
                     std::string* state);

}  // namespace aero::repl
