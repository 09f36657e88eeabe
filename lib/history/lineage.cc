#include "history/lineage.h"

#include <algorithm>

namespace aero::history {

namespace {

Status Disagrees(const std::string& path, const std::string& detail) {
  return Status(Code::kDiverged, Problem("diverged", path, detail),
                "two histories of this database meet here: keep only the claim archive's history "
                "files, or rebuild this node from the primary it should follow");
}

}  // namespace

Result<Lineage> Lineage::Of(const std::vector<SourcedFile>& files) {
  Lineage out;
  const SourcedFile* longest = nullptr;
  for (const SourcedFile& f : files) {
    if (!longest || f.file.epoch > longest->file.epoch) longest = &f;
  }
  if (!longest) return out;
  out.chain_ = longest->file.lineage;
  for (const SourcedFile& f : files) {
    const std::vector<LineageEntry>& l = f.file.lineage;
    if (!std::equal(l.begin(), l.end(), out.chain_.begin())) {
      return Disagrees(f.path, "its lineage is not that of '" + longest->path + "'");
    }
    auto [it, inserted] = out.files_.emplace(f.file.epoch, f);
    if (!inserted) {
      const HistoryFile& a = it->second.file;
      if (a.claimant != f.file.claimant || a.branch_digest != f.file.branch_digest) {
        return Disagrees(f.path, "epoch " + std::to_string(a.epoch) + " was claimed twice (this file and '" +
                                     it->second.path + "')");
      }
    }
  }
  return out;
}

std::optional<uint64_t> Lineage::Branch(uint32_t epoch) const {
  if (epoch == 0 || epoch > chain_.size()) return std::nullopt;
  return chain_[epoch - 1].branch_commit;
}

uint64_t Lineage::LastOwned(uint32_t epoch, uint64_t last) const {
  if (epoch >= max_epoch()) return last;  // no later epoch is known (and no overflow of epoch + 1)
  const std::optional<uint64_t> b_next = Branch(epoch + 1);
  return b_next ? std::min(last, *b_next) : last;
}

uint32_t Lineage::Owner(uint64_t commit) const {
  uint32_t owner = 1;
  for (const LineageEntry& e : chain_) {
    if (e.branch_commit < commit) owner = e.epoch;  // branch commits never decrease (HFILE-4)
  }
  return owner;
}

const SourcedFile* Lineage::File(uint32_t epoch) const {
  auto it = files_.find(epoch);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace aero::history
