#include "support/faulty_fs.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "support/forwarding_fs.h"

namespace aero::testing {

namespace fsys = std::filesystem;

namespace {

std::optional<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class FaultyWritable final : public WritableFile {
 public:
  FaultyWritable(FaultyFs* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    std::lock_guard<std::recursive_mutex> l(fs_->mutex());
    if (!data.empty() && fs_->FullAt(base_->path())) {
      return Status(Code::kIo, Problem("cannot write", base_->path(), std::strerror(ENOSPC)),
                    IoHint(ENOSPC));
    }
    if ((fs_->AtCrashStep() || fs_->AtFailStep()) && data.size() > 1) {
      // A torn write: half the bytes reach the file, then the machine dies
      // (or the disk fills up).
      (void)base_->Append(data.substr(0, data.size() / 2));
    }
    AERO_RETURN_IF_ERROR(fs_->Step("append " + base_->path()));
    return base_->Append(data);
  }
  // A write in place is a step like an append (torn at a crash: half its
  // bytes land). Only bytes no fsync made durable may be overwritten: the
  // power-loss model keeps a durable prefix, not old contents (LOG-30 writes
  // the header before the file's only fsync).
  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard<std::recursive_mutex> l(fs_->mutex());
    if (offset < fs_->DurableBytes(base_->path())) {
      return Status(Code::kInternal, Problem("FaultyFs cannot model a write over durable bytes",
                                             base_->path()));
    }
    if (!data.empty() && fs_->FullAt(base_->path())) {
      return Status(Code::kIo, Problem("cannot write", base_->path(), std::strerror(ENOSPC)),
                    IoHint(ENOSPC));
    }
    if ((fs_->AtCrashStep() || fs_->AtFailStep()) && data.size() > 1) {
      (void)base_->WriteAt(offset, data.substr(0, data.size() / 2));
    }
    AERO_RETURN_IF_ERROR(fs_->Step("write-at " + base_->path()));
    return base_->WriteAt(offset, data);
  }
  Status Sync() override {
    std::lock_guard<std::recursive_mutex> l(fs_->mutex());
    AERO_RETURN_IF_ERROR(fs_->Step());
    AERO_RETURN_IF_ERROR(base_->Sync());
    fs_->FileSynced(base_->path());
    return Status::Ok();
  }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultyFs* fs_;
  std::unique_ptr<WritableFile> base_;
};

// A read-only handle whose fsync (LOG-25: ship-wal makes the log durable
// through it) is a step like any other: it may crash or fail, and what it
// made durable survives a power loss.
class FaultyReadable final : public ForwardingFile {
 public:
  FaultyReadable(FaultyFs* fs, std::unique_ptr<ReadableFile> base)
      : ForwardingFile(std::move(base)), fs_(fs) {}
  Status Sync() override {
    std::lock_guard<std::recursive_mutex> l(fs_->mutex());
    AERO_RETURN_IF_ERROR(fs_->Step("fsync " + path()));
    AERO_RETURN_IF_ERROR(ForwardingFile::Sync());
    fs_->FileSynced(path());
    return Status::Ok();
  }

 private:
  FaultyFs* fs_;
};

}  // namespace

std::string FaultyFs::Norm(const std::string& p) {
  return fsys::path(p).lexically_normal().string();
}

Status FaultyFs::Step(std::string_view what) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ++steps_;
  if (fail_at_ != 0 && steps_ == fail_at_) {
    failed_ = true;
    failed_op_ = std::string(what);
    return Status(Code::kIo,
                  Problem("simulated fault", "step " + std::to_string(steps_),
                          std::strerror(fail_errno_)),
                  IoHint(fail_errno_));
  }
  if (crash_at_ != 0 && steps_ >= crash_at_) {
    crashed_ = true;
    return Status(Code::kIo, "simulated crash at step " + std::to_string(crash_at_));
  }
  return Status::Ok();
}

void FaultyFs::TrackBeforeWrite(const std::string& path, bool truncating) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    FileTrack t;
    std::optional<std::string> old = ReadAll(path);
    t.existed = old.has_value();
    if (truncating) {
      t.full = old;  // durable content is what was there before
    } else {
      t.use_prefix = true;
      t.prefix = old ? old->size() : 0;
    }
    files_[path] = t;
  } else if (truncating && it->second.use_prefix) {
    std::optional<std::string> old = ReadAll(path);
    FileTrack t;
    t.existed = old.has_value();
    t.full = old ? std::optional<std::string>(old->substr(0, it->second.prefix)) : std::nullopt;
    it->second = t;
  }
}

uint64_t FaultyFs::DurableBytes(const std::string& raw) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto it = files_.find(Norm(raw));
  if (it == files_.end()) return fsys::exists(raw) ? fsys::file_size(raw) : 0;  // untouched
  return it->second.use_prefix ? it->second.prefix : 0;
}

void FaultyFs::FileSynced(const std::string& raw) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string path = Norm(raw);
  FileTrack& t = files_[path];
  t.existed = true;
  t.full.reset();
  t.use_prefix = true;
  t.prefix = fsys::exists(path) ? fsys::file_size(path) : 0;
}

void FaultyFs::Rekey(const std::string& from, const std::string& to) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::map<std::string, FileTrack> moved;
  for (auto it = files_.begin(); it != files_.end();) {
    const std::string& p = it->first;
    if (p == from || p.rfind(from + "/", 0) == 0) {
      moved[to + p.substr(from.size())] = it->second;
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [p, t] : moved) files_[p] = t;
}

void FaultyFs::SwapKeys(const std::string& a, const std::string& b) {
  const std::string parked = a + "\x01swap";  // no real path contains it
  Rekey(a, parked);
  Rekey(b, a);
  Rekey(parked, b);
}

Result<std::unique_ptr<ReadableFile>> FaultyFs::OpenRead(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  AERO_ASSIGN_OR_RETURN(auto file, base_.OpenRead(path));
  return std::unique_ptr<ReadableFile>(std::make_unique<FaultyReadable>(this, std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultyFs::OpenWrite(const std::string& raw,
                                                          OpenMode mode) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string path = Norm(raw);
  AERO_RETURN_IF_ERROR(Step());
  const bool existed = fsys::exists(path);
  TrackBeforeWrite(path, mode != OpenMode::kAppend);
  AERO_ASSIGN_OR_RETURN(auto file, base_.OpenWrite(path, mode));
  if (!existed) {
    const std::string dir = DirName(path);
    pending_[dir].push_back({DirOp::kCreate, path, {}, {}, false});
    order_.push_back({dir, pending_[dir].size() - 1});
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultyWritable>(this, std::move(file)));
}

Status FaultyFs::Rename(const std::string& raw_from, const std::string& raw_to) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string from = Norm(raw_from), to = Norm(raw_to);
  AERO_RETURN_IF_ERROR(Step());
  DirOp op{DirOp::kRename, from, to, {}, false};
  if (fsys::is_directory(to)) {
    op.saved_dir = true;
  } else if (fsys::exists(to)) {
    // What survives a power loss is the durable content of `to`.
    auto it = files_.find(to);
    if (it != files_.end() && !it->second.use_prefix) {
      op.saved = it->second.full;
    } else {
      op.saved = ReadAll(to);
      if (op.saved && it != files_.end()) op.saved->resize(it->second.prefix);
    }
  }
  AERO_RETURN_IF_ERROR(base_.Rename(from, to));
  if (auto it = files_.find(to); it != files_.end()) files_.erase(it);
  Rekey(from, to);
  const std::string dir = DirName(to);
  pending_[dir].push_back(op);
  order_.push_back({dir, pending_[dir].size() - 1});
  return Status::Ok();
}

Status FaultyFs::RenameNoReplace(const std::string& raw_from, const std::string& raw_to) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string from = Norm(raw_from), to = Norm(raw_to);
  if (fsys::exists(to)) {
    AERO_RETURN_IF_ERROR(Step());
    return Status(Code::kRefused, Problem("already exists", to));
  }
  return Rename(from, to);
}

Status FaultyFs::Exchange(const std::string& raw_a, const std::string& raw_b) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string a = Norm(raw_a), b = Norm(raw_b);
  AERO_RETURN_IF_ERROR(Step());
  AERO_RETURN_IF_ERROR(base_.Exchange(a, b));
  SwapKeys(a, b);
  const std::string dir = DirName(b);
  pending_[dir].push_back({DirOp::kExchange, a, b, {}, false});
  order_.push_back({dir, pending_[dir].size() - 1});
  return Status::Ok();
}

Status FaultyFs::SyncDir(const std::string& raw) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string dir = Norm(raw);
  AERO_RETURN_IF_ERROR(Step());
  AERO_RETURN_IF_ERROR(base_.SyncDir(dir));
  pending_.erase(dir);
  // Entries of this directory are durable now; drop them from the undo order.
  std::vector<std::pair<std::string, size_t>> keep;
  for (auto& e : order_) {
    if (e.first != dir) keep.push_back(e);
  }
  order_ = std::move(keep);
  return Status::Ok();
}

Status FaultyFs::Remove(const std::string& raw) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string path = Norm(raw);
  AERO_RETURN_IF_ERROR(Step());
  DirOp op{DirOp::kRemove, path, {}, {}, fsys::is_directory(path)};
  if (!op.saved_dir) op.saved = ReadAll(path);
  AERO_RETURN_IF_ERROR(base_.Remove(path));
  files_.erase(path);
  const std::string dir = DirName(path);
  pending_[dir].push_back(op);
  order_.push_back({dir, pending_[dir].size() - 1});
  return Status::Ok();
}

Status FaultyFs::Truncate(const std::string& raw, uint64_t size) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string path = Norm(raw);
  AERO_RETURN_IF_ERROR(Step());
  AERO_RETURN_IF_ERROR(base_.Truncate(path, size));
  FileSynced(path);  // Truncate fsyncs
  return Status::Ok();
}

Status FaultyFs::MakeDir(const std::string& raw) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string path = Norm(raw);
  AERO_RETURN_IF_ERROR(Step());
  const bool existed = fsys::is_directory(path);
  AERO_RETURN_IF_ERROR(base_.MakeDir(path));
  if (!existed) {
    const std::string dir = DirName(path);
    pending_[dir].push_back({DirOp::kMkdir, path, {}, {}, true});
    order_.push_back({dir, pending_[dir].size() - 1});
  }
  return Status::Ok();
}

Result<FileInfo> FaultyFs::Stat(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return base_.Stat(path);
}
Result<std::vector<DirEntry>> FaultyFs::ListDir(const std::string& dir) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return base_.ListDir(dir);
}
Result<std::unique_ptr<FileLock>> FaultyFs::Lock(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return base_.Lock(path);
}

void FaultyFs::PowerLoss() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::error_code ec;
  // 1. Undo directory changes that no directory fsync made durable, newest first.
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const DirOp& op = pending_[it->first][it->second];
    switch (op.kind) {
      case DirOp::kCreate:
        fsys::remove(op.a, ec);
        files_.erase(op.a);
        break;
      case DirOp::kMkdir:
        fsys::remove_all(op.a, ec);
        break;
      case DirOp::kRename:
        fsys::rename(op.b, op.a, ec);
        Rekey(op.b, op.a);
        if (op.saved_dir) {
          fsys::create_directory(op.b, ec);
        } else if (op.saved) {
          WriteAll(op.b, *op.saved);
        }
        break;
      case DirOp::kExchange:
        (void)base_.Exchange(op.a, op.b);  // swapping again undoes it
        SwapKeys(op.a, op.b);
        break;
      case DirOp::kRemove:
        if (op.saved_dir) {
          fsys::create_directory(op.a, ec);
        } else if (op.saved) {
          WriteAll(op.a, *op.saved);
        }
        break;
    }
  }
  pending_.clear();
  order_.clear();
  // 2. Every tracked file keeps only its durable bytes.
  for (auto& [path, t] : files_) {
    if (!fsys::exists(path)) continue;
    if (t.use_prefix) {
      if (fsys::file_size(path) > t.prefix) fsys::resize_file(path, t.prefix, ec);
    } else if (t.full) {
      WriteAll(path, *t.full);
    } else {
      // Created and never fsynced, but its directory entry survived: empty.
      fsys::resize_file(path, 0, ec);
    }
  }
  files_.clear();
  crash_at_ = 0;
  crashed_ = false;
}

}  // namespace aero::testing
