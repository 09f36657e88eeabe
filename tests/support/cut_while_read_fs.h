// A file system whose victim file ends early at one read: `cp` over it
// truncated the file, and it grew back to its old size by the next look
// (FM-20 tests).
#pragma once

#include <memory>
#include <string>

#include "support/forwarding_fs.h"

namespace aero::testing {

// The victim's read number `cut` (counting Read and ReadAt calls on every
// open of it) finds the end of the file: `cp` over it truncated it, and it
// has grown back to the same size by the next look.
class CutWhileReadFs final : public ForwardingFs {
 public:
  CutWhileReadFs(std::string victim, int cut) : victim_(std::move(victim)), cut_(cut) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenRead(p));
    if (p != victim_) return f;
    return std::unique_ptr<ReadableFile>(new File(std::move(f), this));
  }
  int reads = 0;

 private:
  class File final : public ForwardingFile {
   public:
    File(std::unique_ptr<ReadableFile> f, CutWhileReadFs* fs) : ForwardingFile(std::move(f)), fs_(fs) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (++fs_->reads == fs_->cut_) return size_t{0};
      return ForwardingFile::Read(buf, n);
    }
    Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
      if (++fs_->reads == fs_->cut_) return size_t{0};
      return ForwardingFile::ReadAt(off, buf, n);
    }

   private:
    CutWhileReadFs* fs_;
  };
  std::string victim_;
  int cut_;
};

}  // namespace aero::testing
