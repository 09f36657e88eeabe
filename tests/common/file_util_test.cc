#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "common/crc32.h"
#include "common/file_util.h"
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

TEST_CASE("read small file: refuses an oversize file as damage") {
  TempDir t;
  WriteFile(t / "big", std::string(100, 'x'));
  auto r = ReadSmallFile(PosixFs(), t / "big", 10);
  CHECK(r.status().code() == Code::kDamage);
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

TEST_CASE("file crc32: streamed over a large file") {
  TempDir t;
  std::string data(1 << 20, 'q');
  WriteFile(t / "f", data);
  CHECK(*FileCrc32(PosixFs(), t / "f") == Crc32(data));
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
  CHECK(DirectoryArgument("x/..") == cwd);
  // Whatever the form, BaseName is a real name, so siblings are made beside it.
  for (const char* p : {".", "e3/.", "e3/", "x/.."}) {
    const std::string base = BaseName(DirectoryArgument(p));
    CHECK(base != ".");
    CHECK(base != "..");
    CHECK(!base.empty());
  }
}
