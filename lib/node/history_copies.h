// A node's copies of its lineage's history files, replication/history/
// (specs/REPLICATION_RECOVERY.md RECOV-2, formats/history-file.md). Every
// open loads and checks them: a node of epoch E >= 2 without the files of
// epochs 2..E, or with copies that contradict each other or state.json,
// refuses to start (1).
#pragma once

#include <string>
#include <vector>

#include "common/fs.h"
#include "history/history_file.h"
#include "node/state.h"

namespace aero::node {

class HistoryCopies {
 public:
  // Loads and checks every copy against `system` and `state` (RECOV-2).
  static Result<HistoryCopies> Load(Fs& fs, const std::string& dir, const history::SystemId& system,
                                    const NodeState& state);

  // The file of `epoch` (2..), or nullptr.
  const history::HistoryFile* At(uint32_t epoch) const;
  // Epochs 1..epoch with their branch commits: [{1,0}] for epoch 1.
  std::vector<history::LineageEntry> LineageThrough(uint32_t epoch) const;
  // The epochs held, ascending.
  const std::vector<history::HistoryFile>& files() const { return files_; }

 private:
  std::vector<history::HistoryFile> files_;  // epochs 2..N, in order
};

// The detail of a copy whose branch_digest is not the node's H(b_E).
std::string BranchContradicts(uint64_t commit);

// NODE-1: writes `h` as replication/history/EEEEEEEE.history (temp file,
// fsync, rename, fsync of the directory), creating the folder when absent.
Status SaveHistoryCopy(Fs& fs, const std::string& dir, const history::HistoryFile& h);

}  // namespace aero::node
