// apply-wal: one test per row of the classification table in
// specs/REPLICATION_LOG_FLOW.md (LOG-5..LOG-16).
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <utility>

#include "node/layout.h"
#include "node/state.h"
#include <nlohmann/json.hpp>

#include "engine/workload.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_reader.h"
#include "common/sha256.h"
#include "repl/status.h"
#include "repl/unhalt.h"
#include "repl/verify.h"
#include "support/cut_while_read_fs.h"
#include "support/forwarding_fs.h"
#include "support/read_counting_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// A primary with `n` write sets shipped into `out` in small segments.
void Setup(const TempDir& t, uint64_t n, uint64_t max_bytes = 6000) {
  MakePrimary(t / "p", n);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", max_bytes).ok());
}

// p and q: one database (same system id) whose histories part after commit
// 20 (commits 21..25 differ); p's segments in out, q's in qout, replica r
// applied from out.
// `q_max_bytes` (default: `max_bytes`) cuts q's segments.
void TwoHistories(const TempDir& t, uint64_t max_bytes, uint64_t q_max_bytes = 0) {
  MakePrimary(t / "p", 20, 1);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 5, 10);
  Write(t / "q", 5, 11);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(PosixFs().MakeDir(t / "qout").ok());
  REQUIRE(Ship(t / "p", t / "out", max_bytes).ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  REQUIRE(Ship(t / "q", t / "qout", q_max_bytes ? q_max_bytes : max_bytes).ok());
}

// The inbox now holds q's segments instead of p's.
void InboxFromQ(const TempDir& t) {
  for (auto& n : Segments(t / "out")) fsys::remove(t / "out" / n);
  for (auto& n : Segments(t / "qout")) fsys::copy(t / "qout" / n, t / "out" / n);
}

std::string HaltCode(const std::string& dir) {
  auto h = node::LoadHalt(PosixFs(), dir);
  REQUIRE(h.ok());
  return *h ? (*h)->code : "";
}

}  // namespace

TEST_CASE("LOG-16 bootstrap from the WAL alone, then identical to the primary") {
  TempDir t;
  Setup(t, 120);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  CHECK(rep.bootstrapped);
  CHECK(rep.applied_commit == 120);
  CheckSameHistory(t / "p", t / "r");
  CHECK(StateOf(t / "r").role == node::Role::kReplica);
}

TEST_CASE("LOG-16 bootstrap refuses when the segments don't start at commit 1 (3)") {
  TempDir t;
  Setup(t, 60);
  fsys::remove(t / "out" / Segments(t / "out").at(0));
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("gap before commit 1 in") == 0);
  CHECK(s.message().find("the oldest segment starts at") != std::string::npos);
  CHECK(s.hint().find("snapshot install") != std::string::npos);
  CHECK_FALSE(FileExists(t / "r"));
}

namespace {

// Runs `fill` just before the rename of a temp tree onto `dir`: another
// command (a snapshot install, a racing init) took the directory meanwhile.
class FillBeforeRenameFs final : public ForwardingFs {
 public:
  FillBeforeRenameFs(std::string dir, std::function<void()> fill)
      : dir_(std::move(dir)), fill_(std::move(fill)) {}
  Status Rename(const std::string& from, const std::string& to) override {
    if (to == dir_ && fill_) std::exchange(fill_, nullptr)();
    return ForwardingFs::Rename(from, to);
  }

 private:
  const std::string dir_;
  std::function<void()> fill_;
};

}  // namespace

TEST_CASE("FM-38 a bootstrap or an init that finds DIR filled at its final rename is refused (5), never 10, DIR left as it is") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  for (bool as_file : {false, true}) {
    CAPTURE(as_file);
    auto fill = [&](const std::string& dir) {
      return [&, dir] {
        if (as_file) {
          WriteFile(dir, "someone else's file");
        } else {
          fsys::create_directory(dir);
          WriteFile(dir + "/notes.txt", "someone else's file");
        }
      };
    };
    const std::string r = t / (as_file ? "r-file" : "r-dir");
    FillBeforeRenameFs fs(r, fill(r));
    repl::ApplyOptions o;
    o.data_dir = r;
    o.inbox = t / "out";
    repl::ApplyReport rep;
    Status s = repl::ApplyWal(fs, o, &rep);
    CHECK(s.code() == Code::kRefused);
    CHECK(s.message().find("refusing to create the replica '" + r + "': ") == 0);
    CHECK(s.message().find(as_file ? "it was created while apply-wal was bootstrapping"
                                   : "not empty any more") != std::string::npos);
    CHECK_FALSE(s.hint().empty());
    CHECK(rep.applied_commit == 0);
    CHECK(ReadFile(as_file ? r : r + "/notes.txt") == "someone else's file");
    // aerodb init, the same rule.
    const std::string n = t / (as_file ? "n-file" : "n-dir");
    FillBeforeRenameFs init_fs(n, fill(n));
    Status i = node::Node::Init(init_fs, n);
    CHECK(i.code() == Code::kRefused);
    CHECK(i.message().find("refusing to initialise '" + n + "': ") == 0);
    CHECK(ReadFile(as_file ? n : n + "/notes.txt") == "someone else's file");
    for (const auto& e : fsys::directory_iterator(t.path())) {
      CHECK(e.path().filename().string().find(".tmp") == std::string::npos);  // removed
    }
  }
  // A DIR that is a symlink to an empty directory: the rename cannot
  // replace a link (ENOTDIR, which read as 9, "names nothing that exists").
  fsys::create_directory(t / "empty");
  fsys::create_directory_symlink(t / "empty", t / "link");
  Status s = Apply(t / "link", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "refusing to create the replica '" + (t / "link") +
                           "': a symbolic link, which a new node cannot replace");
  CHECK(fsys::is_empty(t / "empty"));
}

TEST_CASE("LOG-16 a bootstrap that applies no write set creates nothing") {
  TempDir t;
  Setup(t, 60);
  // The first segment's header is good, its body is not: the run stops
  // (1) before any write set is acknowledged.
  FlipBitInFile(t / "out" / Segments(t / "out").at(0), 400, 3);
  repl::ApplyReport rep;
  Status s = Apply(t / "r", t / "out", &rep);
  CHECK(s.code() == Code::kDamage);
  CHECK_FALSE(rep.bootstrapped);
  CHECK_FALSE(FileExists(t / "r"));
  CHECK_FALSE(FileExists(t / ".r.bootstrap.tmp"));
}

// MODEL-10: the bootstrap builds under a hidden name of its own, so a
// user's directory called NAME.bootstrap.tmp (or a node there) is never
// its temp directory, and never removed.
TEST_CASE("MODEL-10 a bootstrap builds in .NAME.bootstrap.tmp and leaves NAME.bootstrap.tmp alone") {
  TempDir t;
  Setup(t, 20);
  REQUIRE(PosixFs().MakeDir(t / "r.bootstrap.tmp").ok());
  WriteFile(t / "r.bootstrap.tmp" / "important.txt", "precious");
  REQUIRE(Apply(t / "r", t / "out").ok());
  CHECK(ReadFile(t / "r.bootstrap.tmp" / "important.txt") == "precious");
  CHECK_FALSE(FileExists(t / ".r.bootstrap.tmp"));
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("LOG-16 bootstrap with no segments is 9, nothing is created") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  CHECK(Apply(t / "r", t / "out").code() == Code::kNotFound);
  CHECK_FALSE(FileExists(t / "r"));
}

TEST_CASE("row 1 LOG-6 in transit: exit 8, nothing from it or after it applied") {
  TempDir t;
  Setup(t, 60);
  auto names = Segments(t / "out");
  REQUIRE(names.size() >= 3);
  REQUIRE(Apply(t / "r", t / "out").ok());
  Write(t / "p", 20, 3);
  REQUIRE(Ship(t / "p", t / "out", 1000).ok());
  auto all = Segments(t / "out");
  const std::string victim = t / "out" / all.at(names.size());  // the first new one
  const std::string full = ReadFile(victim);
  WriteFile(victim, full.substr(0, full.size() / 2));
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("segment in transit '" + victim + "': ") == 0);
  CHECK(StateOf(t / "r").applied_commit == 60);
  WriteFile(victim, full);  // the transfer finishes
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("row 1 LOG-6 a file in transit that the replica already holds is passed over, never a stall") {
  TempDir t;
  Setup(t, 60);
  auto names = Segments(t / "out");
  REQUIRE(names.size() >= 3);
  REQUIRE(Apply(t / "r", t / "out").ok());
  Write(t / "p", 20, 3);
  REQUIRE(Ship(t / "p", t / "out", 1000).ok());
  // An applied segment re-delivered, cut short (and another one empty):
  // the replica needs none of it.
  const std::string old = t / "out" / names[1];
  const std::string full = ReadFile(old);
  WriteFile(old, full.substr(0, full.size() / 2));
  WriteFile(t / "out" / names[0], "");
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  CHECK(StateOf(t / "r").applied_commit == 80);
  int passed = 0;
  for (const auto& seg : rep.segments) passed += seg.outcome == "in-transit";
  CHECK(passed == 2);
  CheckSameHistory(t / "p", t / "r");
  // Not judged: a later run judges it once complete (another history's
  // copy there is still found, LOG-8).
  repl::ApplyReport again;
  REQUIRE(Apply(t / "r", t / "out", &again).ok());
  CHECK(again.previously_checked == 0);
  WriteFile(old, full);
  fsys::remove(t / "out" / names[0]);
  repl::ApplyReport done;
  REQUIRE(Apply(t / "r", t / "out", &done).ok());
  bool judged = false;
  for (const auto& seg : done.segments) judged |= seg.name() == names[1] && seg.outcome == "duplicate";
  CHECK(judged);
}

// SEG-9, FM-133: a transport that sizes the file first and then writes it
// in order. At each stage of its copy apply-wal waits (8) without a halt,
// status does not call it damage, verify says 8; once the copy ends the
// replica converges.
TEST_CASE("SEG-9 FM-133 apply-wal waits (8) on a preallocated segment, not halted, and converges once the copy ends") {
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    TempDir t;
    MakePrimary(t / "p", 60);
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
    REQUIRE(Ship(t / "p", t / "out", 6000, zstd).ok());
    auto names = Segments(t / "out");
    REQUIRE(names.size() >= 3);
    const std::string victim = t / "out" / names.at(1);
    const std::string full = ReadFile(victim);
    for (size_t head : {size_t{0}, size_t{100}, segment::kSegmentHeaderBytes, full.size() / 2,
                        full.size() - segment::kPreallocatedTailBytes}) {
      CAPTURE(head);
      WriteFile(victim, full.substr(0, head) + std::string(full.size() - head, '\0'));
      Status s = Apply(t / "r", t / "out");
      CHECK(s.code() == Code::kInTransit);
      CHECK(s.message().find("segment in transit '" + victim + "': its last 16 bytes are zero") == 0);
      CHECK(HaltCode(t / "r") == "");
      auto first = segment::ParseSegmentName(names.at(0));
      CHECK(StateOf(t / "r").applied_commit == first->last_commit);
      auto st = repl::GetStatus(PosixFs(), t / "r", std::string(t / "out"));
      REQUIRE(st.ok());
      CHECK(st->outcome() == Code::kOk);
      CHECK(st->problems.empty());
      auto v = repl::Verify(PosixFs(), t / "out", {});
      REQUIRE(v.ok());
      CHECK(v->outcome() == Code::kInTransit);
    }
    WriteFile(victim, full);  // the copy ends
    REQUIRE(Apply(t / "r", t / "out").ok());
    CheckSameHistory(t / "p", t / "r");
  }
}

TEST_CASE("row 2 LOG-12 corrupt: halt, exit 1, then 6 until unhalt, replace and converge") {
  TempDir t;
  Setup(t, 60);
  const std::string victim = t / "out" / Segments(t / "out").at(1);
  const std::string good = ReadFile(victim);
  FlipBitInFile(victim, 400, 3);
  repl::ApplyReport rep;
  Status s = Apply(t / "r", t / "out", &rep);
  CHECK(s.code() == Code::kDamage);
  // Byte 400 is in the body: its record's CRC catches it (SEG-7: the seal
  // covers the header; the body is bound by the CRCs and digest_after).
  CHECK(s.message().find("corrupt segment '" + victim + "': record damage at body offset ") == 0);
  CHECK(HaltCode(t / "r") == "corrupt");
  auto first = segment::ParseSegmentName(Segments(t / "out").at(0));
  CHECK(StateOf(t / "r").applied_commit == first->last_commit);  // up to the file before
  // LOG-13: what was appended while the bad file streamed is cut back.
  CHECK(std::filesystem::file_size(t / "r/wal/wal.log") == StateOf(t / "r").applied_wal_offset);
  CHECK(Apply(t / "r", t / "out").code() == Code::kHalted);  // LOG-14
  WriteFile(victim, good);
  REQUIRE(repl::Unhalt(PosixFs(), t / "r", "replaced the damaged segment", nullptr).ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
  CHECK(ReadFile(t / "r/replication/halt-history.jsonl").find("replaced the damaged segment") !=
        std::string::npos);
}

TEST_CASE("row 2 LOG-12 a segment whose header fails its checksum halts the replica (1)") {
  TempDir t;
  Setup(t, 60);
  const std::string victim = t / "out" / Segments(t / "out").at(1);
  FlipBitInFile(victim, 100, 0);  // in the header, before its CRC
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("corrupt segment '" + victim + "': header checksum") == 0);
  CHECK(HaltCode(t / "r") == "corrupt");
  auto first = segment::ParseSegmentName(Segments(t / "out").at(0));
  CHECK(StateOf(t / "r").applied_commit == first->last_commit);  // nothing from it or after it
}

TEST_CASE("row 3 LOG-11 a segment of another database: halt, exit 5") {
  TempDir t;
  Setup(t, 30);
  REQUIRE(Apply(t / "r", t / "out").ok());
  MakePrimary(t / "q", 40, 3);
  REQUIRE(PosixFs().MakeDir(t / "qout").ok());
  REQUIRE(Ship(t / "q", t / "qout", 1u << 30).ok());
  const std::string foreign = Segments(t / "qout").at(0);
  fsys::copy(t / "qout" / foreign, t / "out" / foreign);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("foreign segment '") == 0);
  CHECK(HaltCode(t / "r") == "foreign");
}

TEST_CASE("row 7 LOG-8 duplicates are checked against our history and skipped") {
  TempDir t;
  Setup(t, 60);
  REQUIRE(Apply(t / "r", t / "out").ok());
  fsys::remove_all(t / "r/replication/inbox");  // without the bootstrap's memo (LOG-28): all judged
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  CHECK(rep.applied_commit == 60);
  int dups = 0;
  for (auto& s : rep.segments) dups += s.outcome == "duplicate";
  CHECK(dups == static_cast<int>(Segments(t / "out").size()));
}

TEST_CASE("row 7 LOG-8 a duplicate with another history is divergence: halt, exit 4") {
  TempDir t;
  TwoHistories(t, repl::ShipOptions{}.max_segment_bytes);
  InboxFromQ(t);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged at commit 25 '") == 0);
  CHECK(HaltCode(t / "r") == "diverged");
}

TEST_CASE("row 8 LOG-9 an overlapping segment applies only what is new") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  REQUIRE(Ship(t / "p", t / "a").ok());  // 1..30
  REQUIRE(Apply(t / "r", t / "a").ok());
  Write(t / "p", 10, 4);
  fsys::remove_all(t / "p/replication/shipped");
  REQUIRE(Ship(t / "p", t / "b").ok());  // 1..40 in one segment, overlapping 1..30
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "b", &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  CHECK(rep.segments[0].applied_from == 31);
  CHECK(rep.segments[0].applied_to == 40);
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("row 8 LOG-9 an overlap from another history diverges at the applied commit") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 5, 10);
  Write(t / "q", 10, 11);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(PosixFs().MakeDir(t / "qout").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());  // at 25 of p's history
  REQUIRE(Ship(t / "q", t / "qout").ok());  // 1..30 of q's
  Status s = Apply(t / "r", t / "qout");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged at commit 25 '") == 0);
}

TEST_CASE("row 9 LOG-10 a next segment whose digest_before is not ours diverges") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 5, 10);  // p: 21..25
  Write(t / "q", 5, 11);  // q: 21..25, other bytes
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());  // r follows p through 25
  // q ships 1..25 to a scratch target (position 25), then 26..30 alone.
  REQUIRE(PosixFs().MakeDir(t / "qout").ok());
  REQUIRE(Ship(t / "q", t / "qout").ok());
  for (auto& n : Segments(t / "qout")) fsys::remove(t / "qout" / n);
  Write(t / "q", 5, 12);
  REQUIRE(Ship(t / "q", t / "qout").ok());
  const std::string next = Segments(t / "qout").at(0);
  REQUIRE(segment::ParseSegmentName(next)->first_commit == 26);
  fsys::copy(t / "qout" / next, t / "out" / next);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged at commit 25 '" + (t / "out") + "/" + next) == 0);
  CHECK(HaltCode(t / "r") == "diverged");
  CHECK(StateOf(t / "r").applied_commit == 25);
}

TEST_CASE("row 9 LOG-10 a next segment that is damaged as well as not ours is damage (1), as verify says") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  Write(t / "p", 5, 10);
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::string next = SegmentStartingAt(t / "out", 21);
  // Its digest_before rewritten, header CRC and seal made again: the body
  // no longer chains to its digest_after.
  segment::SegmentHeader h = PlainHeaderOf(t / "out" / next);
  h.digest_before[0] ^= 1;
  const std::string forged = WithHeader(ReadFile(t / "out" / next), h);
  WriteFile(t / "out" / next, forged);
  auto v = repl::Verify(PosixFs(), t / "out" / next, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);
  const uint64_t wal_before = StateOf(t / "r").applied_wal_offset;
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("corrupt segment '" + (t / "out") + "/" + next) == 0);
  CHECK(HaltCode(t / "r") == "corrupt");
  CHECK(StateOf(t / "r").applied_commit == 20);
  CHECK(fsys::file_size(t / "r/wal/wal.log") == wal_before);  // nothing appended
  // The same file still being copied (a preallocating transport: its last
  // 16 bytes zero): in transit for both, never diverged.
  REQUIRE(repl::Unhalt(PosixFs(), t / "r", "test", nullptr).ok());
  std::string copying = forged;
  std::fill(copying.end() - 16, copying.end(), '\0');
  WriteFile(t / "out" / next, copying);
  CHECK(repl::Verify(PosixFs(), t / "out" / next, {})->outcome() == Code::kInTransit);
  CHECK(Apply(t / "r", t / "out").code() == Code::kInTransit);
  CHECK(HaltCode(t / "r").empty());
}

TEST_CASE("LOG-32 a next segment whose first sequence does not follow the replica's is corrupt, nothing appended") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  Write(t / "p", 5, 10);
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::string next = SegmentStartingAt(t / "out", 21);
  const std::string honest = ReadFile(t / "out" / next);
  const uint64_t ours = StateOf(t / "r").next_sequence;
  REQUIRE(PlainHeaderOf(t / "out" / next).first_sequence == ours);
  // Valid in itself, its digest_before ours, its sequences from 100.
  WriteFile(t / "out" / next, WithSequencesFrom(honest, 100));
  REQUIRE(repl::Verify(PosixFs(), t / "out" / next, {})->outcome() == Code::kOk);
  const uint64_t wal_before = StateOf(t / "r").applied_wal_offset;
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("corrupt segment '" + (t / "out") + "/" + next) == 0);
  CHECK(s.message().find("first sequence 100") != std::string::npos);
  CHECK(HaltCode(t / "r") == "corrupt");
  CHECK(StateOf(t / "r").applied_commit == 20);
  CHECK(fsys::file_size(t / "r/wal/wal.log") == wal_before);
  // A restart at 1 on the boundary is AeroDB's checkpoint: applied, and the
  // replica's own verify agrees.
  REQUIRE(repl::Unhalt(PosixFs(), t / "r", "test", nullptr).ok());
  WriteFile(t / "out" / next, WithSequencesFrom(honest, 1));
  REQUIRE(Apply(t / "r", t / "out").ok());
  CHECK(StateOf(t / "r").applied_commit == 25);
  CHECK(repl::Verify(PosixFs(), t / "r", {})->outcome() == Code::kOk);
}

TEST_CASE("SEG-4 check 6 a segment from commit 1 whose digest_before is not H(0) is corrupt for verify and for a bootstrap alike") {
  TempDir t;
  MakePrimary(t / "p", 3, 1);
  REQUIRE(PosixFs().MakeDir(t / "src").ok());
  REQUIRE(Ship(t / "p", t / "src").ok());
  const std::string name = Segments(t / "src").at(0);
  const std::string bytes = ReadFile(t / "src" / name);
  const segment::SegmentHeader h = PlainHeaderOf(t / "src" / name);
  REQUIRE(h.first_commit == 1);
  for (int edit = 0; edit < 2; ++edit) {
    CAPTURE(edit);
    segment::SegmentHeader e = h;
    if (edit == 0) e.digest_before[5] ^= 0x20;  // the digest alone
    if (edit == 1) e.system_id.bytes[0] ^= 0x20;  // another system id, the old H(0)
    const std::string forged = WithHeader(bytes, e);
    fsys::remove_all(t / "in");
    fsys::remove_all(t / "r");
    REQUIRE(PosixFs().MakeDir(t / "in").ok());
    WriteFile(t / "in" / name, forged);
    auto v = repl::Verify(PosixFs(), t / "in", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kDamage);
    Status s = Apply(t / "r", t / "in");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("digest_before of commit 1 is not H(0) of its system id") != std::string::npos);
    CHECK_FALSE(fsys::exists(t / "r"));
  }
}

TEST_CASE("row 10 LOG-7 a gap stops with exit 3 naming the missing CommitIds") {
  TempDir t;
  Setup(t, 80);
  auto names = Segments(t / "out");
  REQUIRE(names.size() >= 3);
  const std::string missing = names[1];
  const std::string saved = ReadFile(t / "out" / missing);
  fsys::remove(t / "out" / missing);
  repl::ApplyReport rep;
  Status s = Apply(t / "r", t / "out", &rep);
  CHECK(s.code() == Code::kGap);
  auto first = segment::ParseSegmentName(names[0]);
  auto third = segment::ParseSegmentName(names[2]);
  CHECK(s.message() == "gap before commit " + std::to_string(first->last_commit + 1) + " in '" +
                           (t / "out") + "': next segment starts at " +
                           std::to_string(third->first_commit) + " ('" + names[2] +
                           "'); commits " + std::to_string(first->last_commit + 1) + ".." +
                           std::to_string(third->first_commit - 1) + " are missing");
  CHECK(s.hint().find("'snapshot install'") != std::string::npos);  // SNAP-1
  CHECK(StateOf(t / "r").applied_commit == first->last_commit);  // nothing after the gap
  WriteFile(t / "out" / missing, saved);
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("apply-wal --until stops inside a segment at a write-set boundary") {
  TempDir t;
  Setup(t, 40, 1u << 30);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "out";
  o.until = 17;
  REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
  CHECK(StateOf(t / "r").applied_commit == 17);
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("apply-wal refuses on a primary (5) and when locked (7)") {
  TempDir t;
  Setup(t, 5);
  Status s = Apply(t / "p", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "refusing to apply '" + (t / "p") +
                           "': this node is a primary; segments are applied only by replicas");
  REQUIRE(Apply(t / "r", t / "out").ok());
  auto held = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kWrite);
  REQUIRE(held.ok());
  // apply-wal(1): the report still names the acknowledged position.
  repl::ApplyReport rep;
  CHECK(Apply(t / "r", t / "out", &rep).code() == Code::kLocked);
  CHECK(rep.applied_commit == 5);
  CHECK(rep.from_commit == 5);
  // And so does a run whose inbox is missing.
  held->reset();
  repl::ApplyReport missing;
  CHECK(Apply(t / "r", t / "nowhere", &missing).code() == Code::kNotFound);
  CHECK(missing.applied_commit == 5);
}

TEST_CASE("NODE-10 MODEL-3 a replica reads at its applied CommitId") {
  TempDir t;
  Setup(t, 40);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "out";
  o.until = 25;
  REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
  auto r = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kRead);
  auto p = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kRead);
  auto rd = (*r)->ReadAt((*r)->state().applied_commit);
  auto pd = (*p)->ReadAt(25);
  REQUIRE(rd.ok());
  REQUIRE(pd.ok());
  CHECK(rd->size() == pd->size());
}

TEST_CASE("apply-wal reports the progress it made before a stop") {
  TempDir t;
  Setup(t, 60);
  auto names = Segments(t / "out");
  REQUIRE(names.size() >= 3);
  fsys::remove(t / "out" / names[2]);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).code() == Code::kGap);
  const uint64_t at = StateOf(t / "r").applied_commit;
  CHECK(rep.applied_commit == at);
  CHECK(at > 0);
  MakePrimary(t / "p2", 1);
  Write(t / "p", 30, 7);
  REQUIRE(Ship(t / "p", t / "out", 6000).ok());
  repl::ApplyReport again;
  CHECK(Apply(t / "r", t / "out", &again).code() == Code::kGap);
  CHECK(again.from_commit == at);
  CHECK(again.applied_commit == at);
}

TEST_CASE("MODEL-9 a halted replica answers 6 even when its inbox is missing") {
  TempDir t;
  Setup(t, 10);
  REQUIRE(Apply(t / "r", t / "out").ok());
  REQUIRE(node::SaveHalt(PosixFs(), t / "r", {"corrupt", "x", "y", 3}).ok());
  CHECK(Apply(t / "r", t / "nowhere").code() == Code::kHalted);
}

TEST_CASE("row 4: a segment of a newer epoch waits for its history file (8)") {
  TempDir t;
  Setup(t, 10);
  REQUIRE(Apply(t / "r", t / "out").ok());
  MakePromotedCopy(t / "p", t / "p2");
  Write(t / "p2", 3, 4);
  REQUIRE(PosixFs().MakeDir(t / "out2").ok());
  REQUIRE(Ship(t / "p2", t / "out2").ok());  // 11..13 in epoch 2, and its history file
  for (auto& n : Segments(t / "out2")) fsys::copy(t / "out2" / n, t / "out" / n);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("history file in transit '" + (t / "out") + "/00000002.history'") == 0);
  CHECK(StateOf(t / "r").applied_commit == 10);
}

TEST_CASE("NODE-11 LOG-8 duplicates are checked from replication/digests, without reading the WAL") {
  TempDir t;
  Setup(t, 60);
  REQUIRE(Apply(t / "r", t / "out").ok());
  const size_t segments = Segments(t / "out").size();
  REQUIRE(segments > 3);
  auto rerun = [&](ReadCountingFs& fs) {
    // Without the memo of LOG-28, which would pass over every segment.
    fsys::remove_all(t / "r/replication/inbox");
    repl::ApplyOptions o;
    o.data_dir = t / "r";
    o.inbox = t / "out";
    repl::ApplyReport rep;
    REQUIRE(repl::ApplyWal(fs, o, &rep).ok());
    size_t dups = 0;
    for (auto& s : rep.segments) dups += s.outcome == "duplicate";
    CHECK(dups == segments);  // every one checked, none "not-checked"
  };
  ReadCountingFs with_index;
  rerun(with_index);
  // Open-time validation (NODE-4) reads the log's tail past applied: a few
  // bytes, whatever the size of the log.
  CHECK(with_index.BytesRead("wal/wal.log") < 1024);
  CHECK(with_index.BytesRead("replication/digests") > 0);
  // Without the index the same answer costs one scan of the log.
  fsys::remove(t / "r" / std::string(node::kDigestIndexFile));
  ReadCountingFs without;
  rerun(without);
  CHECK(without.BytesRead("wal/wal.log") >= fsys::file_size(t / "r" / std::string(node::kWalFile)));
}

TEST_CASE("NODE-11 LOG-8 a damaged index falls back to the scan: a foreign duplicate still diverges") {
  TempDir t;
  TwoHistories(t, 3000);
  // Every entry's CRC fails: nothing in the index is trusted.
  const std::string index = t / "r" / std::string(node::kDigestIndexFile);
  std::string bytes = ReadFile(index);
  REQUIRE(bytes.size() > node::kDigestIndexMagic.size());
  for (size_t i = node::kDigestIndexMagic.size() + 8; i < bytes.size(); i += node::kDigestIndexEntryBytes) {
    FlipBit(&bytes, i, 3);
  }
  WriteFile(index, bytes);
  // q's segments that end below 21 are true duplicates; the others are not.
  InboxFromQ(t);
  // The first of q's segments to reach past commit 20 is where the histories
  // part; an index trusted despite its CRCs would halt at an earlier one.
  uint64_t first_divergent = 0;
  for (auto& n : Segments(t / "qout")) {
    const uint64_t last = std::stoull(n.substr(26, 16), nullptr, 16);
    if (last > 20 && first_divergent == 0) first_divergent = last;
  }
  REQUIRE(first_divergent > 0);
  REQUIRE(Segments(t / "qout").size() > 2);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged at commit " + std::to_string(first_divergent) + " '") == 0);
  CHECK(HaltCode(t / "r") == "diverged");
}

namespace {

// A transport rewriting `victim` in place (cp over it) while apply-wal reads
// it: once the header has been read, the body gets other bytes and the file
// grows, as a copy in progress leaves it.
class RewrittenWhileRead final : public ForwardingFs {
 public:
  explicit RewrittenWhileRead(std::string victim) : victim_(std::move(victim)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenRead(p));
    if (p != victim_) return f;
    return std::unique_ptr<ReadableFile>(new File(std::move(f), victim_));
  }

 private:
  class File final : public ForwardingFile {
   public:
    File(std::unique_ptr<ReadableFile> f, std::string path)
        : ForwardingFile(std::move(f)), path_(std::move(path)) {}
    Result<size_t> Read(char* buf, size_t n) override {
      Rewrite();
      return ForwardingFile::Read(buf, n);
    }
    Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
      if (off >= 192) Rewrite();
      return ForwardingFile::ReadAt(off, buf, n);
    }

   private:
    void Rewrite() {
      if (++reads_ != 2) return;  // after the header
      std::string bytes = ReadFile(path_);
      for (size_t i = 200; i < bytes.size() - 40; i += 7) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
      WriteFile(path_, bytes + std::string(4096, 'x'));
    }
    std::string path_;
    int reads_ = 0;
  };
  std::string victim_;
};

}  // namespace

TEST_CASE("FM-20 a segment rewritten in place while it is applied is in transit (8), not damage") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 2500).ok());
  const auto names = Segments(t / "in");
  REQUIRE(names.size() >= 3);
  RewrittenWhileRead fs(t / "in" / names[1]);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "in";
  repl::ApplyReport rep;
  const Status s = repl::ApplyWal(fs, o, &rep);
  CAPTURE(s.ToString());
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("the file changed size while it was read") != std::string::npos);
  CHECK_FALSE(rep.halted);
  // The first segment was verified before it: acknowledged (LOG-13).
  CHECK(rep.applied_commit == segment::ParseSegmentName(names[0])->last_commit);
  CHECK(StateOf(t / "r").applied_commit == rep.applied_commit);
  CHECK_FALSE(FileExists(t / "r/replication/halt.json"));
}

TEST_CASE("FM-20 a segment cut and grown back while it is read is in transit (8) for apply-wal and verify, at every read") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 2500).ok());
  const auto names = Segments(t / "in");
  REQUIRE(names.size() >= 3);
  const std::string victim = t / "in" / names[1];
  const int swept = SweepReadCuts(
      victim, t / "in", t / "r", [](Fs& base, const auto& use) { return use(base); },
      [&] { return Apply(t / "r", t / "in"); });
  CHECK(swept >= 3);  // the header, the body and the trailer at least
  MESSAGE("reads of the segment cut, one run each: " << swept);
}

namespace {

// Counts the bytes appended to any file named `suffix`.
class AppendCountingFs final : public ForwardingFs {
 public:
  explicit AppendCountingFs(std::string suffix) : suffix_(std::move(suffix)) {}
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenWrite(p, m));
    if (p.size() < suffix_.size() || p.compare(p.size() - suffix_.size(), suffix_.size(), suffix_) != 0) {
      return f;
    }
    return std::unique_ptr<WritableFile>(new Counting(std::move(f), &appended));
  }
  uint64_t appended = 0;

 private:
  class Counting final : public ForwardingWritable {
   public:
    Counting(std::unique_ptr<WritableFile> f, uint64_t* n) : ForwardingWritable(std::move(f)), n_(n) {}
    Status Append(std::string_view d) override {
      *n_ += d.size();
      return ForwardingWritable::Append(d);
    }

   private:
    uint64_t* n_;
  };
  std::string suffix_;
};

}  // namespace

TEST_CASE("FM-40 LOG-9 an overlapping segment of another history appends no byte before its digest at the overlap is checked") {
  TempDir t;
  MakePrimary(t / "p", 10);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 20, 2);  // p: 11..30
  Write(t / "q", 5, 3);   // q: 11..15, another history
  REQUIRE(PosixFs().MakeDir(t / "qin").ok());
  REQUIRE(Ship(t / "q", t / "qin").ok());
  REQUIRE(Apply(t / "r", t / "qin").ok());  // r follows q, at 15
  REQUIRE(PosixFs().MakeDir(t / "pin").ok());
  REQUIRE(Ship(t / "p", t / "pin").ok());  // one segment 1..30: overlaps r at 15
  const std::string wal_before = ReadFile(t / "r/wal/wal.log");
  AppendCountingFs fs("wal/wal.log");
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "pin";
  repl::ApplyReport rep;
  const Status s = repl::ApplyWal(fs, o, &rep);
  CHECK(s.code() == Code::kDiverged);
  CHECK(rep.halted);
  CHECK(fs.appended == 0);  // not one byte, not even one cut back later
  CHECK(ReadFile(t / "r/wal/wal.log") == wal_before);
}

namespace {

// A replica at commit 40 whose wal.log has a bit flipped mid-log, in a
// record's payload; open-time validation (the tail only) does not see it.
void ReplicaDamagedMidLog(const TempDir& t) {
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 3000).ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  const uint64_t size = std::filesystem::file_size(t / "r/wal/wal.log");
  FlipBitInFile(t / "r/wal/wal.log", size / 2, 3);
  auto st = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(st.ok());
  REQUIRE(st->outcome() == Code::kOk);  // not seen yet
}

}  // namespace

TEST_CASE("LOG-27 a bit flipped mid-log in a replica's WAL: the first read halts it, then status and apply-wal say 6") {
  TempDir t;
  ReplicaDamagedMidLog(t);
  {
    // A writer holds the node: the read says 1, and that it was not recorded.
    auto writer = PosixFs().Lock(t / "r/replication/lock");
    REQUIRE(writer.ok());
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kRead);
    REQUIRE(n.ok());
    auto docs = (*n)->ReadAt(40);
    CHECK(docs.status().code() == Code::kDamage);
    CHECK(docs.status().message().find("; not recorded: a writer holds") != std::string::npos);
    CHECK_FALSE(FileExists(t / "r/replication/halt.json"));
  }
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kRead);
  REQUIRE(n.ok());
  auto docs = (*n)->ReadAt(40);
  CHECK(docs.status().code() == Code::kDamage);
  CHECK(docs.status().message().find("wal cannot be trusted") == 0);
  CHECK_FALSE(docs.status().hint().empty());
  REQUIRE(FileExists(t / "r/replication/halt.json"));
  auto halt = node::LoadHalt(PosixFs(), t / "r");
  REQUIRE(halt.ok());
  REQUIRE(halt->has_value());
  CHECK((*halt)->code == "corrupt");
  CHECK((*halt)->commit >= 1);
  CHECK((*halt)->commit <= 40);
  // Every command agrees from then on.
  auto st = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(st.ok());
  CHECK(st->outcome() == Code::kHalted);
  CHECK(Apply(t / "r", t / "out").code() == Code::kHalted);
  auto again = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kRead);
  REQUIRE(again.ok());
  CHECK((*again)->CheckReadable().code() == Code::kHalted);
}

TEST_CASE("LOG-27 apply-wal's own-digest scan that meets mid-log damage halts the replica (1)") {
  TempDir t;
  ReplicaDamagedMidLog(t);
  // Without the digest cache (NODE-11) apply-wal scans its own log for the
  // digests of the applied segments still in the inbox (row 7).
  std::filesystem::remove(t / "r/replication/digests");
  std::filesystem::remove_all(t / "r/replication/inbox");  // and every segment judged (LOG-28)
  repl::ApplyReport rep;
  Status s = Apply(t / "r", t / "out", &rep);
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("wal cannot be trusted") == 0);
  CHECK(rep.halted);
  CHECK(FileExists(t / "r/replication/halt.json"));
  CHECK(Apply(t / "r", t / "out").code() == Code::kHalted);
}

namespace {

// fsync and directory fsync that do nothing: builds a 10000-segment fixture
// in seconds. Never used where durability is under test.
class NoSyncFs final : public ForwardingFs {
 public:
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenWrite(p, m));
    return std::unique_ptr<WritableFile>(std::make_unique<NoSync>(std::move(f)));
  }
  Status SyncDir(const std::string&) override { return Status::Ok(); }

 private:
  class NoSync final : public ForwardingWritable {
   public:
    using ForwardingWritable::ForwardingWritable;
    Status Sync() override { return Status::Ok(); }
  };
};

repl::ApplyReport ApplyCounted(Fs& fs, const std::string& replica, const std::string& inbox) {
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  repl::ApplyReport rep;
  Status s = repl::ApplyWal(fs, o, &rep);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return rep;
}

}  // namespace

TEST_CASE("LOG-28 a no-op apply over an inbox of 10000 applied segments reads no segment") {
  TempDir t;
  NoSyncFs fast;
  REQUIRE(node::Node::Init(fast, t / "p").ok());
  {
    auto n = engine::ReferenceNode::Open(fast, t / "p", node::Access::kWrite);
    REQUIRE(n.ok());
    engine::WorkloadOptions w;
    w.write_sets = 10000;
    w.records_per_set = 1;
    w.body_bytes = 20;
    REQUIRE(engine::RunWorkload(**n, w).ok());
    REQUIRE((*n)->Close().ok());
  }
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipOptions so;
  so.data_dir = t / "p";
  so.target = t / "out";
  so.max_segment_bytes = 1;  // one write set per segment
  REQUIRE(repl::ShipWal(fast, so, nullptr).ok());
  REQUIRE(Segments(t / "out").size() == 10000);
  // The bootstrap (1..10000) records what it judged, as every run that ends in 0 does.
  ApplyCounted(fast, t / "r", t / "out");
  REQUIRE(fsys::exists(t / "r/replication/inbox"));
  // From then on a run with nothing new opens no segment.
  ReadCountingFs second;
  repl::ApplyReport b = ApplyCounted(second, t / "r", t / "out");
  CHECK(b.previously_checked == 10000);
  CHECK(b.segments.empty());
  CHECK(second.BytesRead(".seg") == 0);
  CHECK(second.Listings("/out") == 1);
  // Without the memo a run judges every segment (LOG-8: each a duplicate,
  // its header read), and records what it judged.
  fsys::remove_all(t / "r/replication/inbox");
  ReadCountingFs first;
  repl::ApplyReport a = ApplyCounted(first, t / "r", t / "out");
  CHECK(a.previously_checked == 0);
  CHECK(a.segments.size() == 10000);
  CHECK(first.BytesRead(".seg") >= 10000 * segment::kSegmentHeaderBytes);
  MESSAGE("no-op apply over 10000 segments read " << second.BytesRead("") << " bytes in all ("
                                                  << first.BytesRead("") << " before the memo)");
  // One new segment: the run reads it, and only it.
  Write(t / "p", 1, 7);
  REQUIRE(repl::ShipWal(fast, so, nullptr).ok());
  ReadCountingFs third;
  repl::ApplyReport c = ApplyCounted(third, t / "r", t / "out");
  CHECK(c.previously_checked == 10000);
  REQUIRE(c.segments.size() == 1);
  CHECK(c.segments[0].outcome == "applied");
  const uint64_t new_bytes = fsys::file_size(t / "out" / c.segments[0].name());
  CHECK(third.BytesRead(".seg") <= 2 * new_bytes);
  CHECK(StateOf(t / "r").applied_commit == 10001);
}

TEST_CASE("LOG-28 a segment that appears below the memo is judged: another history's duplicate still halts (4)") {
  TempDir t;
  // p in several segments; q's 1..25 in one, under another name.
  TwoHistories(t, 2000, repl::ShipOptions{}.max_segment_bytes);
  REQUIRE(Apply(t / "r", t / "out").ok());  // the memo: every segment of out judged
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  REQUIRE(rep.previously_checked == Segments(t / "out").size());
  const auto q = Segments(t / "qout");
  REQUIRE(q.size() == 1);
  REQUIRE(!FileExists(t / "out" / q[0]));
  fsys::copy(t / "qout" / q[0], t / "out" / q[0]);
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(HaltCode(t / "r") == "diverged");
}

TEST_CASE("LOG-28 a damaged memo is ignored: every segment judged, the memo rewritten") {
  TempDir t;
  Setup(t, 60);
  REQUIRE(Apply(t / "r", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());  // writes the memo
  const size_t n = Segments(t / "out").size();
  std::string memo;
  for (const auto& e : fsys::directory_iterator(t / "r/replication/inbox")) memo = e.path();
  REQUIRE_FALSE(memo.empty());
  const std::string good = ReadFile(memo);
  for (const std::string& bad :
       {std::string("{"), std::string("[]"), std::string(R"({"format":"1"})"),
        good.substr(0, good.size() / 2), std::string(70000, ' ')}) {
    WriteFile(memo, bad);
    repl::ApplyReport rep;
    REQUIRE(Apply(t / "r", t / "out", &rep).ok());
    CHECK(rep.previously_checked == 0);
    CHECK(rep.segments.size() == n);  // every one judged again
    repl::ApplyReport again;
    REQUIRE(Apply(t / "r", t / "out", &again).ok());
    CHECK(again.previously_checked == n);  // rewritten
  }
  // A memo of another inbox (its realpath inside) is not this one's.
  nlohmann::json j = nlohmann::json::parse(ReadFile(memo));
  j["inbox"] = "/elsewhere";
  WriteFile(memo, j.dump());
  repl::ApplyReport other;
  REQUIRE(Apply(t / "r", t / "out", &other).ok());
  CHECK(other.previously_checked == 0);
}

TEST_CASE("LOG-28 a file replaced under a judged name is judged again: another history's copy halts (4)") {
  TempDir t;
  TwoHistories(t, repl::ShipOptions{}.max_segment_bytes);  // p and q: one segment each, one name
  repl::ApplyReport first;
  REQUIRE(Apply(t / "r", t / "out", &first).ok());  // judged, the memo written
  repl::ApplyReport second;
  REQUIRE(Apply(t / "r", t / "out", &second).ok());
  REQUIRE(second.previously_checked == Segments(t / "out").size());
  REQUIRE(Segments(t / "out") == Segments(t / "qout"));
  InboxFromQ(t);  // q's file under p's name
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(HaltCode(t / "r") == "diverged");
}

TEST_CASE("RECOV-4 a replica restored from an older copy of itself catches up") {
  TempDir t;
  Setup(t, 20);
  REQUIRE(Apply(t / "r", t / "out").ok());
  fsys::copy(t / "r", t / "backup", fsys::copy_options::recursive);
  Write(t / "p", 25, 7);
  REQUIRE(Ship(t / "p", t / "out", 6000).ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  REQUIRE(StateOf(t / "r").applied_commit == 45);
  // The replica is lost and restored from the copy taken at commit 20: its
  // inbox memo and digest index are the copy's, and it re-applies 21..45.
  fsys::remove_all(t / "r");
  fsys::rename(t / "backup", t / "r");
  REQUIRE(StateOf(t / "r").applied_commit == 20);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  CHECK(rep.applied_commit == 45);
  int applied = 0, dups = 0;
  for (auto& s : rep.segments) {
    applied += s.outcome == "applied";
    dups += s.outcome == "duplicate";
  }
  CHECK(applied > 0);
  // The copy's segments at or below 20: passed over by its own memo (the
  // same files it judged), or judged again as duplicates.
  CHECK(dups + rep.previously_checked > 0);
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("RECOV-4 LOG-28 a restored copy whose inbox memo is newer than its state judges every segment") {
  TempDir t;
  Setup(t, 20);
  REQUIRE(Apply(t / "r", t / "out").ok());
  fsys::copy(t / "r", t / "backup", fsys::copy_options::recursive);
  Write(t / "p", 25, 7);
  REQUIRE(Ship(t / "p", t / "out", 6000).ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  REQUIRE(StateOf(t / "r").applied_commit == 45);
  // A copy taken file by file while apply-wal ran: state.json and the log
  // at commit 20, the inbox memo written at 45. The memo must not pass
  // over 21..45.
  fsys::remove_all(t / "backup/replication/inbox");
  fsys::copy(t / "r/replication/inbox", t / "backup/replication/inbox",
             fsys::copy_options::recursive);
  fsys::remove_all(t / "r");
  fsys::rename(t / "backup", t / "r");
  REQUIRE(StateOf(t / "r").applied_commit == 20);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r", t / "out", &rep).ok());
  CHECK(rep.previously_checked == 0);
  CHECK(rep.applied_commit == 45);
  CheckSameHistory(t / "p", t / "r");
}

// NODE-13: the transport writes into the inbox, so an inbox at or inside
// the replica's data directory is refused (2) before the replica is opened;
// the same segments beside it apply.
TEST_CASE("NODE-13 apply-wal --from at or inside the replica's data directory is 2, nothing applied") {
  TempDir t;
  Setup(t, 40);
  repl::ApplyOptions first;
  first.data_dir = t / "r";
  first.inbox = t / "out";
  first.until = 10;
  REQUIRE(repl::ApplyWal(PosixFs(), first, nullptr).ok());
  REQUIRE(PosixFs().MakeDir(t / "r/inbox").ok());
  for (auto& n : Segments(t / "out")) fsys::copy(t / "out" / n, t / "r/inbox" / n);
  fsys::create_directory_symlink(t / "r/inbox", t / "alias");
  for (const std::string& inbox : {t / "r/inbox", t / "alias", t / "r", t / "r/metadata/schemas"}) {
    CAPTURE(inbox);
    Status s = Apply(t / "r", inbox);
    CHECK(s.code() == Code::kUsage);
    CHECK(s.message() == "refusing to read '" + inbox + "': it is inside " + (t / "r") +
                             ", the replica's data directory (the transport would write into it, and "
                             "install --discard-existing or a re-bootstrap would remove the inbox with it)");
    CHECK(s.hint() == "give --from an inbox outside the replica's data directory");
    CHECK(StateOf(t / "r").applied_commit == 10);
  }
  fsys::remove_all(t / "r/inbox");
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

namespace {

// Counts the replacements of a node's state.json: one per acknowledgment.
class AckCountingFs final : public ForwardingFs {
 public:
  Status Rename(const std::string& from, const std::string& to) override {
    if (to.size() >= 10 && to.compare(to.size() - 10, 10, "state.json") == 0) ++acks;
    return ForwardingFs::Rename(from, to);
  }
  int acks = 0;
};

}  // namespace

TEST_CASE("LOG-13 LOG-33 an acknowledgment every ack_every_segments segments, however small") {
  TempDir t;
  MakePrimary(t / "p", 10);
  fsys::create_directories(t / "out");
  REQUIRE(ShipInto(t / "p", t / "out", 1).ok());  // one write set per segment: 10 segments
  auto run = [&](const std::string& replica, uint64_t every_segments) {
    repl::ApplyOptions o;
    o.data_dir = replica;
    o.inbox = t / "out";
    o.until = 1;
    REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());  // bootstrap at commit 1
    AckCountingFs fs;
    o.until.reset();
    o.ack_every_segments = every_segments;  // the bytes never reach ack_every_bytes here
    repl::ApplyReport rep;
    REQUIRE(repl::ApplyWal(fs, o, &rep).ok());
    CHECK(rep.applied_commit == 10);
    return fs.acks;
  };
  CHECK(run(t / "r1", 3) == 3);  // after segments 3, 6 and 9 of the 9, nothing left at the end
  CHECK(run(t / "r2", repl::ApplyOptions{}.ack_every_segments) == 1);  // at the end alone
  CheckSameHistory(t / "p", t / "r1");
}
