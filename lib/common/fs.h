// The file-system seam. Every durable step of the toolkit (open for write,
// write, fsync, rename, directory fsync, unlink, truncate, mkdir, lock) goes
// through Fs, so that tests can substitute a layer that fails or "crashes" at
// the Nth step and forgets whatever was never fsynced
// (tests/support/faulty_fs.h). Production code uses PosixFs().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace aero {

enum class OpenMode {
  kCreateExclusive,  // fail with kRefused if the path exists (O_EXCL)
  kTruncate,         // create or truncate
  kAppend,           // create if absent, write at the end
};

struct FileInfo {
  bool is_dir = false;
  bool is_regular = false;
  bool is_symlink = false;  // LStat only
  uint64_t size = 0;
  uint64_t device = 0;  // with inode: the file's identity, to detect a replacement
  uint64_t inode = 0;
  uint64_t mtime_ns = 0;  // last modification, ns since the epoch
};

class ReadableFile;

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Appends bytes [offset, offset + n) of `src`; kDamage if `src` ends
  // first. Reads and appends in chunks of 1 MiB (pread + write: on ext4 this
  // costs a third less CPU than copy_file_range, which goes through splice).
  virtual Status AppendFrom(ReadableFile& src, uint64_t offset, uint64_t n);
  // Overwrites bytes [offset, offset + data.size()) that were appended
  // before (pwrite); the end of the file does not move. For a header that
  // comes first but is known last (LOG-30), before the file's first Sync.
  // kInternal where the file cannot (a stream, an encryption envelope).
  virtual Status WriteAt(uint64_t offset, std::string_view data);
  // fsync: on return ok, every byte appended so far is durable.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at the current position; 0 means end of file.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual Status Seek(uint64_t offset) = 0;
  // Reads up to n bytes at `offset` without moving the position; 0 means end
  // of file. Where SupportsReadAt(), several threads may call it at once on
  // one file (pread); elsewhere it is kInternal and callers read in order.
  virtual bool SupportsReadAt() const { return false; }
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n);
  virtual Result<uint64_t> Size() = 0;
  // Identity (device, inode) and size of the open file.
  virtual Result<FileInfo> Info() = 0;
  // fsync of the file through this read-only handle: every byte any process
  // wrote to it before the call is durable on return ok (LOG-25: a shipper
  // makes a live writer's complete write sets durable before cutting them).
  // kInternal where the file is not a file of the file system.
  virtual Status Sync();
  virtual const std::string& path() const = 0;
};

// A ReadableFile whose Read and Seek are a position over its ReadAt: a
// subclass implements ReadAt (and says whether several threads may call it
// at once: SupportsReadAt).
class PositionalReadableFile : public ReadableFile {
 public:
  Result<size_t> Read(char* buf, size_t n) final {
    AERO_ASSIGN_OR_RETURN(size_t got, ReadAt(pos_, buf, n));
    pos_ += got;
    return got;
  }
  Status Seek(uint64_t offset) final {
    pos_ = offset;
    return Status::Ok();
  }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override = 0;

 private:
  uint64_t pos_ = 0;
};

// Reads exactly n bytes at `offset`; kDamage if the file ends first.
Status ReadExactlyAt(ReadableFile& file, uint64_t offset, char* buf, size_t n);

// FM-20: a file whose size was read first and that then ends early was cut
// while it was read (`cp` over it truncates, then writes): in transit,
// never damage.
inline constexpr std::string_view kCutWhileRead =
    "the file was cut while it was read (a copy is being written over it)";
// Reads exactly n bytes at `offset` of a file whose size says they are
// there; kInTransit (kCutWhileRead) if it ends first.
Status ReadWithinSize(ReadableFile& file, uint64_t offset, char* buf, size_t n);
Status CutWhileReadStatus(const std::string& path);

// Held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool is_regular = false;
  bool is_symlink = false;  // the entry itself (lstat): never followed
};

class Fs {
 public:
  virtual ~Fs() = default;
  virtual Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) = 0;
  // ENC-32: what this Fs shows of a file opened elsewhere (an object an
  // Archive read): the file itself here; a Fs that transforms what it reads
  // (crypto::DecryptingFs) shows the object as OpenRead shows a file.
  virtual Result<std::unique_ptr<ReadableFile>> View(std::unique_ptr<ReadableFile> raw) { return raw; }
  virtual Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                          OpenMode mode) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Like Rename, but kRefused (nothing changed) if `to` exists: publishing
  // never overwrites a file another writer published (renameat2
  // RENAME_NOREPLACE, or link + unlink where the file system lacks it).
  virtual Status RenameNoReplace(const std::string& from, const std::string& to) = 0;
  // Swaps two existing entries in one step (renameat2 RENAME_EXCHANGE): no
  // instant, crash included, in which either name is absent. A file system
  // without it (NFS, some FUSE file systems, kernels before 3.15) is kIo, nothing changed.
  virtual Status Exchange(const std::string& a, const std::string& b) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  // Removes a file or an empty directory.
  virtual Status Remove(const std::string& path) = 0;
  // Truncates to `size` and fsyncs the file.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Creates one directory; ok if it already exists as a directory.
  virtual Status MakeDir(const std::string& path) = 0;
  // kNotFound when absent. Stat follows a symlink; LStat describes the link.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  virtual Result<FileInfo> LStat(const std::string& path) = 0;
  // Entries except "." and "..", sorted by name.
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& dir) = 0;
  // LOG-33: the same entries one at a time, in the directory's own order,
  // none held: `each` returns false to stop early. An error part-way is
  // the listing's error (FM-139), after the entries given so far. This
  // default lists with ListDir (so a wrapper that only overrides ListDir
  // sees every listing); PosixFs reads the directory as it goes.
  virtual Status ListDirEach(const std::string& dir, const std::function<bool(DirEntry&)>& each) {
    AERO_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ListDir(dir));
    for (DirEntry& e : entries) {
      if (!each(e)) break;
    }
    return Status::Ok();
  }
  // Exclusive, non-blocking; kLocked when another process holds it.
  virtual Result<std::unique_ptr<FileLock>> Lock(const std::string& path) = 0;
  // LOG-31: an existing directory itself (flock on it; nothing is created
  // in it). Exclusive, non-blocking: kLocked when another process holds it;
  // a null lock (ok) when its file system cannot lock a directory for
  // every host (NFS, SMB, FUSE, 9p, AFS; or flock says EBADF, ENOLCK,
  // EOPNOTSUPP, EINVAL); kIo for any other failure.
  virtual Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& path) = 0;
};

// The process-wide POSIX implementation.
Fs& PosixFs();

// The hint for an I/O error of errno `err` (ENOSPC, EIO, ...): what the
// operator does next. Every kIo from the file system carries one.
std::string IoHint(int err);

// The canonical absolute path of an existing file or directory (realpath(3)).
Result<std::string> RealPath(const std::string& path);

// Path helpers (plain string manipulation, '/' separated).
std::string JoinPath(std::string_view a, std::string_view b);
std::string DirName(std::string_view path);
std::string BaseName(std::string_view path);
// "." + name + suffix: the name of an unfinished write beside `name`, which
// readers ignore (temp files, temp directories, lock files).
std::string HiddenName(std::string_view name, std::string_view suffix);

}  // namespace aero
