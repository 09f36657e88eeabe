// `aerodb-repl rejoin`: an old primary whose history is a prefix of the
// lineage becomes a replica that continues with apply-wal
// (specs/REPLICATION_RECOVERY.md RECOV-10). A node that wrote past the
// branch point is refused (4), never cut back in place.
#pragma once

#include <cstdint>
#include <string>

#include "common/fs.h"

namespace aero::repl {

struct RejoinOptions {
  std::string data_dir;
  std::string archive;  // the claim archive
};

struct RejoinReport {
  uint32_t epoch = 0;          // the node's epoch (unchanged)
  uint32_t lineage_epoch = 0;  // the newest epoch of the lineage
  uint64_t applied_commit = 0;
  uint64_t branch_commit = 0;  // b_{E+1}: where the node's epoch was superseded
  uint64_t superseded_from = 0, superseded_to = 0;  // 4: the node's write sets no replica applies
};

Status Rejoin(Fs& fs, const RejoinOptions& options, RejoinReport* report);

}  // namespace aero::repl
