#include <doctest/doctest.h>

#include "common/fs.h"
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

TEST_CASE("exclusive create refuses an existing file") {
  TempDir t;
  WriteFile(t / "f", "x");
  auto w = PosixFs().OpenWrite(t / "f", OpenMode::kCreateExclusive);
  CHECK(w.status().code() == Code::kRefused);
  CHECK(ReadFile(t / "f") == "x");
}

TEST_CASE("open of a missing file is kNotFound with the path in the message") {
  TempDir t;
  auto r = PosixFs().OpenRead(t / "nope");
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().message().find(t / "nope") != std::string::npos);
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
