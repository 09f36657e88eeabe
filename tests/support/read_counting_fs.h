// An Fs that forwards to PosixFs() and counts the bytes read from each path,
// to show that a step does not read a file at all (NODE-11: a duplicate check
// that needs no scan of wal/wal.log). Counts from any thread.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "common/fs.h"
#include "support/forwarding_fs.h"

namespace aero::testing {

class ReadCountingFs final : public ForwardingFs {
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

  // Directory listings so far of paths that end with `suffix` (the cost
  // of a run with nothing new: one listing of its inbox or target).
  int Listings(const std::string& suffix) const {
    std::lock_guard<std::mutex> lock(*mu_);
    int n = 0;
    for (const std::string& dir : *listed_) {
      if (dir.size() >= suffix.size() && dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
    }
    return n;
  }

  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    {
      std::lock_guard<std::mutex> lock(*mu_);
      listed_->push_back(dir);
    }
    return real_.ListDir(dir);
  }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenRead(path));
    std::lock_guard<std::mutex> lock(*mu_);  // verify opens two files at once
    return std::unique_ptr<ReadableFile>(new Counted(std::move(f), &(*read_)[path]));
  }

 private:
  class Counted final : public ForwardingFile {
   public:
    Counted(std::unique_ptr<ReadableFile> f, std::atomic<uint64_t>* count)
        : ForwardingFile(std::move(f)), count_(count) {}
    Result<size_t> Read(char* buf, size_t n) override { return Count(ForwardingFile::Read(buf, n)); }
    Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
      return Count(ForwardingFile::ReadAt(off, buf, n));
    }

   private:
    Result<size_t> Count(Result<size_t> got) {
      if (got.ok()) *count_ += *got;
      return got;
    }
    std::atomic<uint64_t>* count_;
  };

  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::unique_ptr<std::vector<std::string>> listed_ = std::make_unique<std::vector<std::string>>();
  // Pointers into the map stay valid (std::map nodes never move).
  std::unique_ptr<std::map<std::string, std::atomic<uint64_t>>> read_ =
      std::make_unique<std::map<std::string, std::atomic<uint64_t>>>();
};

}  // namespace aero::testing
