// `apply-wal --report-to DIR`: a replica registers its durable applied
// position in an archive directory (specs/REPLICATION_RETENTION.md RET-3,
// formats/archive-directory.md ARC-5), so that `prune` keeps what it needs.
#pragma once

#include <string>

#include "archive/registration.h"
#include "common/fs.h"
#include "common/status.h"

namespace aero::repl {

struct RegisterOptions {
  std::string data_dir;   // the replica
  std::string archive;    // the archive directory prune trims
  std::string name;       // empty: the host name
};

// Replaces `archive/replica-NAME.json` with the replica's state.json
// position (temp file, fsync, Archive::Replace, directory fsync). kUsage for
// a name ARC-5 does not allow; kNotFound when the archive is absent;
// kRefused when NAME is registered by another host or data directory; kIo.
// A kNotFound because there is no replica to register (no node at
// data_dir, or a primary) carries this reason; a missing archive does not.
inline constexpr const char* kNoReplica = "no-replica";
Status RegisterReplica(Fs& fs, const RegisterOptions& options, archive::Registration* out);

// Before the run: an archive directory inside the replica's own
// replication/ folder is 2 (node/own_folder.h), before anything is applied.
Status CheckReportTo(const RegisterOptions& options);

}  // namespace aero::repl
