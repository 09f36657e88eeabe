#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <set>

#include "common/file_util.h"
#include "common/fs.h"
#include "common/lock_test_hook.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("NODE-6 lock: a second holder gets kLocked") {
  TempDir t;
  auto first = PosixFs().Lock(t / "lock");
  REQUIRE(first.ok());
  auto second = PosixFs().Lock(t / "lock");
  CHECK(second.status().code() == Code::kLocked);
  CHECK(second.status().message().find("locked '") == 0);
  first.value().reset();
  CHECK(PosixFs().Lock(t / "lock").ok());
}

namespace {
int lock_file_opens = 0;
}  // namespace

TEST_CASE("MODEL-10 a lock file its holder removes while this run takes the lock is locked again where the name now points") {
  TempDir t;
  const std::string path = t / "lock";
  lock_file_opens = 0;
  // The holder, done, removes the file between this run's open and flock.
  g_lock_file_opened_for_test = [](const std::string& p) {
    if (lock_file_opens++ == 0) ::unlink(p.c_str());
  };
  auto mine = PosixFs().Lock(path);
  g_lock_file_opened_for_test = nullptr;
  REQUIRE(mine.ok());
  CHECK(lock_file_opens == 2);  // the removed file was let go, the new one locked
  CHECK(FileExists(path));
  // The name names the file this run holds: a third run is refused.
  auto third = PosixFs().Lock(path);
  CHECK(third.status().code() == Code::kLocked);
}

TEST_CASE("MODEL-10 a lock file replaced at every attempt gives up with 7 after 100 retries, not forever") {
  TempDir t;
  const std::string path = t / "lock";
  lock_file_opens = 0;
  g_lock_file_opened_for_test = [](const std::string& p) {
    ++lock_file_opens;
    ::unlink(p.c_str());
  };
  auto mine = PosixFs().Lock(path);
  g_lock_file_opened_for_test = nullptr;
  CHECK(lock_file_opens == 101);
  CHECK(mine.status().code() == Code::kLocked);
  CHECK(mine.status().message() == "locked '" + path + "': its lock file keeps being replaced");
  CHECK(mine.status().hint() == "re-run once the other run has finished");
  // Once the name stays put, the lock is taken.
  CHECK(PosixFs().Lock(path).ok());
}

TEST_CASE("exclusive create refuses an existing file") {
  TempDir t;
  WriteFile(t / "f", "x");
  auto w = PosixFs().OpenWrite(t / "f", OpenMode::kCreateExclusive);
  CHECK(w.status().code() == Code::kRefused);
  CHECK(ReadFile(t / "f") == "x");
}

TEST_CASE("open of a missing file is kNotFound with the path in the message, and a hint") {
  TempDir t;
  auto r = PosixFs().OpenRead(t / "nope");
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().message().find(t / "nope") != std::string::npos);
  CHECK(r.status().hint().find("check the path") == 0);
  // Listing a missing directory too: what reaches the operator unchanged
  // (check-history --archive NONE) still says what to check.
  auto l = PosixFs().ListDir(t / "none");
  CHECK(l.status().code() == Code::kNotFound);
  CHECK(!l.status().hint().empty());
}

TEST_CASE("path helpers") {
  CHECK(JoinPath("a", "b") == "a/b");
  CHECK(JoinPath("a/", "b") == "a/b");
  CHECK(DirName("a/b/c") == "a/b");
  CHECK(DirName("c") == ".");
  CHECK(BaseName("a/b/c/") == "c");
}

TEST_CASE("exchange swaps two directories, and a missing side is kNotFound with nothing changed") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  WriteFile(t / "a/f", "from a");
  WriteFile(t / "b/g", "from b");
  REQUIRE(PosixFs().Exchange(t / "a", t / "b").ok());
  CHECK(ReadFile(t / "b/f") == "from a");
  CHECK(ReadFile(t / "a/g") == "from b");
  CHECK_FALSE(FileExists(t / "a/f"));
  CHECK(PosixFs().Exchange(t / "a", t / "none").code() == Code::kNotFound);
  CHECK(ReadFile(t / "a/g") == "from b");
}

TEST_CASE("special files: a FIFO is refused at open (10 with a hint), for reading, writing and locking, never waited on") {
  // The fault model's special files: a FIFO planted where a node file, a
  // segment or a key is read would block a run forever (no writer) or never
  // end. No other end is ever opened here: a blocking open would hang the test.
  TempDir t;
  const std::string fifo = t / "state.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r = PosixFs().OpenRead(fifo);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK(r.status().message() == "not a regular file '" + fifo +
                                    "': a FIFO: reading or writing it could block or never end");
  CHECK(!r.status().hint().empty());
  for (OpenMode mode : {OpenMode::kAppend, OpenMode::kTruncate}) {
    auto w = PosixFs().OpenWrite(fifo, mode);
    REQUIRE(!w.ok());
    CHECK(w.status().code() == Code::kIo);  // ENXIO (no reader) or the type check: never a wait
  }
  auto l = PosixFs().Lock(fifo);
  REQUIRE(!l.ok());
  CHECK(l.status().code() == Code::kIo);
  CHECK(l.status().message().find("not a regular file") == 0);
  // A socket is refused the same way; a regular file and a directory open.
  const std::string sock = t / "s";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(sock.size() < sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  auto rs = PosixFs().OpenRead(sock);
  ::close(fd);
  CHECK(rs.status().code() == Code::kIo);  // ENXIO at open: a socket is never read
  WriteFile(t / "f", "x");
  CHECK(PosixFs().OpenRead(t / "f").ok());
  CHECK(PosixFs().OpenWrite(t / "f", OpenMode::kAppend).ok());
}

TEST_CASE("LOG-3 NODE-6 the lock file is never opened through a symlink: 10 with the symlink hint, nothing created") {
  TempDir t;
  const std::string target = t / "elsewhere";
  std::filesystem::create_symlink(target, t / "lock");
  auto l = PosixFs().Lock(t / "lock");
  REQUIRE(!l.ok());
  CHECK(l.status().code() == Code::kIo);
  CHECK(l.status().hint().find("a symlink stands where aerodb-repl keeps its own file") == 0);
  CHECK(!std::filesystem::exists(target));  // the link's target was not created
  // A symlink to an existing file: that file is not locked either.
  WriteFile(target, "x");
  CHECK(PosixFs().Lock(t / "lock").status().code() == Code::kIo);
  CHECK(ReadFile(target) == "x");
}

TEST_CASE("a path through a loop of symlinks is 10, and the hint names the loop as well as a planted symlink") {
  TempDir t;
  std::filesystem::create_symlink(t / "b", t / "a");
  std::filesystem::create_symlink(t / "a", t / "b");
  auto r = PosixFs().OpenRead(t / "a" / "state.json");
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK(r.status().hint().find("loop of symlinks") != std::string::npos);
}

TEST_CASE("OPS-14 a resource limit's errno gets a hint that names the limit") {
  CHECK(IoHint(EMFILE).find("ulimit -n") != std::string::npos);
  CHECK(IoHint(ENFILE).find("ulimit -n") != std::string::npos);
  CHECK(IoHint(EFBIG).find("ulimit -f") != std::string::npos);
  CHECK(IoHint(ENOMEM).find("ulimit -v") != std::string::npos);
  CHECK(IoHint(ENAMETOOLONG).find("shorter name") != std::string::npos);
  // A name past NAME_MAX, as a -D whose lock file beside it is too long.
  TempDir t;
  const std::string longname = t / std::string(250, 'n');
  Result<std::unique_ptr<FileLock>> lock = PosixFs().Lock(JoinPath(DirName(longname), "." + BaseName(longname) + ".bootstrap.lock"));
  REQUIRE_FALSE(lock.ok());
  CHECK(lock.status().hint().find("shorter name") != std::string::npos);
}

TEST_CASE("LOG-33 FM-139 ListDirEach gives every entry once, stops when asked, and says an error") {
  TempDir t;
  std::set<std::string> want;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "f" + std::to_string(i);
    WriteFile(t / name, "x");
    want.insert(name);
  }
  std::filesystem::create_directory(t / "sub");
  std::multiset<std::string> got;
  bool sub_is_dir = false;
  REQUIRE(PosixFs().ListDirEach(t.path(), [&](DirEntry& e) {
    got.insert(e.name);
    if (e.name == "sub") sub_is_dir = e.is_dir && !e.is_regular;
    else CHECK(e.is_regular);
    return true;
  }).ok());
  want.insert("sub");
  CHECK(got == std::multiset<std::string>(want.begin(), want.end()));  // once each, no "." or ".."
  CHECK(sub_is_dir);
  int seen = 0;
  REQUIRE(PosixFs().ListDirEach(t.path(), [&](DirEntry&) { return ++seen < 10; }).ok());
  CHECK(seen == 10);  // stopped when asked
  // ListDir is the same entries, sorted.
  auto all = PosixFs().ListDir(t.path());
  REQUIRE(all.ok());
  REQUIRE(all->size() == want.size());
  CHECK(std::is_sorted(all->begin(), all->end(),
                       [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; }));
  Status missing = PosixFs().ListDirEach(t / "nowhere", [](DirEntry&) { return true; });
  CHECK(missing.code() == Code::kNotFound);
  Status file = PosixFs().ListDirEach(t / "f1", [](DirEntry&) { return true; });
  CHECK(!file.ok());
  CHECK(file.message().find("f1") != std::string::npos);
}
