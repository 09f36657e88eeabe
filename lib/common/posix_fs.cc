#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <stdio.h>  // renameat2

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "common/lock_test_hook.h"

namespace aero {

std::string IoHint(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return "free space on that file system, then re-run: nothing acknowledged was lost";
    case EIO:
      return "the disk reported an error (see dmesg); re-run once it is healthy: nothing "
             "acknowledged was lost";
    case EACCES:
    case EPERM:
    case EROFS:
      return "check the permissions and that the file system is mounted writable, then re-run";
    case ELOOP:
      // Two causes give ELOOP: a symlink at the last component of a path
      // opened with O_NOFOLLOW (our own files, LOG-3), or a loop of
      // symlinks anywhere in the path (a -D that names one).
      return "a symlink stands where aerodb-repl keeps its own file (it is never followed), or "
             "the path runs through a loop of symlinks: remove or fix the symlink, then re-run";
    case EMFILE:
    case ENFILE:
      return "too many open files: raise the open-file limit (ulimit -n) or close what holds them, "
             "then re-run: nothing acknowledged was lost";
    case EFBIG:
      return "the file is larger than the process may write (ulimit -f) or the file system allows: "
             "raise the limit, then re-run: nothing acknowledged was lost";
    case ENOMEM:
      return "out of memory: free memory, or raise the address-space limit (ulimit -v), then re-run: "
             "nothing acknowledged was lost";
    case ENAMETOOLONG:
      // Beside NAME the toolkit makes `.NAME.<op>.lock` (MODEL-10) and
      // `.NAME.sig.RAND.tmp` (an export's sidecar): up to 26 bytes longer.
      return "a name is longer than the file system allows (255 bytes a component, with the "
             "toolkit's temp and lock names beside it: up to 26 more): give a shorter name";
    default:
      return "fix the file system, then re-run: nothing acknowledged was lost";
  }
}
namespace {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  Code code = Code::kIo;
  if (err == ENOENT || err == ENOTDIR) {
    // Something stands at PATH itself: a symbolic link to nothing, or a
    // file where a directory is needed. That is not absence (FM-137): a
    // node file behind a dangling link, a trust directory replaced by a
    // file, are faults to fix, never "no such file, carry on without it".
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && (S_ISLNK(st.st_mode) || (err == ENOTDIR && !S_ISDIR(st.st_mode)))) {
      // (A file that appeared after ENOENT is a race with its creator: absent.)
      const bool link = S_ISLNK(st.st_mode);
      return Status(Code::kIo,
                    Problem(what, path,
                            link ? "a symbolic link to nothing (or through a path that is not a directory)"
                                 : "not a directory"),
                    link ? "remove the link or restore what it points to, then re-run"
                         : "remove what stands in the directory's place (or restore the directory), then re-run");
    }
    code = Code::kNotFound;
  }
  // A caller that expects a file may be absent says so in its own words; a
  // kNotFound that reaches the operator as it is still says what to check.
  return Status(code, Problem(what, path, std::strerror(err)),
                code == Code::kIo ? IoHint(err)
                                  : "check the path: it names nothing that exists (a typo, a "
                                    "file removed meanwhile, or a file system not mounted?)");
}

// Every file aerodb-repl opens is a regular file: a FIFO, socket or device
// planted where a node file, segment or key is read (or written) could block
// the run forever or never end (the fault model's special files). Opened
// with O_NONBLOCK, which a regular file ignores, so that the open itself
// cannot wait for a FIFO's other end; then refused here, 10 with a hint.
Status RequireRegularFile(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return Status::Ok();  // a directory fails at read
  const char* what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a device";
  return Status(Code::kIo,
                Problem("not a regular file", path,
                        std::string(what) + ": reading or writing it could block or never end"),
                "remove what stands in the file's place (or restore the file), then re-run");
}

class PosixWritable final : public WritableFile {
 public:
  PosixWritable(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritable() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("cannot write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      Written(static_cast<uint64_t>(n));
    }
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("cannot write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("cannot fsync", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("cannot close", path_, errno);
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }

 private:
  // Starts the disk writing what was appended, every kWritebackBytes, so
  // that the fsync that follows finds most of it done: writing overlaps
  // with reading, hashing and copying instead of waiting for the end. A
  // hint only: durability still comes from Sync().
  static constexpr uint64_t kWritebackBytes = 4u << 20;
  void Written(uint64_t n) {
    unkicked_ += n;
    if (unkicked_ < kWritebackBytes) return;
    unkicked_ = 0;
    (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);  // to the end of the file
  }

  int fd_;
  std::string path_;
  uint64_t unkicked_ = 0;
};

FileInfo InfoOf(const struct stat& st);

class PosixReadable final : public ReadableFile {
 public:
  PosixReadable(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadable() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return ErrnoStatus("cannot read", path_, errno);
    }
  }
  Status Seek(uint64_t offset) override {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return ErrnoStatus("cannot seek", path_, errno);
    }
    return Status::Ok();
  }
  bool SupportsReadAt() const override { return true; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return ErrnoStatus("cannot read", path_, errno);
    }
  }
  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<FileInfo> Info() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path_, errno);
    return InfoOf(st);
  }
  Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("cannot fsync", path_, errno);
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string path_;
};


class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.is_dir = S_ISDIR(st.st_mode);
  info.is_regular = S_ISREG(st.st_mode);
  info.is_symlink = S_ISLNK(st.st_mode);
  info.size = static_cast<uint64_t>(st.st_size);
  info.device = static_cast<uint64_t>(st.st_dev);
  info.inode = static_cast<uint64_t>(st.st_ino);
  info.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                  static_cast<uint64_t>(st.st_mtim.tv_nsec);
  return info;
}

// A directory of our own is one we can use: under umask 277 it was made
// r-x for us, and every later run failed inside it (a trial's
// replication/shipped/). Only a directory we own, never through a symlink;
// the umask still decides what others get.
void OwnerCanUse(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & S_IRWXU) != S_IRWXU) {
    (void)::fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
  }
  ::close(fd);
}

class Posix final : public Fs {
 public:
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    if (Status regular = RequireRegularFile(fd, path); !regular.ok()) {
      ::close(fd);
      return regular;
    }
    return std::unique_ptr<ReadableFile>(std::make_unique<PosixReadable>(fd, path));
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                  OpenMode mode) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK;
    if (mode == OpenMode::kCreateExclusive) flags |= O_EXCL;
    // Created or truncated files are our own (temp files, node files): a
    // symlink planted there is never written through (LOG-3).
    if (mode == OpenMode::kTruncate) flags |= O_TRUNC | O_NOFOLLOW;
    if (mode == OpenMode::kAppend) flags |= O_APPEND;
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
      if (errno == EEXIST) {
        return Status(Code::kRefused, Problem("already exists", path));
      }
      return ErrnoStatus("cannot create", path, errno);
    }
    if (Status regular = RequireRegularFile(fd, path); !regular.ok()) {
      ::close(fd);
      return regular;
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritable>(fd, path));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("cannot rename", from, errno);
    }
    return Status::Ok();
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return Status::Ok();
    }
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {  // no RENAME_NOREPLACE here: link is exclusive too
      if (::link(from.c_str(), to.c_str()) == 0) {
        ::unlink(from.c_str());
        return Status::Ok();
      }
      err = errno;
    }
    if (err == EEXIST) return Status(Code::kRefused, Problem("already exists", to));
    return ErrnoStatus("cannot rename", from, err);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) {
      return Status::Ok();
    }
    const int err = errno;
    const std::string both = a + "' and '" + b;  // "cannot swap 'A' and 'B': ..."
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
      return Status(Code::kIo,
                    Problem("cannot swap", both,
                            std::string("the file system does not support renameat2 "
                                        "RENAME_EXCHANGE (") + std::strerror(err) + ")"),
                    "nothing was changed; move the directory aside yourself, then install "
                    "into the absent directory");
    }
    return ErrnoStatus("cannot swap", both, err);
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("cannot fsync directory", dir, err);
    return Status::Ok();
  }
  Status Remove(const std::string& path) override {
    if (::remove(path.c_str()) != 0) return ErrnoStatus("cannot remove", path, errno);
    return Status::Ok();
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    int rc = ::ftruncate(fd, static_cast<off_t>(size));
    if (rc == 0) rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("cannot truncate", path, err);
    return Status::Ok();
  }
  Status MakeDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) {
      OwnerCanUse(path);
      return Status::Ok();
    }
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      OwnerCanUse(path);  // one made so before (a crash before the chmod, an older build)
      return Status::Ok();
    }
    return ErrnoStatus("cannot create directory", path, err);
  }
  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
    return InfoOf(st);
  }
  Result<FileInfo> LStat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
    return InfoOf(st);
  }
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    std::vector<DirEntry> out;
    AERO_RETURN_IF_ERROR(ListDirEach(dir, [&](DirEntry& e) {
      out.push_back(std::move(e));
      return true;
    }));
    std::sort(out.begin(), out.end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return out;
  }
  Status ListDirEach(const std::string& dir, const std::function<bool(DirEntry&)>& each) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("cannot list directory", dir, errno);
    for (;;) {
      // FM-139: readdir's NULL is the end only when errno is untouched; an
      // EIO part-way was taken for the end (no trusted keys, no
      // registration to pin a segment, a schema file not exported).
      errno = 0;
      struct dirent* e = ::readdir(d);
      if (e == nullptr) {
        const int err = errno;
        ::closedir(d);
        if (err != 0) return ErrnoStatus("cannot list directory", dir, err);
        return Status::Ok();
      }
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      // The entry's own type, never followed: the directory entry's d_type
      // where the file system fills it in (ext4, xfs, btrfs, tmpfs), else an
      // lstat. A listing of 10,000 segments made 10,000 lstat calls, most of
      // a no-op apply-wal's time (LOG-28: a run costs a listing).
      mode_t type = 0;
      switch (e->d_type) {
        case DT_REG: type = S_IFREG; break;
        case DT_DIR: type = S_IFDIR; break;
        case DT_LNK: type = S_IFLNK; break;
        case DT_UNKNOWN: {
          struct stat st;
          if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            type = st.st_mode & S_IFMT;
          } else if (errno != ENOENT) {  // gone since the listing: no entry; anything else: FM-139
            const int err = errno;
            ::closedir(d);
            return ErrnoStatus("cannot stat", JoinPath(dir, std::string(name)), err);
          } else {
            continue;
          }
          break;
        }
        default: type = S_IFIFO; break;  // a FIFO, socket or device: none of the three
      }
      DirEntry entry;
      entry.name = name;
      entry.is_dir = S_ISDIR(type);
      entry.is_regular = S_ISREG(type);
      entry.is_symlink = S_ISLNK(type);
      if (!each(entry)) {  // LOG-33: the caller has what it needs
        ::closedir(d);
        return Status::Ok();
      }
    }
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    // MODEL-10: the holder removes the lock file when it is done, so the
    // file this run opened may be gone from the name by the time its flock
    // succeeds; a lock on it would exclude no one. The name must still
    // name the locked file, else the lock is taken again on what is there.
    for (int attempt = 0;; ++attempt) {
      // Our own file: a symlink there is never followed (LOG-3; ELOOP's
      // hint says so), nor is a FIFO or device opened for the lock.
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
      if (fd < 0 && errno == EACCES) {
        // A lock file of our own a run under a strict umask left behind
        // (mode 0400): flock needs no write access on a local file system,
        // so it does not stop every later run. Only our own: a file another
        // user could open and hold would let that user stop every run.
        const int ro = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat own {};
        if (ro >= 0 && ::fstat(ro, &own) == 0 && own.st_uid == ::geteuid()) {
          fd = ro;
        } else {
          if (ro >= 0) ::close(ro);
          errno = EACCES;  // the first open's error, not the fallback's (ENOENT)
        }
      }
      if (fd < 0) return ErrnoStatus("cannot open lock file", path, errno);
      if (Status regular = RequireRegularFile(fd, path); !regular.ok()) {
        ::close(fd);
        return regular;
      }
      if (g_lock_file_opened_for_test != nullptr) g_lock_file_opened_for_test(path);
      struct stat locked {};
      const bool known = ::fstat(fd, &locked) == 0;
      AERO_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock,
                            Flock(fd, path, "another aerodb or aerodb-repl run holds it"));
      struct stat named {};
      if (known && ::lstat(path.c_str(), &named) == 0 && named.st_dev == locked.st_dev &&
          named.st_ino == locked.st_ino) {
        return lock;
      }
      if (attempt >= 100) {
        return Status(Code::kLocked, Problem("locked", path, "its lock file keeps being replaced"),
                      "re-run once the other run has finished");
      }
    }
  }
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open directory", path, errno);
    struct statfs sfs {};
    if (::fstatfs(fd, &sfs) == 0 && LocksStayOnHost(static_cast<uint64_t>(sfs.f_type))) {
      ::close(fd);
      return std::unique_ptr<FileLock>();
    }
    int err = 0;
    Result<std::unique_ptr<FileLock>> lock =
        Flock(fd, path, "another aerodb-repl run holds a lock on this directory", &err);
    if (!lock.ok() && (err == EBADF || err == ENOLCK || err == EOPNOTSUPP || err == EINVAL)) {
      return std::unique_ptr<FileLock>();  // this file system cannot lock a directory
    }
    return lock;
  }

 private:
  // File systems whose locks may not reach the other hosts that write the
  // same directory (statfs(2) magic numbers).
  static bool LocksStayOnHost(uint64_t type) {
    switch (type) {
      case 0x6969:      // NFS
      case 0x517B:      // SMB
      case 0xFF534D42:  // CIFS
      case 0xFE534D42:  // SMB2
      case 0x65735546:  // FUSE
      case 0x01021997:  // 9p
      case 0x5346414F:  // AFS
      case 0x6B414653:  // kAFS
        return true;
      default:
        return false;
    }
  }

  // Exclusive, non-blocking; `fd` is the lock's, or closed on failure.
  // `*err_out` (nullable): flock's errno when it failed.
  static Result<std::unique_ptr<FileLock>> Flock(int fd, const std::string& path, const char* holder,
                                                 int* err_out = nullptr) {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err_out != nullptr) *err_out = err;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status(Code::kLocked, Problem("locked", path, holder), "re-run once the other run has finished");
      }
      return ErrnoStatus("cannot lock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixLock>(fd));
  }
};

}  // namespace

Result<std::string> RealPath(const std::string& path) {
  char* p = ::realpath(path.c_str(), nullptr);
  if (p == nullptr) return ErrnoStatus("cannot resolve", path, errno);
  std::string out(p);
  std::free(p);
  return out;
}

Status WritableFile::WriteAt(uint64_t, std::string_view) {
  return Status(Code::kInternal, Problem("no positional writes", path()));
}

Result<size_t> ReadableFile::ReadAt(uint64_t, char*, size_t) {
  return Status(Code::kInternal, Problem("no positional reads", path()));
}

Status ReadableFile::Sync() {
  return Status(Code::kInternal, Problem("cannot fsync", path(), "not a file of the file system"));
}

Status ReadExactlyAt(ReadableFile& file, uint64_t offset, char* buf, size_t n) {
  AERO_RETURN_IF_ERROR(file.Seek(offset));
  size_t done = 0;
  while (done < n) {
    AERO_ASSIGN_OR_RETURN(size_t got, file.Read(buf + done, n - done));
    if (got == 0) {
      return Status(Code::kDamage, Problem("file ends early", file.path(),
                                           "wanted " + std::to_string(n) + " bytes at offset " +
                                               std::to_string(offset)));
    }
    done += got;
  }
  return Status::Ok();
}

Status CutWhileReadStatus(const std::string& path) {
  return Status(Code::kInTransit, Problem("file in transit", path, kCutWhileRead),
                "re-run once the copy has finished");
}

Status ReadWithinSize(ReadableFile& file, uint64_t offset, char* buf, size_t n) {
  AERO_RETURN_IF_ERROR(file.Seek(offset));
  for (size_t done = 0; done < n;) {
    AERO_ASSIGN_OR_RETURN(size_t got, file.Read(buf + done, n - done));
    if (got == 0) return CutWhileReadStatus(file.path());
    done += got;
  }
  return Status::Ok();
}

Status WritableFile::AppendFrom(ReadableFile& src, uint64_t offset, uint64_t n) {
  constexpr size_t kChunk = 1 << 20;
  std::string buf(static_cast<size_t>(std::min<uint64_t>(n, kChunk)), '\0');
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
    AERO_RETURN_IF_ERROR(ReadExactlyAt(src, offset, buf.data(), k));
    AERO_RETURN_IF_ERROR(Append(std::string_view(buf.data(), k)));
    offset += k;
    n -= k;
  }
  return Status::Ok();
}

void (*g_lock_file_opened_for_test)(const std::string& path) = nullptr;

Fs& PosixFs() {
  static Posix fs;
  return fs;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string HiddenName(std::string_view name, std::string_view suffix) {
  std::string out;
  out.reserve(1 + name.size() + suffix.size());
  out.push_back('.');
  out.append(name);
  out.append(suffix);
  return out;
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

}  // namespace aero
