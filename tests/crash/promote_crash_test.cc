// Crash safety of promote (MODEL-8, FM-43): a simulated crash at every
// durable step, then power loss (unsynced bytes and entries dropped). The
// node is never half a primary, and the re-run finishes the same claim or,
// when a rival claimed the epoch in between, reports the loss: of the two,
// exactly one ends as the primary of epoch 2.
#include <doctest/doctest.h>

#include <filesystem>

#include "history/history_file.h"
#include "repl/promote.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

Status PromoteWith(Fs& fs, const std::string& dir, const std::string& archive) {
  repl::PromoteOptions o;
  o.data_dir = dir;
  o.archive = archive;
  return repl::Promote(fs, o, nullptr);
}

// The node is a replica (with or without an intent) or the whole primary
// of epoch 2: its copy and the archive's file are one claim.
void CheckNotHalf(const std::string& dir, const std::string& archive) {
  const node::NodeState s = StateOf(dir);
  if (s.role == node::Role::kReplica) {
    CHECK(s.epoch == 1);
    return;
  }
  CHECK(s.epoch == 2);
  CHECK_FALSE(s.promoting);
  CHECK(ReadFile(dir + "/replication/history/00000002.history") == ReadFile(archive + "/00000002.history"));
}

}  // namespace

TEST_CASE("crash MODEL-8 FM-43: promote at every step, then the re-run finishes the claim") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "arch0").ok());
  auto id = node::LoadIdentity(PosixFs(), t / "p");
  REQUIRE(id.ok());
  WriteFile(t / "arch0" / std::string(history::kClaimArchiveMarker),
            history::EncodeClaimArchiveMarker(id->system_id));
  REQUIRE(Ship(t / "p", t / "arch0", 3000).ok());
  REQUIRE(Apply(t / "r0", t / "arch0").ok());
  uint64_t total = 0;
  {
    CopyTree(t / "r0", t / "r");
    CopyTree(t / "arch0", t / "arch");
    FaultyFs fs;
    REQUIRE(PromoteWith(fs, t / "r", t / "arch").ok());
    total = fs.steps();
  }
  MESSAGE("promote crash points exercised: " << total);
  CHECK(total >= 8);
  int finished = 0, lost_to_rival = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    for (bool rival : {false, true}) {
      CAPTURE(k);
      CAPTURE(rival);
      CopyTree(t / "r0", t / "r");
      CopyTree(t / "r0", t / "rival");
      CopyTree(t / "arch0", t / "arch");
      FaultyFs fs;
      fs.CrashAt(k);
      (void)PromoteWith(fs, t / "r", t / "arch");
      fs.PowerLoss();
      CheckNotHalf(t / "r", t / "arch");
      Status rival_run = rival ? PromoteWith(PosixFs(), t / "rival", t / "arch") : Status(Code::kRefused, "");
      Status rerun = PromoteWith(PosixFs(), t / "r", t / "arch");
      CheckNotHalf(t / "r", t / "arch");
      const bool r_primary = StateOf(t / "r").role == node::Role::kPrimary;
      if (!rival) {
        // Alone, the re-run always ends the promote (or finds it done).
        CHECK((rerun.ok() || rerun.reason() == "isprimary"));
        CHECK(r_primary);
        ++finished;
        continue;
      }
      CheckNotHalf(t / "rival", t / "arch");
      const bool rival_primary = StateOf(t / "rival").role == node::Role::kPrimary;
      CHECK(r_primary != rival_primary);  // MODEL-6: exactly one owns epoch 2
      if (rival_primary) {
        CHECK(rerun.reason() == "claimed");
        CHECK_FALSE(StateOf(t / "r").promoting);
        ++lost_to_rival;
      } else {
        CHECK(rival_run.reason() == "claimed");
      }
    }
  }
  MESSAGE("re-runs that finished: " << finished << "; crashed runs a rival beat: " << lost_to_rival);
  CHECK(lost_to_rival > 0);
}
