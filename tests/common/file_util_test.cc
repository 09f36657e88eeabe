#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "common/crc32.h"
#include "common/file_util.h"
#include "support/forwarding_fs.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("NODE-1 write atomically: new content, no temp file left") {
  TempDir t;
  const std::string p = t / "state.json";
  REQUIRE(WriteFileAtomically(PosixFs(), p, "one").ok());
  REQUIRE(WriteFileAtomically(PosixFs(), p, "two").ok());
  CHECK(ReadFile(p) == "two");
  CHECK_FALSE(FileExists(p + ".tmp"));
}

// A trial: 'status --metrics DIR' (a directory at the path) failed its
// rename and left DIR.tmp behind.
TEST_CASE("NODE-1 write atomically: a refused rename leaves no temp file") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  WriteFile(t / "target/keep", "x");
  Status s = WriteFileAtomically(PosixFs(), t / "target", "content");
  CHECK_FALSE(s.ok());
  CHECK_FALSE(FileExists(t / "target.tmp"));
  CHECK(ReadFile(t / "target/keep") == "x");
}

TEST_CASE("FM-139 StatIfThere: nothing there is nullopt, a fault is the fault, never absence") {
  TempDir t;
  WriteFile(t / "f", "x");
  Result<std::optional<FileInfo>> there = StatIfThere(PosixFs(), t / "f");
  REQUIRE(there.ok());
  REQUIRE(there->has_value());
  CHECK((*there)->size == 1);
  Result<std::optional<FileInfo>> none = StatIfThere(PosixFs(), t / "missing");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  struct FailingStat final : ForwardingFs {
    Result<FileInfo> Stat(const std::string& p) override {
      return Status(Code::kIo, Problem("cannot stat", p, "Input/output error"));
    }
  } failing;
  CHECK(StatIfThere(failing, t / "f").status().code() == Code::kIo);
}

TEST_CASE("read small file: refuses an oversize file as damage") {
  TempDir t;
  WriteFile(t / "big", std::string(100, 'x'));
  auto r = ReadSmallFile(PosixFs(), t / "big", 10);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().hint() == kTooLargeHint);  // every refusal carries a hint
  CHECK(ReadSmallFile(PosixFs(), t / "absent").status().code() == Code::kNotFound);
}

TEST_CASE("remove tree: removes nested content, ok when absent") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "a/b").ok());
  WriteFile(t / "a/b/f", "x");
  CHECK(RemoveTree(PosixFs(), t / "a").ok());
  CHECK_FALSE(FileExists(t / "a"));
  CHECK(RemoveTree(PosixFs(), t / "a").ok());
}

TEST_CASE("file crc32 and sha256: streamed over a large file") {
  TempDir t;
  std::string data(1 << 20, 'q');
  data[12345] = 'r';
  WriteFile(t / "f", data);
  CHECK(*FileCrc32(PosixFs(), t / "f") == Crc32(data));
  CHECK(*FileSha256(PosixFs(), t / "f") == Sha256::Of(data));
}

TEST_CASE("MODEL-10 a directory argument names the directory itself: DIR/. and DIR/ are DIR, . and .. are absolute") {
  CHECK(DirectoryArgument("e3/.") == "e3");
  CHECK(DirectoryArgument("e3/") == "e3");
  CHECK(DirectoryArgument("a//b/./c/") == "a/b/c");
  CHECK(DirectoryArgument("/") == "/");
  CHECK(DirectoryArgument("") == "");
  const std::string cwd = std::filesystem::current_path().lexically_normal().string();
  CHECK(DirectoryArgument(".") == cwd);
  CHECK(DirectoryArgument("./") == cwd);
  CHECK(DirectoryArgument("..") == std::filesystem::current_path().parent_path().string());
  CHECK(DirectoryArgument("no-such-dir-here/..") == "no-such-dir-here/..");  // the kernel refuses it: so do we
  // A .. after a symlink is the parent of what the link names, as for the
  // kernel: a text-only reading made -D cur/.. the directory holding cur.
  TempDir t;
  std::filesystem::create_directories(t / "replicas/r1/data");
  std::filesystem::create_directories(t / "work");
  std::filesystem::create_directory_symlink("../replicas/r1/data", t / "work/cur");
  const std::string r1 = std::filesystem::canonical(t / "replicas/r1").string();
  CHECK(DirectoryArgument(t / "work/cur/..") == r1);
  CHECK(DirectoryArgument(t / "work/cur/../") == r1);
  CHECK(DirectoryArgument(t / "work/cur/../data/.") == r1 + "/data");
  CHECK(DirectoryArgument(t / "work/../work/cur/..") == r1);
  // A .. after what does not resolve (a typo, a link to nothing, a file) is
  // left as given: never the directory that holds it.
  std::filesystem::create_directory_symlink("nowhere", t / "work/dangling");
  WriteFile(t / "work/file", "x");
  for (const std::string& p : {t / "work/typo/..", t / "work/dangling/..", t / "work/file/..",
                               t / "work/cur/../typo/../y"}) {
    CHECK(DirectoryArgument(p) == p);
  }
  // Whatever the form, BaseName is a real name, so siblings are made beside it.
  for (const char* p : {".", "e3/.", "e3/", ".."}) {
    const std::string base = BaseName(DirectoryArgument(p));
    CHECK(base != ".");
    CHECK(base != "..");
    CHECK(!base.empty());
  }
}

// MODEL-10: a -D that is a symlink names the directory it points to, so
// the temp directory is made beside that one and the rename replaces it;
// an empty -D and a symlink to nothing are usage errors before any work.
TEST_CASE("MODEL-10 a -D symlink resolves to its directory, a dangling one and an empty -D are 2") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "data1").ok());
  std::filesystem::create_directory_symlink(t / "data1", t / "r1");
  std::filesystem::create_directory_symlink(t / "nowhere", t / "r2");
  const std::string real = std::filesystem::canonical(t / "data1").string();
  CHECK(*ResolveDirectoryArgument(t / "r1") == real);
  CHECK(*ResolveDirectoryArgument(t / "r1/") == real);
  CHECK(*ResolveDirectoryArgument(t / "data1") == t / "data1");  // not a link: as given
  CHECK(*ResolveDirectoryArgument(t / "absent") == t / "absent");
  Result<std::string> dangling = ResolveDirectoryArgument(t / "r2");
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.status().code() == Code::kUsage);
  CHECK(dangling.status().message().find("a symlink to nothing") != std::string::npos);
  Result<std::string> empty = ResolveDirectoryArgument("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Code::kUsage);
}
