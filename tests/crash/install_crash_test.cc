// Crash safety of snapshot install and export (SNAP-10, MODEL-10): a crash at
// every durable step, then power loss: the target is either absent (install
// again) or a complete replica; never a half-installed one. An export crash
// never leaves a file under the archive's name.
#include <doctest/doctest.h>

#include <filesystem>

#include "repl/export.h"
#include "repl/install.h"
#include "snapshot/archive_reader.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {
void PrimaryWithBase(const TempDir& t) {
  MakePrimary(t / "p", 25);
  {
    auto n = node::Node::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 8, 3);
}
}  // namespace

TEST_CASE("crash: snapshot install at every step leaves nothing or a whole replica") {
  TempDir t;
  PrimaryWithBase(t);
  repl::ExportOptions eo;
  eo.data_dir = t / "p";
  eo.output = t / "a.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  uint64_t total = 0;
  {
    FaultyFs fs;
    repl::InstallOptions o{t / "count", t / "a.tar.zst", false};
    REQUIRE(repl::InstallSnapshot(fs, o, nullptr).ok());
    total = fs.steps();
  }
  MESSAGE("install crash points exercised: " << total);
  const node::NodeState want = StateOf(t / "p");
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("r" + std::to_string(k));
    FaultyFs fs;
    fs.CrashAt(k);
    repl::InstallOptions o{dir, t / "a.tar.zst", false};
    const bool acked = repl::InstallSnapshot(fs, o, nullptr).ok();
    fs.PowerLoss();
    if (FileExists(dir)) {
      auto n = node::Node::Open(PosixFs(), dir, node::Access::kRead);
      REQUIRE(n.ok());  // complete, or it would not be there
      CHECK((*n)->state().applied_commit == want.applied_commit);
      CHECK((*n)->state().applied_digest == want.applied_digest);
    } else {
      CHECK_FALSE(acked);  // an acknowledged install survives
      REQUIRE(repl::InstallSnapshot(PosixFs(), o, nullptr).ok());  // and a re-run converges
      CHECK(StateOf(dir).applied_commit == want.applied_commit);
    }
  }
}

TEST_CASE("crash: snapshot export at every step never leaves a partial archive under its name") {
  TempDir t;
  PrimaryWithBase(t);
  uint64_t total = 0;
  {
    FaultyFs fs;
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = t / "count.tar.zst";
    REQUIRE(repl::ExportSnapshot(fs, o, nullptr).ok());
    total = fs.steps();
  }
  MESSAGE("export crash points exercised: " << total);
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    FaultyFs fs;
    fs.CrashAt(k);
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = t / ("a" + std::to_string(k) + ".tar.zst");
    const bool acked = repl::ExportSnapshot(fs, o, nullptr).ok();
    fs.PowerLoss();
    if (FileExists(o.output)) {
      auto f = PosixFs().OpenRead(o.output);
      CHECK(snapshot::ReadArchive(**f).state == snapshot::ArchiveState::kValid);
    } else {
      CHECK_FALSE(acked);
    }
  }
}
