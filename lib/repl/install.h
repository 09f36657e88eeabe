// `aerodb-repl snapshot install`: a new replica from a verified archive
// (specs/REPLICATION_SNAPSHOT_TRANSFER.md SNAP-10, SNAP-11).
#pragma once

#include <cstdint>
#include <string>

#include "common/fs.h"
#include "common/progress.h"
#include "common/status.h"
#include "snapshot/archive_reader.h"

namespace aero::repl {

struct InstallOptions {
  std::string data_dir;
  std::string archive;  // a file path, or s3://BUCKET/PREFIX/NAME (OBJ-20)
  bool discard_existing = false;  // destructive: replaces a non-empty target
  // Members of a plain archive at least this large are read at their offsets
  // on worker threads (SNAP-6); tests lower it to reach small members.
  uint64_t read_at_min_bytes = snapshot::kReadAtMinBytes;
  // OPS-7 (optional): the archive's bytes read by the one pass that verifies
  // and extracts it (SNAP-10): the total is its size.
  ProgressFn progress = {};
  // SIG-21 (optional): --trusted-keys DIR; with the target's own trust
  // directory (when --discard-existing replaces a node), required mode.
  std::string trusted_keys = {};
};

struct InstallReport {
  std::string system_id;
  uint32_t epoch = 0;
  uint64_t base_commit = 0;
  uint64_t applied_commit = 0;  // the archive's boundary
  uint64_t members = 0;
  // FM-138: the install is done, but the old tree that --discard-existing
  // exchanged out could not be removed (what is left, and why).
  Status cleanup_warning;
};

Status InstallSnapshot(Fs& fs, const InstallOptions& options, InstallReport* report);

}  // namespace aero::repl
