// Crash safety of `aerodb-repl init` (COMPAT-5, COMPAT-9): a simulated crash
// at every durable step, then power loss. The directory is enrolled whole or
// not at all, AeroDB's files are never changed, and a re-run enrols. A
// transient ENOSPC or EIO at every step is 10 with a hint, never 70.
#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>

#include "repl/enrol.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// An AeroDB directory: a reference node's files without its replication/.
void MakeAeroDir(const std::string& dir) {
  MakePrimary(dir, 20);
  fsys::remove_all(dir + "/replication");
}

Status InitWith(Fs& fs, const std::string& dir, bool re_enrol = false) {
  return repl::Enrol(fs, repl::EnrolOptions{dir, re_enrol}, nullptr);
}

std::string SystemIdOf(const std::string& dir) {
  auto id = node::LoadIdentity(PosixFs(), dir);
  return id.ok() ? id->system_id.ToHex() : std::string();
}

// Enrolled whole (a node that opens at commit 20) or not at all.
void CheckWholeOrNothing(const std::string& dir) {
  if (!fsys::exists(dir + "/replication")) return;
  auto n = node::Node::Open(PosixFs(), dir, node::Access::kRead);
  REQUIRE_MESSAGE(n.ok(), n.status().ToString());
  CHECK((*n)->state().applied_commit == 20);
  CHECK((*n)->enrolment());
}

}  // namespace

TEST_CASE("COMPAT-5 crash: init at every step, then power loss: not enrolled or enrolled, and a re-run enrols") {
  TempDir t;
  MakeAeroDir(t / "a0");
  const std::string wal = ReadFile(t / "a0/wal/wal.log");
  uint64_t total = 0;
  {
    CopyTree(t / "a0", t / "a");
    FaultyFs fs;
    REQUIRE(InitWith(fs, t / "a").ok());
    total = fs.steps();
  }
  MESSAGE("init crash points exercised: " << total);
  CHECK(total >= 8);
  int enrolled = 0, not_enrolled = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(t / "a0", t / "a");
    FaultyFs fs;
    fs.CrashAt(k);
    const bool said_enrolled = InitWith(fs, t / "a").ok();  // a crash in the cleanup after
    fs.PowerLoss();
    CheckWholeOrNothing(t / "a");
    if (said_enrolled) CHECK(fsys::exists(t / "a/replication"));  // what it said survives
    CHECK(ReadFile(t / "a/wal/wal.log") == wal);
    if (fsys::exists(t / "a/replication")) {
      ++enrolled;
      CHECK(InitWith(PosixFs(), t / "a").code() == Code::kRefused);
    } else {
      ++not_enrolled;
      REQUIRE(InitWith(PosixFs(), t / "a").ok());
      CheckWholeOrNothing(t / "a");
    }
    CHECK_FALSE(fsys::exists(t / "a/.replication.init.tmp"));
  }
  CHECK(enrolled > 0);
  CHECK(not_enrolled > 0);
}

TEST_CASE("COMPAT-9 crash: init --re-enrol at every step, then power loss: the old history, the new one, or none and init completes") {
  TempDir t;
  MakeAeroDir(t / "a0");
  REQUIRE(InitWith(PosixFs(), t / "a0").ok());
  const std::string old_id = SystemIdOf(t / "a0");
  uint64_t total = 0;
  {
    CopyTree(t / "a0", t / "a");
    FaultyFs fs;
    REQUIRE(InitWith(fs, t / "a", true).ok());
    total = fs.steps();
  }
  MESSAGE("re-enrol crash points exercised: " << total);
  int kept = 0, replaced = 0, none = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(t / "a0", t / "a");
    FaultyFs fs;
    fs.CrashAt(k);
    (void)InitWith(fs, t / "a", true);
    fs.PowerLoss();
    CheckWholeOrNothing(t / "a");
    if (!fsys::exists(t / "a/replication")) {
      ++none;
      REQUIRE(InitWith(PosixFs(), t / "a").ok());
    } else if (SystemIdOf(t / "a") == old_id) {
      ++kept;
    } else {
      ++replaced;
    }
    CheckWholeOrNothing(t / "a");
  }
  CHECK(kept > 0);
  CHECK(replaced > 0);
  MESSAGE("re-enrol after a crash: old kept " << kept << ", new " << replaced << ", none " << none);
}

TEST_CASE("COMPAT-5 fault: init with ENOSPC or EIO at every step is 10 with a hint, and a re-run enrols") {
  TempDir t;
  MakeAeroDir(t / "a0");
  uint64_t total = 0;
  {
    CopyTree(t / "a0", t / "a");
    FaultyFs fs;
    REQUIRE(InitWith(fs, t / "a").ok());
    total = fs.steps();
  }
  for (int err : {ENOSPC, EIO}) {
    for (uint64_t k = 1; k <= total; ++k) {
      CAPTURE(err);
      CAPTURE(k);
      CopyTree(t / "a0", t / "a");
      FaultyFs fs;
      fs.FailOnceAt(k, err);
      Status s = InitWith(fs, t / "a");
      if (fs.failed() && !s.ok()) {
        CHECK(s.code() == Code::kIo);
        CHECK_FALSE(s.hint().empty());
      }
      CHECK(s.code() != Code::kInternal);
      if (!fsys::exists(t / "a/replication")) REQUIRE(InitWith(PosixFs(), t / "a").ok());
      CheckWholeOrNothing(t / "a");
    }
  }
}
