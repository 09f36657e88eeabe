// The epoch lineage that history files describe (specs/REPLICATION_MODEL.md
// "Terms", LOG-15, LOG-20): epochs 1..N, each with its branch commit b_E,
// and the owner of a CommitId: the largest E with b_E < c.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "history/history_file.h"

namespace aero::history {

struct SourcedFile {
  HistoryFile file;
  std::string path;  // where it was read, for messages
};

class Lineage {
 public:
  Lineage() : chain_{{1, 0}} {}  // epoch 1 alone: b_1 = 0

  // One chain from `files` (any order): every file's lineage a prefix of
  // the longest one, two files of one epoch equal. kDiverged, naming the
  // file that disagrees, otherwise.
  static Result<Lineage> Of(const std::vector<SourcedFile>& files);

  uint32_t max_epoch() const { return chain_.back().epoch; }
  // b_E; nullopt for an epoch the chain does not reach.
  std::optional<uint64_t> Branch(uint32_t epoch) const;
  // The epoch that owns CommitId `commit` (>= 1).
  uint32_t Owner(uint64_t commit) const;
  // Row 6 of apply-wal's table (LOG-20), the one place it is decided: the
  // last CommitId of a segment of `epoch` (>= 1) holding `first..last` that
  // its epoch owns: `last`, or the next epoch's branch point below it. The
  // segment is superseded (no part of this history) when `first` is above.
  uint64_t LastOwned(uint32_t epoch, uint64_t last) const;
  bool Superseded(uint32_t epoch, uint64_t first, uint64_t last) const {
    return first > LastOwned(epoch, last);
  }
  // The history file of `epoch` among those given (nullptr if none was).
  const SourcedFile* File(uint32_t epoch) const;

 private:
  std::vector<LineageEntry> chain_;           // epochs 1..N in order
  std::map<uint32_t, SourcedFile> files_;
};

}  // namespace aero::history
