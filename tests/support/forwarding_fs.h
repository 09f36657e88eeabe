// PosixFs and its files with every call forwarded, for tests to override
// just the calls they watch or change (a file rewritten between two passes,
// a rename that fails, bytes counted, positional reads taken away).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/fs.h"

namespace aero::testing {

class ForwardingFs : public Fs {
 public:
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    return real_.OpenRead(p);
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    return real_.OpenWrite(p, m);
  }
  Status Rename(const std::string& a, const std::string& b) override { return real_.Rename(a, b); }
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    return real_.RenameNoReplace(a, b);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    return real_.Exchange(a, b);
  }
  Status SyncDir(const std::string& d) override { return real_.SyncDir(d); }
  Status Remove(const std::string& p) override { return real_.Remove(p); }
  Status Truncate(const std::string& p, uint64_t n) override { return real_.Truncate(p, n); }
  Status MakeDir(const std::string& p) override { return real_.MakeDir(p); }
  Result<FileInfo> Stat(const std::string& p) override { return real_.Stat(p); }
  Result<FileInfo> LStat(const std::string& p) override { return real_.LStat(p); }
  Result<std::vector<DirEntry>> ListDir(const std::string& d) override {
    return real_.ListDir(d);
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string& p) override { return real_.Lock(p); }
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& p) override {
    return real_.LockDirectory(p);
  }

 protected:
  Fs& real_ = PosixFs();
};

// Forwards to `f`, which it owns or borrows.
class ForwardingFile : public ReadableFile {
 public:
  explicit ForwardingFile(ReadableFile& f) : f_(f) {}
  explicit ForwardingFile(std::unique_ptr<ReadableFile> f) : owned_(std::move(f)), f_(*owned_) {}
  Result<size_t> Read(char* buf, size_t n) override { return f_.Read(buf, n); }
  Status Seek(uint64_t off) override { return f_.Seek(off); }
  bool SupportsReadAt() const override { return f_.SupportsReadAt(); }
  Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
    return f_.ReadAt(off, buf, n);
  }
  Result<uint64_t> Size() override { return f_.Size(); }
  Result<FileInfo> Info() override { return f_.Info(); }
  Status Sync() override { return f_.Sync(); }
  const std::string& path() const override { return f_.path(); }

 private:
  std::unique_ptr<ReadableFile> owned_;
  ReadableFile& f_;
};

// Forwards to `f`, which it owns; AppendFrom is left to WritableFile's
// default, so that every byte passes through Append (where tests count or
// probe).
class ForwardingWritable : public WritableFile {
 public:
  explicit ForwardingWritable(std::unique_ptr<WritableFile> f) : f_(std::move(f)) {}
  Status Append(std::string_view d) override { return f_->Append(d); }
  Status WriteAt(uint64_t offset, std::string_view d) override { return f_->WriteAt(offset, d); }
  Status Sync() override { return f_->Sync(); }
  Status Close() override { return f_->Close(); }
  const std::string& path() const override { return f_->path(); }

 private:
  std::unique_ptr<WritableFile> f_;
};

}  // namespace aero::testing
