// An Fs held in memory, for the fuzz targets: the readers and writers of the
// small node files and WriteSegment run on it without touching the disk.
// Header-only (the fuzz binaries link no test support library). Enough of the
// seam for whole-file reads, atomic writes (NODE-1) and directories; Lock
// always succeeds; no durability is modelled (Sync is a no-op).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/fs.h"
#include "support/string_file.h"

namespace aero::testing {

class MemoryFs final : public Fs {
 public:
  // The bytes at `path`, replacing any (its directory need not exist).
  void Put(const std::string& path, std::string bytes) { files_[path] = std::move(bytes); }
  // nullptr when absent.
  const std::string* Get(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
  }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return NotFound(path);
    return std::unique_ptr<ReadableFile>(new StringFile(it->second, path));
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                  OpenMode mode) override {
    const bool exists = files_.count(path) > 0;
    if (mode == OpenMode::kCreateExclusive && exists) {
      return Status(Code::kRefused, Problem("cannot create", path, "file exists"));
    }
    if (mode != OpenMode::kAppend || !exists) files_[path].clear();
    return std::unique_ptr<WritableFile>(new File(&files_[path], path));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    auto it = files_.find(from);
    if (it == files_.end()) return NotFound(from);
    std::string bytes = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(bytes);
    return Status::Ok();
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    if (files_.count(to) > 0 || dirs_.count(to) > 0) {
      return Status(Code::kRefused, Problem("cannot rename", to, "file exists"));
    }
    return Rename(from, to);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    if (files_.count(a) == 0) return NotFound(a);
    if (files_.count(b) == 0) return NotFound(b);
    std::swap(files_[a], files_[b]);
    return Status::Ok();
  }
  Status SyncDir(const std::string&) override { return Status::Ok(); }
  Status Remove(const std::string& path) override {
    if (files_.erase(path) + dirs_.erase(path) == 0) return NotFound(path);
    return Status::Ok();
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    auto it = files_.find(path);
    if (it == files_.end()) return NotFound(path);
    it->second.resize(static_cast<size_t>(size), '\0');
    return Status::Ok();
  }
  Status MakeDir(const std::string& path) override {
    dirs_.insert(path);
    return Status::Ok();
  }
  Result<FileInfo> Stat(const std::string& path) override {
    FileInfo i;
    if (auto it = files_.find(path); it != files_.end()) {
      i.is_regular = true;
      i.size = it->second.size();
      return i;
    }
    if (dirs_.count(path) == 0) return NotFound(path);
    i.is_dir = true;
    return i;
  }
  Result<FileInfo> LStat(const std::string& path) override { return Stat(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    std::vector<DirEntry> out;
    const std::string prefix = dir + "/";
    for (const auto& [p, bytes] : files_) {
      if (p.compare(0, prefix.size(), prefix) == 0 && p.find('/', prefix.size()) == std::string::npos) {
        out.push_back({p.substr(prefix.size()), false, true, false});
      }
    }
    for (const std::string& p : dirs_) {
      if (p.compare(0, prefix.size(), prefix) == 0 && p.find('/', prefix.size()) == std::string::npos) {
        out.push_back({p.substr(prefix.size()), true, false, false});
      }
    }
    std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return out;
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string&) override {
    return std::unique_ptr<FileLock>(new FileLock());
  }
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string&) override {
    return std::unique_ptr<FileLock>(new FileLock());
  }

 private:
  class File final : public WritableFile {
   public:
    File(std::string* bytes, std::string path) : bytes_(bytes), path_(std::move(path)) {}
    Status Append(std::string_view data) override {
      bytes_->append(data);
      return Status::Ok();
    }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      if (offset > bytes_->size() || data.size() > bytes_->size() - offset) {
        return Status(Code::kInternal, Problem("write past the end", path_));
      }
      bytes_->replace(offset, data.size(), data);
      return Status::Ok();
    }
    Status Sync() override { return Status::Ok(); }
    Status Close() override { return Status::Ok(); }
    const std::string& path() const override { return path_; }

   private:
    std::string* bytes_;  // stable: std::map never moves its values
    std::string path_;
  };

  static Status NotFound(const std::string& path) {
    return Status(Code::kNotFound, Problem("no such file", path));
  }

  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
};

}  // namespace aero::testing
