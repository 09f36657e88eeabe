// A file system whose victim file ends early at one read: `cp` over it
// truncated the file, and it grew back to its old size by the next look
// (FM-20 tests).
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "repl/apply.h"
#include "repl/verify.h"
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

// FM-20 at every read of `victim`: for cut = 1, 2, ... apply-wal (a
// bootstrap of `replica` from `inbox`) and verify of `inbox`, each through
// `view` of a CutWhileReadFs, give 0 or 8 and never halt; then
// `converge()` (the copy done) must succeed. Ends once a run reads the
// victim fewer times than `cut`; returns how many reads were cut.
inline int SweepReadCuts(const std::string& victim, const std::string& inbox, const std::string& replica,
                         const std::function<Status(Fs& base, const std::function<Status(Fs&)>& use)>& view,
                         const std::function<Status()>& converge) {
  int swept = 0;
  for (int cut = 1;; ++cut) {
    CAPTURE(cut);
    std::filesystem::remove_all(replica);
    CutWhileReadFs base(victim, cut);
    REQUIRE(view(base, [&](Fs& fs) {
              repl::ApplyOptions o;
              o.data_dir = replica;
              o.inbox = inbox;
              repl::ApplyReport rep;
              const Status s = repl::ApplyWal(fs, o, &rep);
              CAPTURE(s.ToString());
              CHECK((s.ok() || s.code() == Code::kInTransit));
              if (s.code() == Code::kInTransit) CHECK(s.message().find(victim) != std::string::npos);
              CHECK_FALSE(rep.halted);
              return Status::Ok();
            }).ok());
    CutWhileReadFs vbase(victim, cut);
    REQUIRE(view(vbase, [&](Fs& fs) {
              auto v = repl::Verify(fs, inbox, {});
              REQUIRE(v.ok());
              CHECK((v->outcome() == Code::kOk || v->outcome() == Code::kInTransit));
              return Status::Ok();
            }).ok());
    REQUIRE(converge().ok());
    if (base.reads < cut) return swept;  // past the victim's last read: every read was cut once
    ++swept;
  }
}

}  // namespace aero::testing
