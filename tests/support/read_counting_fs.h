// An Fs that forwards to PosixFs() and counts the bytes read from each path,
// to show that a step does not read a file at all (NODE-11: a duplicate check
// that needs no scan of wal/wal.log).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/fs.h"

namespace aero::testing {

class ReadCountingFs final : public Fs {
 public:
  // Bytes read so far from files whose path ends with `suffix`.
  uint64_t BytesRead(const std::string& suffix) const {
    uint64_t n = 0;
    for (const auto& [path, bytes] : *read_) {
      if (path.size() >= suffix.size() &&
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        n += bytes;
      }
    }
    return n;
  }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    AERO_ASSIGN_OR_RETURN(auto f, base_.OpenRead(path));
    return std::unique_ptr<ReadableFile>(new Counted(std::move(f), &(*read_)[path]));
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path, OpenMode mode) override {
    return base_.OpenWrite(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    return base_.RenameNoReplace(from, to);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    return base_.Exchange(a, b);
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(dir); }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_.Truncate(path, size);
  }
  Status MakeDir(const std::string& path) override { return base_.MakeDir(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Result<FileInfo> LStat(const std::string& path) override { return base_.LStat(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    return base_.Lock(path);
  }

 private:
  class Counted final : public ReadableFile {
   public:
    Counted(std::unique_ptr<ReadableFile> f, uint64_t* count) : f_(std::move(f)), count_(count) {}
    Result<size_t> Read(char* buf, size_t n) override {
      Result<size_t> got = f_->Read(buf, n);
      if (got.ok()) *count_ += *got;
      return got;
    }
    Status Seek(uint64_t off) override { return f_->Seek(off); }
    Result<uint64_t> Size() override { return f_->Size(); }
    Result<FileInfo> Info() override { return f_->Info(); }
    const std::string& path() const override { return f_->path(); }

   private:
    std::unique_ptr<ReadableFile> f_;
    uint64_t* count_;
  };

  Fs& base_ = PosixFs();
  // Pointers into the map stay valid (std::map nodes never move).
  std::unique_ptr<std::map<std::string, uint64_t>> read_ =
      std::make_unique<std::map<std::string, uint64_t>>();
};

}  // namespace aero::testing
