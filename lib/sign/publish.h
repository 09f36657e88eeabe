// Publishing a sidecar (formats/signature.md SIG-2, specs/REPLICATION_SIGNING.md
// SIG-9) through the Archive interface, so an object-store backend works too.
#pragma once

#include "archive/archive.h"
#include "common/fs.h"
#include "common/status.h"
#include "sign/ed25519.h"
#include "sign/statement.h"

namespace aero::sign {

// Signs `s` with `key` and publishes NAME.sig exclusively into `a` (a
// hidden temp written and fsynced, the exclusive publish, the directory
// made durable). When NAME.sig is there already it is never replaced: the
// same bytes, or a statement of the same file by another key, is ok
// (`*written` false); a sidecar still arriving is 8; any other is 4.
// `run` (LOG-31): a writer's run id, which the temp name then carries
// (`.NAME.sig.RUN.tmp`), so that two unserialised runs never share it.
Status PublishSidecar(Fs& fs, archive::Archive& a, const SigningKey& key, const Statement& s,
                      bool* written = nullptr, std::string_view run = {});

}  // namespace aero::sign
