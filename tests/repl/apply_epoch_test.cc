// apply-wal across epochs (LOG-15, LOG-20, RECOV-3; FM-41, FM-45..FM-48,
// FM-63): a replica follows a failover exactly as the history files say.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "history/history_file.h"
#include "node/layout.h"
#include "repl/promote.h"
#include "repl/status.h"
#include "repl/verify.h"
#include "common/sha256.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

int Count(const repl::ApplyReport& rep, const std::string& outcome) {
  int n = 0;
  for (const auto& s : rep.segments) n += s.outcome == outcome;
  return n;
}

}  // namespace

TEST_CASE("LOG-15 LOG-20 FM-41 a replica follows the failover: epoch 1 to the branch, then epoch 2") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r2", t / "arch", &rep).ok());
  CHECK(rep.applied_commit == 40);
  const node::NodeState st = StateOf(t / "r2");
  CHECK(st.epoch == 2);
  CHECK(st.role == node::Role::kReplica);
  CHECK(ReadFile(t / "r2/replication/history/00000002.history") == ReadFile(t / "arch/00000002.history"));
  CheckSameHistory(t / "r", t / "r2");
  // A new replica bootstrapped from the archive follows the same switch.
  REQUIRE(Apply(t / "r3", t / "arch").ok());
  CHECK(StateOf(t / "r3").epoch == 2);
  CheckSameHistory(t / "r", t / "r3");
  // FM-45: the segment of the new epoch before its history file waits (8),
  // the replica unchanged, then goes on once the file arrives.
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  for (const std::string& n : Segments(t / "arch")) fsys::copy(t / "arch" / n, t / "in" / n);
  fsys::remove_all(t / "r3");
  Status waiting = Apply(t / "r4", t / "in");
  CHECK(waiting.code() == Code::kInTransit);
  CHECK(waiting.message().find("history file in transit '" + (t / "in/00000002.history") + "'") == 0);
  CHECK(StateOf(t / "r4").applied_commit == 30);
  CHECK(StateOf(t / "r4").epoch == 1);
  fsys::copy(t / "arch/00000002.history", t / "in/00000002.history");
  REQUIRE(Apply(t / "r4", t / "in").ok());
  CheckSameHistory(t / "r", t / "r4");
  // Promote at commit 0 and two promotions at one commit follow the same rule.
}

TEST_CASE("LOG-20 FM-63 segments of the old epoch beyond the branch point are skipped as superseded, late and out of order") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  // The old primary, partitioned, wrote 31..35 of epoch 1 and shipped them
  // into an outbox of its own (no history file there: not fenced). One
  // segment spans the branch point (1..35 in one file).
  Write(t / "p", 5, 8);
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(ShipInto(t / "p", t / "old", 1u << 30).ok());
  const std::vector<std::string> old = Segments(t / "old");
  REQUIRE(old.size() == 1);
  // They reach the archive late, after r2 followed epoch 2.
  REQUIRE(Apply(t / "r2", t / "arch").ok());
  fsys::copy(t / "old" / old[0], t / "arch" / old[0]);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r2", t / "arch", &rep).ok());
  CHECK(rep.applied_commit == 40);
  // Cut at the branch point: a duplicate through 30 whose digest there is
  // not in its header.
  bool seen = false;
  for (const auto& s : rep.segments) {
    if (s.name() == old[0]) {
      seen = true;
      CHECK(s.outcome == "not-checked");
    }
  }
  CHECK(seen);
  CheckSameHistory(t / "r", t / "r2");
  // verify says what apply-wal did with it: its commits 31..35 superseded.
  auto v = repl::Verify(PosixFs(), t / "arch", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  int notices = 0;
  for (const auto& f : v->findings) {
    if (f.kind == "superseded" && f.subject == t / "arch" / old[0]) {
      ++notices;
      CHECK(f.message.find("commits 31..35 belong to epoch 2 from commit 31; apply-wal takes this "
                           "segment through commit 30 only") != std::string::npos);
    }
  }
  CHECK(notices == 1);
  // A replica at the branch point meets the old epoch's segments too (at
  // one first commit the newer epoch sorts first, LOG-29): segments 31..35
  // of epoch 1 alone are skipped as superseded.
  fsys::remove(t / "arch" / old[0]);
  REQUIRE(PosixFs().MakeDir(t / "old2").ok());
  fsys::remove_all(t / "p/replication/shipped");
  REQUIRE(ShipInto(t / "p", t / "old2", 900).ok());
  int copied = 0;
  for (const std::string& n : Segments(t / "old2")) {
    if (segment::ParseSegmentName(n)->first_commit > 30) {
      fsys::copy(t / "old2" / n, t / "arch" / n);
      ++copied;
    }
  }
  REQUIRE(copied > 0);
  repl::ApplyReport boot;
  REQUIRE(Apply(t / "r5", t / "arch", &boot).ok());
  CHECK(Count(boot, "superseded") == copied);
  CheckSameHistory(t / "r", t / "r5");
}

TEST_CASE("LOG-20 FM-46 a replica that applied the old primary's superseded write sets halts as diverged") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  Write(t / "p", 5, 8);  // 31..35 of epoch 1, after the promotion
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(ShipInto(t / "p", t / "old").ok());
  REQUIRE(Apply(t / "r6", t / "old").ok());
  REQUIRE(StateOf(t / "r6").applied_commit == 35);
  // The failover's history file reaches its inbox.
  fsys::copy(t / "arch/00000002.history", t / "old/00000002.history");
  repl::ApplyReport rep;
  Status s = Apply(t / "r6", t / "old", &rep);
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message() == "diverged '" + (t / "old/00000002.history") +
                           "': commits 31..35 of epoch 1 were superseded by epoch 2, which began after commit 30");
  CHECK(rep.halted);
  auto halt = node::LoadHalt(PosixFs(), t / "r6");
  REQUIRE(halt.ok());
  REQUIRE(halt->has_value());
  CHECK((*halt)->code == "diverged");
  CHECK((*halt)->commit == 31);
}

TEST_CASE("LOG-15 FM-47 history files in the inbox: in transit waits, invalid, foreign and disagreeing ones halt") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  const std::string good = ReadFile(t / "arch/00000002.history");
  auto inbox_with = [&](const std::string& bytes) {
    fsys::remove_all(t / "in");
    fsys::remove_all(t / "rr");
    fsys::copy(t / "r2", t / "rr", fsys::copy_options::recursive);
    REQUIRE(PosixFs().MakeDir(t / "in").ok());
    for (const std::string& n : Segments(t / "arch")) fsys::copy(t / "arch" / n, t / "in" / n);
    WriteFile(t / "in/00000002.history", bytes);
  };
  auto halt_code = [&]() -> std::string {
    auto h = node::LoadHalt(PosixFs(), t / "rr");
    REQUIRE(h.ok());
    return *h ? (*h)->code : "";
  };
  // verify says what apply-wal does, once: the history file's problem, not
  // also "history file in transit" for each segment that needs it (a trial
  // found a damaged file reported as damaged and as in transit).
  auto verify_says = [&](Code want) {
    auto v = repl::Verify(PosixFs(), t / "in", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == want);
    for (const repl::Finding& f : v->findings) {
      CAPTURE(f.message);
      CHECK(f.message.find("history file in transit") == std::string::npos);
    }
  };
  // status says it too, with apply-wal's code (it said 1 for every one).
  auto status_says = [&](Code want) {
    auto st = repl::GetStatus(PosixFs(), t / "rr", std::string(t / "in"));
    REQUIRE(st.ok());
    CHECK(st->outcome() == want);
  };
  inbox_with(good.substr(0, 100));
  status_says(Code::kOk);  // in transit: said, not a problem (LOG-18)
  CHECK(Apply(t / "rr", t / "in").code() == Code::kInTransit);
  CHECK(halt_code().empty());
  verify_says(Code::kInTransit);
  std::string flipped = good;
  flipped[60] = static_cast<char>(flipped[60] ^ 1);
  inbox_with(flipped);
  status_says(Code::kDamage);
  CHECK(Apply(t / "rr", t / "in").code() == Code::kDamage);
  CHECK(halt_code() == "corrupt");
  verify_says(Code::kDamage);
  history::HistoryFile other = *history::DecodeHistoryFile(
      good, 2, node::LoadIdentity(PosixFs(), t / "r")->system_id, "x");
  other.system_id = *history::ParseSystemId("ffffffffffffffffffffffffffffffff");
  inbox_with(history::EncodeHistoryFile(other));
  status_says(Code::kRefused);
  CHECK(Apply(t / "rr", t / "in").code() == Code::kRefused);
  CHECK(halt_code() == "foreign");
  verify_says(Code::kRefused);
  // The replica already follows epoch 2 (its copy); the inbox brings a
  // rival claim of epoch 2: two histories.
  REQUIRE(Apply(t / "r2", t / "arch").ok());
  history::HistoryFile rival = *history::DecodeHistoryFile(
      good, 2, node::LoadIdentity(PosixFs(), t / "r")->system_id, "x");
  rival.claimant.fill(0x42);
  fsys::remove_all(t / "in");
  fsys::remove_all(t / "rr");
  fsys::copy(t / "r2", t / "rr", fsys::copy_options::recursive);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  WriteFile(t / "in/00000002.history", history::EncodeHistoryFile(rival));
  status_says(Code::kDiverged);
  Status s = Apply(t / "rr", t / "in");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("epoch 2 was claimed twice") != std::string::npos);
  CHECK(halt_code() == "diverged");
}

TEST_CASE("LOG-15 row 5 a segment of epoch 2 holding commits of epoch 1 is diverged") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  // A valid segment of epoch 2 over commits 21..30, which epoch 2 (from 31)
  // never ships: an epoch-1 segment with its epoch rewritten, its header
  // CRC and seal made again, under its epoch-2 name.
  std::string src;
  for (const std::string& n : Segments(t / "arch")) {
    const auto info = segment::ParseSegmentName(n);
    if (info->epoch == 1 && info->first_commit > 10 && info->last_commit <= 30) src = n;
  }
  REQUIRE(!src.empty());
  segment::SegmentHeader h = PlainHeaderOf(t / "arch" / src);
  h.epoch = 2;
  const std::string forged = WithHeader(ReadFile(t / "arch" / src), h);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  fsys::copy(t / "arch/00000002.history", t / "in/00000002.history");
  const std::string name = segment::SegmentName(2, h.first_commit, h.last_commit);
  WriteFile(t / "in" / name, forged);
  // r2 is at 30, so it is a duplicate in range: row 5 comes first.
  Status s = Apply(t / "r2", t / "in");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message() == "diverged at commit " + std::to_string(h.first_commit) + " '" + (t / "in" / name) +
                           "': epoch 2 began after commit 30");
  auto halt = node::LoadHalt(PosixFs(), t / "r2");
  REQUIRE(halt.ok());
  CHECK((*halt)->code == "diverged");
}

TEST_CASE("ARC-3 LOG-15 verify DIR gives apply-wal's exit code on inboxes across a failover") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  const std::string good = ReadFile(t / "arch/00000002.history");
  Write(t / "p", 10, 8);  // the old primary's superseded 31..40: its last segment ends where epoch 2's does
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(ShipInto(t / "p", t / "old", 900).ok());
  struct Case {
    const char* name;
    std::function<void(const std::string&)> make;
  };
  auto copy_arch = [&](const std::string& in) {
    for (const std::string& n : Segments(t / "arch")) fsys::copy(t / "arch" / n, in + "/" + n);
  };
  // LOG-20 with ARC-3: a superseded segment is passed over by its header
  // (or, past a gap, by its name): a body apply-wal never reads changes no
  // exit code, a cut file it opens is in transit (row 1 before row 6).
  auto late_damaged = [&](const std::string& in, bool cut) {
    copy_arch(in);
    WriteFile(in + "/00000002.history", good);
    std::vector<std::string> late;
    for (const std::string& n : Segments(t / "old")) {
      if (segment::ParseSegmentName(n)->first_commit > 30) late.push_back(n);
    }
    REQUIRE_FALSE(late.empty());
    for (const std::string& n : late) fsys::copy(t / "old" / n, in + "/" + n, fsys::copy_options::overwrite_existing);
    if (cut) {
      TruncateFile(in + "/" + late.back(), 150);
    } else {
      FlipBitInFile(in + "/" + late.front(), 400, 3);
    }
  };
  const std::vector<Case> cases = {
      {"the failover", [&](const std::string& in) { copy_arch(in); WriteFile(in + "/00000002.history", good); }},
      {"no history file yet", [&](const std::string& in) { copy_arch(in); }},
      {"history file cut", [&](const std::string& in) { copy_arch(in); WriteFile(in + "/00000002.history", good.substr(0, 50)); }},
      {"history file flipped",
       [&](const std::string& in) {
         copy_arch(in);
         std::string f = good;
         f[70] = static_cast<char>(f[70] ^ 2);
         WriteFile(in + "/00000002.history", f);
       }},
      {"late superseded segments",
       [&](const std::string& in) {
         copy_arch(in);
         WriteFile(in + "/00000002.history", good);
         for (const std::string& n : Segments(t / "old")) {
           if (segment::ParseSegmentName(n)->last_commit > 30) fsys::copy(t / "old" / n, in + "/" + n, fsys::copy_options::overwrite_existing);
         }
       }},
      // LOG-20 with ARC-3: a superseded segment is passed over by its
      // header (or, past a gap, by its name), so damage in its body, or its
      // being cut, changes no exit code where apply-wal never reads it.
      {"late superseded segments, one body flipped", [&](const std::string& in) { late_damaged(in, false); }},
      {"late superseded segments, one cut", [&](const std::string& in) { late_damaged(in, true); }},
      {"the old primary's segments, no history file",
       [&](const std::string& in) {
         for (const std::string& n : Segments(t / "old")) fsys::copy(t / "old" / n, in + "/" + n);
       }},
      {"both histories and the history file",
       [&](const std::string& in) {
         copy_arch(in);
         WriteFile(in + "/00000002.history", good);
         for (const std::string& n : Segments(t / "old")) fsys::copy(t / "old" / n, in + "/" + n, fsys::copy_options::skip_existing);
       }},
  };
  int agreed = 0;
  std::string codes;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    fsys::remove_all(t / "in");
    fsys::remove_all(t / "b");
    REQUIRE(PosixFs().MakeDir(t / "in").ok());
    c.make(t / "in");
    auto v = repl::Verify(PosixFs(), t / "in", {});
    REQUIRE(v.ok());
    if (std::string(c.name) == "late superseded segments") {
      // LOG-20: verify names each superseded segment, as apply-wal skips it.
      int superseded = 0;
      for (const auto& f : v->findings) superseded += f.kind == "superseded";
      CHECK(superseded > 0);
    }
    const Status applied = Apply(t / "b", t / "in");
    CHECK(v->outcome() == applied.code());
    agreed += v->outcome() == applied.code();
    codes += " " + std::to_string(ExitCodeOf(applied.code()));
  }
  MESSAGE("inboxes across a failover where verify and apply-wal agree: " << agreed << " of " << cases.size()
                                                                         << " (exit codes:" << codes << ")");
  CHECK(codes == " 0 8 8 1 0 0 8 0 0");
}

TEST_CASE("LOG-18 LOG-20 status's lag passes over superseded segments") {
  TempDir t;
  MakeFailover(t.path(), {.second_replica = true});
  REQUIRE(Apply(t / "r2", t / "arch").ok());  // at 40, epoch 2
  // The old primary's late 31..45 of epoch 1 reach the archive.
  Write(t / "p", 15, 8);
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(ShipInto(t / "p", t / "old").ok());
  for (const std::string& n : Segments(t / "old")) {
    if (segment::ParseSegmentName(n)->last_commit > 30) fsys::copy(t / "old" / n, t / "arch" / n);
  }
  auto st = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(st.ok());
  REQUIRE(st->inbox);
  CHECK(st->inbox->newest_commit == 40u);  // not 45: those are superseded
  CHECK(st->inbox->lag == 0);
  CHECK(st->problems.empty());
}

TEST_CASE("LOG-33 LOG-8 a segment applied only up to the branch point keeps its end for a duplicate that ends there") {
  TempDir t;
  MakeFailover(t.path(), {});
  // The old primary's 1..35 in one file, spanning epoch 2's branch point.
  Write(t / "p", 5, 8);
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(ShipInto(t / "p", t / "old", 1u << 30).ok());
  const std::vector<std::string> old = Segments(t / "old");
  REQUIRE(old.size() == 1);
  fsys::copy(t / "arch", t / "arch2", fsys::copy_options::recursive);
  fsys::copy(t / "old" / old[0], t / "arch2" / old[0]);
  // A new replica takes the arch's first epoch-1 segment, then the old
  // file as an overlap, cut at 30 (LOG-20): its end digest H(30) is the
  // one the arch's epoch-1 segment ending at 30 is checked against (row 7).
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r3", t / "arch2", &rep).ok());
  CHECK(rep.applied_commit == 40);
  bool cut = false, checked = false;
  for (const auto& s : rep.segments) {
    if (s.name() == old[0]) cut = s.outcome == "applied" && s.applied_to == 30;
    if (s.epoch == 1 && s.last_commit == 30 && s.first_commit > 1) checked = s.outcome == "duplicate";
  }
  CHECK(cut);
  CHECK(checked);  // not "not-checked": the digest at 30 was kept for it
  CheckSameHistory(t / "r", t / "r3");
}
