// The crash-test layer itself must behave, or every crash test lies.
#include <doctest/doctest.h>

#include "common/file_util.h"
#include "support/faulty_fs.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("faulty fs: unsynced appends are lost at power loss, synced ones kept") {
  TempDir t;
  FaultyFs fs;
  auto f = fs.OpenWrite(t / "f", OpenMode::kTruncate);
  REQUIRE(fs.SyncDir(t.path()).ok());
  REQUIRE((*f)->Append("durable").ok());
  REQUIRE((*f)->Sync().ok());
  REQUIRE((*f)->Append("-lost").ok());
  fs.PowerLoss();
  CHECK(ReadFile(t / "f") == "durable");
}

TEST_CASE("faulty fs: a crash step fails it and every later step") {
  TempDir t;
  FaultyFs fs;
  fs.CrashAt(2);
  auto f = fs.OpenWrite(t / "f", OpenMode::kTruncate);  // step 1
  REQUIRE(f.ok());
  CHECK((*f)->Append("abcd").code() == Code::kIo);  // step 2: torn, half written
  CHECK(ReadFile(t / "f") == "ab");
  CHECK((*f)->Sync().code() == Code::kIo);
  CHECK(fs.crashed());
}

TEST_CASE("faulty fs: a rename without a directory fsync is undone") {
  TempDir t;
  WriteFile(t / "state", "old");
  FaultyFs fs;
  Status s = WriteFileAtomically(fs, t / "state", "new");
  REQUIRE(s.ok());
  CHECK(ReadFile(t / "state") == "new");
  fs.PowerLoss();  // everything was synced, dir included
  CHECK(ReadFile(t / "state") == "new");

  FaultyFs fs2;
  fs2.CrashAt(5);  // open, append, sync, rename ok; the directory fsync dies
  CHECK_FALSE(WriteFileAtomically(fs2, t / "state", "newer").ok());
  CHECK(ReadFile(t / "state") == "newer");
  fs2.PowerLoss();
  CHECK(ReadFile(t / "state") == "new");
}

TEST_CASE("faulty fs: a file created but never synced is gone after power loss") {
  TempDir t;
  FaultyFs fs;
  auto f = fs.OpenWrite(t / "x", OpenMode::kTruncate);
  REQUIRE((*f)->Append("data").ok());
  REQUIRE((*f)->Sync().ok());
  fs.PowerLoss();  // no directory fsync: the entry itself is not durable
  CHECK_FALSE(FileExists(t / "x"));
}

TEST_CASE("faulty fs: an exchange is undone by a power loss unless its directory was fsynced") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  WriteFile(t / "a/f", "from a");
  WriteFile(t / "b/g", "from b");
  {
    FaultyFs fs;
    REQUIRE(fs.Exchange(t / "a", t / "b").ok());
    CHECK(ReadFile(t / "b/f") == "from a");
    fs.PowerLoss();
    CHECK(ReadFile(t / "a/f") == "from a");
    CHECK(ReadFile(t / "b/g") == "from b");
  }
  {
    FaultyFs fs;
    REQUIRE(fs.Exchange(t / "a", t / "b").ok());
    REQUIRE(fs.SyncDir(t.path()).ok());
    fs.PowerLoss();
    CHECK(ReadFile(t / "b/f") == "from a");
    CHECK(ReadFile(t / "a/g") == "from b");
  }
  {
    FaultyFs fs;
    fs.CrashAt(1);
    CHECK(fs.Exchange(t / "a", t / "b").code() == Code::kIo);  // the crash step: nothing swapped
    CHECK(ReadFile(t / "a/g") == "from b");
  }
}
