#include "node/history_copies.h"

#include "common/file_util.h"
#include "node/layout.h"

namespace aero::node {

namespace {

Status Damaged(const std::string& subject, const std::string& detail) {
  return Status(Code::kDamage, Problem("invalid node file", subject, detail),
                "restore the history files from the claim archive (the same names), or rebuild "
                "this node from a healthy one");
}

}  // namespace

std::string BranchContradicts(uint64_t commit) {
  return "its branch_digest is not this node's history digest at commit " + std::to_string(commit) +
         " (the copy contradicts the node's own log)";
}

Result<HistoryCopies> HistoryCopies::Load(Fs& fs, const std::string& dir,
                                          const history::SystemId& system, const NodeState& state) {
  HistoryCopies out;
  const std::string hdir = JoinPath(dir, kHistoryDir);
  Result<std::vector<DirEntry>> entries = fs.ListDir(hdir);
  if (!entries.ok() && entries.status().code() != Code::kNotFound) return entries.status();
  if (entries.ok()) {
    for (const DirEntry& e : *entries) {
      const std::string path = JoinPath(hdir, e.name);
      if (!e.name.empty() && e.name[0] == '.') continue;                 // a NODE-1 temp file
      if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".tmp") == 0) continue;
      const std::optional<uint32_t> epoch = history::ParseHistoryFileName(e.name);
      if (!epoch) return Damaged(path, "not a history file");
      if (!e.is_regular) {  // FM-132: what stands in a copy's place is a fault to fix, not damage
        return Status(Code::kIo,
                      Problem("not a regular file", path,
                              e.is_dir       ? "a directory"
                              : e.is_symlink ? "a symbolic link (a node's history copy is never one)"
                                             : "a FIFO, socket or device: reading it could block or never end"),
                      "remove what stands in the file's place (or restore the file), then re-run");
      }
      AERO_ASSIGN_OR_RETURN(std::string bytes,
                            ReadSmallFile(fs, path, history::kMaxHistoryFileBytes));
      Result<history::HistoryFile> h = history::DecodeHistoryFile(bytes, *epoch, system, path);
      // A node's own copy was written whole (NODE-1): incomplete or foreign is damage too.
      if (!h.ok()) return Damaged(path, h.status().message());
      out.files_.push_back(std::move(h).value());  // ListDir sorts by name: by epoch
    }
  }
  // RECOV-2: epochs 2..N without a gap, each continuing the one before.
  for (size_t i = 0; i < out.files_.size(); ++i) {
    const history::HistoryFile& h = out.files_[i];
    const std::string path = JoinPath(hdir, history::HistoryFileName(h.epoch));
    if (h.epoch != i + 2) {
      return Damaged(path, "the history of epoch " + std::to_string(i + 2) + " is missing");
    }
    if (i > 0) {
      Status prefix = history::CheckLineagePrefix(out.files_[i - 1], h, path);
      if (!prefix.ok()) return Damaged(path, prefix.message());
    }
  }
  // RECOV-2: a copy's branch_digest is H(b_E) of this node's own history.
  // Where state.json records that digest (b_E the base or the applied
  // commit) it is checked at every open; verify checks the rest against the
  // log (a copy resealed with another digest otherwise passed until apply-wal
  // met the archive's copy and halted the node as diverged).
  for (const history::HistoryFile& h : out.files_) {
    const std::optional<history::Digest> known =
        h.branch_commit == state.base_commit      ? std::optional(state.base_digest)
        : h.branch_commit == state.applied_commit ? std::optional(state.applied_digest)
                                                  : std::nullopt;
    if (known && *known != h.branch_digest) {
      return Damaged(JoinPath(hdir, history::HistoryFileName(h.epoch)),
                     BranchContradicts(h.branch_commit));
    }
  }
  const std::string state_path = JoinPath(dir, kStateFile);
  if (state.epoch >= 2) {
    const history::HistoryFile* mine = out.At(state.epoch);
    if (!mine) {
      return Damaged(state_path, "epoch " + std::to_string(state.epoch) + " without its history file " +
                                     std::string(kHistoryDir) + "/" + history::HistoryFileName(state.epoch));
    }
    if (state.role == Role::kPrimary && state.applied_commit < mine->branch_commit) {
      return Damaged(state_path, "a primary of epoch " + std::to_string(state.epoch) + " below its branch commit " +
                                     std::to_string(mine->branch_commit));
    }
  }
  return out;
}

const history::HistoryFile* HistoryCopies::At(uint32_t epoch) const {
  if (epoch < 2 || epoch - 2 >= files_.size()) return nullptr;
  return &files_[epoch - 2];
}

std::vector<history::LineageEntry> HistoryCopies::LineageThrough(uint32_t epoch) const {
  if (const history::HistoryFile* h = At(epoch)) return h->lineage;
  return {{1, 0}};
}

Status SaveHistoryCopy(Fs& fs, const std::string& dir, const history::HistoryFile& h) {
  AERO_RETURN_IF_ERROR(fs.MakeDir(JoinPath(dir, kHistoryDir)));
  AERO_RETURN_IF_ERROR(fs.SyncDir(JoinPath(dir, kReplicationDir)));
  return WriteFileAtomically(fs, JoinPath(JoinPath(dir, kHistoryDir), history::HistoryFileName(h.epoch)),
                             history::EncodeHistoryFile(h));
}

}  // namespace aero::node
