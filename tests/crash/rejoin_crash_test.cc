// Crash safety of rejoin (RECOV-10, FM-61): a crash at every durable step,
// then power loss; the node is the old primary or a whole replica, and the
// re-run finishes.
#include <doctest/doctest.h>

#include <filesystem>

#include "repl/promote.h"
#include "repl/rejoin.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

TEST_CASE("crash RECOV-10 FM-61: rejoin at every step, then the re-run finishes") {
  TempDir t;
  MakePrimary(t / "p0", 12);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  repl::ShipOptions so;
  so.data_dir = t / "p0";
  so.target = t / "arch";
  so.max_segment_bytes = 3000;
  so.claim_archive = true;
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  repl::PromoteOptions po;
  po.data_dir = t / "r";
  po.archive = t / "arch";
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  Write(t / "r", 3, 2);
  so.data_dir = t / "r";
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  uint64_t total = 0;
  {
    CopyTree(t / "p0", t / "p");
    FaultyFs fs;
    REQUIRE(repl::Rejoin(fs, {t / "p", t / "arch"}, nullptr).ok());
    total = fs.steps();
  }
  MESSAGE("rejoin crash points exercised: " << total);
  CHECK(total >= 4);
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(t / "p0", t / "p");
    FaultyFs fs;
    fs.CrashAt(k);
    (void)repl::Rejoin(fs, {t / "p", t / "arch"}, nullptr);
    fs.PowerLoss();
    const node::NodeState st = StateOf(t / "p");  // opens: RECOV-2 accepts what is left
    CHECK(st.applied_commit == 12);
    if (st.role == node::Role::kPrimary) {
      REQUIRE(repl::Rejoin(PosixFs(), {t / "p", t / "arch"}, nullptr).ok());
    } else {
      CHECK(repl::Rejoin(PosixFs(), {t / "p", t / "arch"}, nullptr).reason() == "notprimary");
    }
    REQUIRE(Apply(t / "p", t / "arch").ok());
    CheckSameHistory(t / "r", t / "p");
  }
}
