// ship-wal and epochs (LOG-21, RECOV-5, HFILE-5; FM-50, FM-56, FM-58): the
// claim-archive marker, history files published before the segments of
// their epoch, fencing from a history file, and a promoted primary that
// ships only the write sets it created.
#include <doctest/doctest.h>

#include <filesystem>

#include "history/history_file.h"
#include "engine/reference_node.h"
#include "repl/promote.h"
#include "segment/segment.h"
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

Status ShipTo(Fs& fs, const std::string& primary, const std::string& target, bool claim_archive = false,
              repl::ShipReport* rep = nullptr) {
  repl::ShipOptions o;
  o.data_dir = primary;
  o.target = target;
  o.max_segment_bytes = 3000;
  o.claim_archive = claim_archive;
  return repl::ShipWal(fs, o, rep);
}

}  // namespace

TEST_CASE("HFILE-5 ship-wal --claim-archive marks the target once, another system's marker is 5") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  repl::ShipReport rep;
  REQUIRE(ShipTo(PosixFs(), t / "p", t / "arch", true, &rep).ok());
  CHECK(rep.marked_claim_archive);
  CHECK(rep.claim_archive);
  const std::string marker = ReadFile(t / "arch/claim-archive.json");
  auto id = node::LoadIdentity(PosixFs(), t / "p");
  CHECK(marker == history::EncodeClaimArchiveMarker(id->system_id));
  // Again, with or without the flag: the marker, not the flag, says what it is.
  repl::ShipReport again;
  REQUIRE(ShipTo(PosixFs(), t / "p", t / "arch", false, &again).ok());
  CHECK(again.claim_archive);
  CHECK_FALSE(again.marked_claim_archive);
  // An outbox without the flag gets no marker.
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ShipTo(PosixFs(), t / "p", t / "out").ok());
  CHECK_FALSE(fsys::exists(t / "out/claim-archive.json"));
  // Another database's marker: the wrong target, nothing published.
  // (An archive holding only the marker, so that no foreign segment is
  // found first.)
  MakePrimary(t / "q", 3);
  REQUIRE(PosixFs().MakeDir(t / "qarch").ok());
  WriteFile(t / "qarch/claim-archive.json",
            history::EncodeClaimArchiveMarker(node::LoadIdentity(PosixFs(), t / "q")->system_id));
  Status s = ShipTo(PosixFs(), t / "p", t / "qarch", true);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("foreign claim archive '" + fsys::canonical(t / "qarch").string() +
                         "/claim-archive.json'") == 0);
  CHECK(Segments(t / "qarch").empty());
}

TEST_CASE("LOG-21 a promoted primary publishes its history files first and ships only the write sets it created") {
  TempDir t;
  MakeFailover(t.path(), {.after = 0});
  Write(t / "r", 4, 5);  // commits 31..34 of epoch 2
  // A new outbox: the history file, then epoch-2 segments from 31 only.
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipReport rep;
  REQUIRE(ShipTo(PosixFs(), t / "r", t / "out", false, &rep).ok());
  CHECK(rep.history_files == std::vector<std::string>{"00000002.history"});
  CHECK(ReadFile(t / "out/00000002.history") == ReadFile(t / "arch/00000002.history"));
  REQUIRE_FALSE(rep.segments.empty());
  CHECK(rep.segments.front().first_commit == 31);
  for (const std::string& n : Segments(t / "out")) {
    const auto info = segment::ParseSegmentName(n);
    CHECK(info->epoch == 2);
    CHECK(info->first_commit >= 31);
  }
  CHECK(rep.shipped_commit == 34);
  // Into the claim archive, where its own claim already is: nothing
  // published twice, the segments follow epoch 1's.
  repl::ShipReport into_arch;
  REQUIRE(ShipTo(PosixFs(), t / "r", t / "arch", false, &into_arch).ok());
  CHECK(into_arch.history_files.empty());
  CHECK(into_arch.segments.front().first_commit == 31);
  // A replica of the lineage reads both epochs' segments from the archive
  // once apply-wal follows epoch switches (LOG-15, LOG-20).
}

TEST_CASE("RECOV-5 FM-58 a restarted primary is fenced by the claim archive's history file before it publishes") {
  TempDir t;
  MakeFailover(t.path(), {.after = 0});
  // The old primary went on writing (31..35 of epoch 1), unaware.
  Write(t / "p", 5, 8);
  const size_t before = Segments(t / "arch").size();
  Status s = ShipTo(PosixFs(), t / "p", t / "arch");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.reason() == "fenced");  // MODEL-9: the same refusal as every later run
  CHECK(s.message() == "node is fenced '" + (t / "p") + "': epoch 2 began after commit 30 in '" +
                           fsys::canonical(t / "arch").string() + "'; this primary is superseded");
  CHECK(Segments(t / "arch").size() == before);  // nothing of 31..35 published
  // Fenced for good (MODEL-7): writes and reads refuse.
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
  REQUIRE(n.ok());
  CHECK((*n)->Commit({{engine::Op::Kind::kPut, "c", "x", "{}"}}).status().code() == Code::kRefused);
  CHECK((*n)->CheckReadable().code() == Code::kRefused);
}

TEST_CASE("FM-56 a target holding another claim of the node's epoch is diverged (4)") {
  TempDir t;
  MakeFailover(t.path(), {.after = 0});
  // A second replica promoted locally (no archive): its own epoch 2.
  REQUIRE(Apply(t / "r2", t / "arch").code() == Code::kOk);
  repl::PromoteOptions o;
  o.data_dir = t / "r2";
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  Write(t / "r2", 2, 3);
  Status s = ShipTo(PosixFs(), t / "r2", t / "arch");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message() == "diverged '" + (t / "arch/00000002.history") +
                           "': epoch 2 was claimed by another node too");
  for (const std::string& n : Segments(t / "arch")) CHECK(segment::ParseSegmentName(n)->epoch == 1);
}

namespace {

// A promote that lands while ship-wal publishes (FM-50): the rival's
// history file appears in the target right after the first segment.
class PromoteDuringShip : public ForwardingFs {
 public:
  PromoteDuringShip(std::string target, std::string history) : target_(std::move(target)), history_(std::move(history)) {}
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    Status s = ForwardingFs::RenameNoReplace(a, b);
    if (s.ok() && !done_ && b.size() > 4 && b.compare(b.size() - 4, 4, ".seg") == 0) {
      done_ = true;
      WriteFile(target_ + "/00000002.history", history_);
    }
    return s;
  }

 private:
  std::string target_, history_;
  bool done_ = false;
};

}  // namespace

TEST_CASE("LOG-21 FM-50 a promotion that lands during ship-wal fences it at the end of the run") {
  TempDir t;
  MakeFailover(t.path(), {.after = 0});
  const std::string claim = ReadFile(t / "arch/00000002.history");
  // The same race, replayed into a fresh archive of the old primary.
  MakePrimary(t / "p2", 0);
  fsys::remove_all(t / "p2");
  fsys::copy(t / "p", t / "p2", fsys::copy_options::recursive);
  fsys::remove_all(t / "p2/replication/shipped");
  Write(t / "p2", 5, 8);  // 31..35, never to be history
  REQUIRE(PosixFs().MakeDir(t / "arch2").ok());
  PromoteDuringShip fs(fsys::canonical(t / "arch2").string(), claim);
  repl::ShipReport rep;
  Status s = ShipTo(fs, t / "p2", t / "arch2", false, &rep);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("node is fenced") == 0);
  CHECK_FALSE(rep.segments.empty());  // published during the race: kept, superseded beyond 30
  CHECK(StateOf(t / "p2").fenced.has_value());
}
