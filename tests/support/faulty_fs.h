// A file-system layer for crash tests (STYLE.md: LevelDB/pgBackRest harness).
//
// Wraps a real Fs. Every mutating step (open for write, append, fsync, rename,
// directory fsync, remove, truncate, mkdir) is counted. CrashAt(n) makes the
// nth step and every later one fail as if the machine died there; an append at
// the crash step writes only the first half of its bytes (a torn write).
// PowerLoss() then rolls the real directory back to what a strict file system
// would have kept: file bytes never fsynced are lost, and directory changes
// (create, rename, remove, mkdir) never followed by an fsync of their directory
// are undone, newest first.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"

namespace aero::testing {

class FaultyFs final : public Fs {
 public:
  explicit FaultyFs(Fs& base = PosixFs()) : base_(base) {}

  // Every method may be called from several threads (ship-wal publishes two
  // segments at once): one lock orders the steps.
  void CrashAt(uint64_t step) {
    std::lock_guard<std::recursive_mutex> l(mu_);
    crash_at_ = step;
  }
  uint64_t steps() const {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return steps_;
  }
  bool crashed() const {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return crashed_;
  }
  std::recursive_mutex& mutex() const { return mu_; }
  // A transient fault: step `step` fails once with errno `err` (ENOSPC,
  // EIO) as the file system reports it (an Append writes half its bytes
  // first), and every later step succeeds: the disk-full run and its re-run.
  void FailOnceAt(uint64_t step, int err) {
    std::lock_guard<std::recursive_mutex> l(mu_);
    fail_at_ = step;
    fail_errno_ = err;
    failed_ = false;
  }
  bool failed() const {  // the transient fault was injected
    std::lock_guard<std::recursive_mutex> l(mu_);
    return failed_;
  }
  // The step the transient fault hit, where it was named ("append PATH").
  std::string failed_op() const {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return failed_op_;
  }
  // A full disk under `dir`: every append of a byte to a file below it
  // fails with ENOSPC and writes nothing; creating an empty file, renames,
  // fsyncs and everything elsewhere succeed, as on a real full file system.
  // Not a step. An empty `dir` ends it.
  void DiskFullUnder(const std::string& dir) {
    std::lock_guard<std::recursive_mutex> l(mu_);
    full_under_ = dir.empty() ? std::string() : Norm(dir);
  }
  bool FullAt(const std::string& path) const {
    std::lock_guard<std::recursive_mutex> l(mu_);
    if (full_under_.empty()) return false;
    const std::string p = Norm(path);
    return p.rfind(full_under_ + "/", 0) == 0;
  }
  // Rolls back un-fsynced state (see above) and clears the crash.
  void PowerLoss();
  // The process died but the machine did not: the crash is cleared and
  // unsynced bytes stay pending, so a later PowerLoss() can still drop them.
  void ProcessRestart() {
    std::lock_guard<std::recursive_mutex> l(mu_);
    crash_at_ = 0;
    crashed_ = false;
  }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                  OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RenameNoReplace(const std::string& from, const std::string& to) override;
  // One step; undone by a power loss unless the directory of `b` was fsynced
  // after it (both names must share that directory).
  Status Exchange(const std::string& a, const std::string& b) override;
  Status SyncDir(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status MakeDir(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<FileInfo> LStat(const std::string& path) override { return base_.LStat(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& path) override {
    return base_.LockDirectory(path);
  }

  // Used by the writable file wrapper.
  // Counts a step; fails from the crash step on, and at the transient
  // fault's step. `what` names the step ("append PATH") for failed_op().
  Status Step(std::string_view what = {});
  bool AtCrashStep() const {  // before Step()
    std::lock_guard<std::recursive_mutex> l(mu_);
    return crash_at_ != 0 && steps_ + 1 == crash_at_;
  }
  bool AtFailStep() const {  // before Step()
    std::lock_guard<std::recursive_mutex> l(mu_);
    return fail_at_ != 0 && steps_ + 1 == fail_at_;
  }
  void FileSynced(const std::string& path);
  // Bytes of `path` a power loss keeps (its durable prefix; 0 while only a
  // full copy from before its creation or truncation is durable).
  uint64_t DurableBytes(const std::string& path) const;

 private:
  struct FileTrack {
    // Durable content: either a full copy (after create/truncate, until the
    // first fsync) or a durable prefix length of the current file.
    std::optional<std::string> full;  // nullopt with existed=false: absent
    bool existed = true;
    uint64_t prefix = 0;
    bool use_prefix = false;
  };
  struct DirOp {
    enum Kind { kCreate, kRename, kRemove, kMkdir, kExchange } kind;
    std::string a, b;  // path (create/remove/mkdir) or from/to (rename, exchange)
    std::optional<std::string> saved;  // overwritten/removed file content
    bool saved_dir = false;            // the overwritten/removed entry was a directory
  };

  static std::string Norm(const std::string& p);
  void TrackBeforeWrite(const std::string& path, bool truncating);
  void Rekey(const std::string& from, const std::string& to);
  void SwapKeys(const std::string& a, const std::string& b);

  Fs& base_;
  mutable std::recursive_mutex mu_;
  uint64_t crash_at_ = 0;
  uint64_t steps_ = 0;
  bool crashed_ = false;
  uint64_t fail_at_ = 0;
  int fail_errno_ = 0;
  bool failed_ = false;
  std::string failed_op_;
  std::string full_under_;
  std::map<std::string, FileTrack> files_;
  std::map<std::string, std::vector<DirOp>> pending_;  // by parent directory
  std::vector<std::pair<std::string, size_t>> order_;   // (dir, index) in op order
};

}  // namespace aero::testing
