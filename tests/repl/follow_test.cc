// --follow (specs/REPLICATION_FOLLOW.md FOLLOW-2..FOLLOW-5): the watcher, the
// loop under a fake clock, the stop token at the runs' boundaries.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "node/store.h"
#include "repl/follow.h"
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {

// The loop's time: advances by each wait; `script` may change the world at
// each wait (a fingerprint, a size, a stop). Stops the loop after 1000 waits
// so that a broken loop fails instead of hanging.
struct FakeWaiter : repl::Waiter {
  uint64_t now = 0;
  int waits = 0;
  repl::StopToken* stop = nullptr;
  std::function<void(FakeWaiter&)> script = [](FakeWaiter&) {};
  uint64_t NowMs() override { return now; }
  repl::Wake Wait(uint64_t timeout_ms) override {
    now += timeout_ms;
    ++waits;
    script(*this);
    if (waits >= 1000 && stop) stop->RequestStop();
    return stop && stop->stop_requested() ? repl::Wake::kStop : repl::Wake::kTimeout;
  }
};

// Waits (outside the library: tests may sleep) until `done` holds, at most ~60 s.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace

TEST_CASE("FOLLOW-2 the watcher wakes on a file renamed into the directory") {
  TempDir t;
  repl::StopToken stop;
  repl::ChangeWatcher w({t.path()}, false);
  REQUIRE_FALSE(w.polling());  // inotify works where the tests run
  CHECK(w.Wait(0, stop) == repl::Wake::kTimeout);  // nothing happened yet
  WriteFile(t / ".x.tmp", "x");
  CHECK(w.Wait(0, stop) == repl::Wake::kChange);  // the temp file's events, drained
  CHECK(w.Wait(0, stop) == repl::Wake::kTimeout);
  REQUIRE(std::rename((t / ".x.tmp").c_str(), (t / "x").c_str()) == 0);
  CHECK(w.Wait(3600000, stop) == repl::Wake::kChange);  // the rename, not the hour
  stop.RequestStop();
  CHECK(w.Wait(3600000, stop) == repl::Wake::kStop);
}

TEST_CASE("FOLLOW-2 the poll fallback wakes at its interval and the loop finds the rename") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  repl::StopToken stop;
  {
    repl::ChangeWatcher w({t / "in"}, true);
    CHECK(w.polling());
    WriteFile(t / "in/y", "y");
    CHECK(w.Wait(1, stop) == repl::Wake::kTimeout);  // no events when polling
    REQUIRE(PosixFs().Remove(t / "in/y").ok());
  }
  REQUIRE(Ship(t / "p", t / "out", 3000).ok());
  for (bool force_poll : {true, false}) {
    CAPTURE(force_poll);
    const std::string inbox = t / (force_poll ? "in-poll" : "in-inotify");
    REQUIRE(PosixFs().MakeDir(inbox).ok());
    repl::StopToken token;
    repl::ApplyOptions o;
    o.data_dir = t / (force_poll ? "r-poll" : "r-inotify");
    o.inbox = inbox;
    repl::FollowOptions f;
    f.force_poll = force_poll;
    // Polling looks every 5 ms; inotify alone must wake the other (an hour).
    f.poll_interval_ms = force_poll ? 5 : 3600000;
    std::atomic<int> runs{0};
    Status result;
    std::thread follower([&] {
      result = repl::FollowApply(PosixFs(), o, f, token,
                                 [&](const Status& s, const repl::ApplyReport&) { ++runs; return s; });
    });
    // The first run finds no segment (9) and waits for a change of the inbox.
    REQUIRE(Eventually([&] { return runs.load() >= 1; }));
    for (const std::string& s : Segments(t / "out")) {  // as rsync does: temp file, rename
      std::filesystem::copy_file(t / "out" / s, inbox / ("." + s + ".tmp"));
      REQUIRE(std::rename((inbox / ("." + s + ".tmp")).c_str(), (inbox / s).c_str()) == 0);
    }
    const bool applied = Eventually([&] {
      return FileExists(o.data_dir) && StateOf(o.data_dir).applied_commit == 60;
    });
    token.RequestStop();
    follower.join();
    CHECK(applied);
    CHECK(result.ok());
    CheckSameHistory(t / "p", o.data_dir);
  }
}

TEST_CASE("FOLLOW-2 the loop runs at its start and again only when the fingerprint changed") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  std::string fp = "a";
  std::vector<uint64_t> run_at;
  repl::FollowHooks h;
  h.fingerprint = [&] { return fp; };
  h.run = [&] {
    run_at.push_back(w.now);
    return Status::Ok();
  };
  h.verdict = repl::ShipVerdict;
  w.script = [&](FakeWaiter& me) {
    if (me.waits == 10) fp = "b";  // one change after ten quiet looks
    if (me.waits == 20) stop.RequestStop();
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 100;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());
  REQUIRE(run_at.size() == 2);
  CHECK(run_at[0] == 0);     // at the start
  CHECK(run_at[1] == 1000);  // at the look that saw the change, not before, not again
}

TEST_CASE("FOLLOW-3 a diverged run ends the loop with 4, transient codes keep it") {
  for (auto verdict : {repl::ShipVerdict, repl::ApplyVerdict}) {
    CHECK(verdict(Status(Code::kOk, "x")) == repl::Verdict::kGoOn);
    CHECK(verdict(Status(Code::kLocked, "x")) == repl::Verdict::kRetry);
    CHECK(verdict(Status(Code::kInTransit, "x")) == repl::Verdict::kRetry);
    CHECK(verdict(Status(Code::kIo, "x")) == repl::Verdict::kBackOff);
    for (Code c : {Code::kDamage, Code::kUsage, Code::kDiverged, Code::kRefused, Code::kHalted,
                   Code::kAhead, Code::kInternal}) {
      CHECK(verdict(Status(c, "x")) == repl::Verdict::kEnd);
    }
  }
  CHECK(repl::ShipVerdict(Status(Code::kGap, "x")) == repl::Verdict::kEnd);  // LOG-23: needs an operator
  CHECK(repl::ShipVerdict(Status(Code::kNotFound, "x")) == repl::Verdict::kEnd);
  CHECK(repl::ApplyVerdict(Status(Code::kGap, "x")) == repl::Verdict::kWaitForChange);  // a segment may come
  CHECK(repl::ApplyVerdict(Status(Code::kNotFound, "x")) == repl::Verdict::kWaitForChange);
  // LOG-25: a fence or halt a writer kept from being recorded is retried,
  // so a follower never ends with the primary still unfenced.
  const Status unrecorded = node::NotRecorded(Status(Code::kRefused, "node is fenced 'p'"), "p");
  CHECK(unrecorded.code() == Code::kRefused);
  CHECK(repl::ShipVerdict(unrecorded) == repl::Verdict::kRetry);
  CHECK(repl::ShipVerdict(Status(Code::kRefused, "node is fenced 'p'")) == repl::Verdict::kEnd);

  // The loop: 7, 8 and 10 are retried with nothing changed; 4 ends it.
  for (auto verdict : {repl::ShipVerdict, repl::ApplyVerdict}) {
    repl::StopToken stop;
    FakeWaiter w;
    w.stop = &stop;
    std::vector<Code> outcomes = {Code::kLocked, Code::kInTransit, Code::kIo, Code::kDiverged,
                                  Code::kOk};
    size_t next = 0;
    repl::FollowHooks h;
    h.fingerprint = [] { return std::string("same"); };
    h.run = [&] {
      const Code c = outcomes.at(next++);
      return c == Code::kOk ? Status::Ok() : Status(c, "outcome");
    };
    h.verdict = verdict;
    repl::FollowLoop loop({}, h, w, stop);
    Status s = loop.Run();
    CHECK(s.code() == Code::kDiverged);
    CHECK(loop.runs() == 4);
  }
}

TEST_CASE("FOLLOW-3 an I/O fault backs off and a success resets the backoff") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  std::string fp = "a";
  std::vector<Code> outcomes = {Code::kIo, Code::kIo, Code::kIo, Code::kIo, Code::kOk, Code::kIo,
                                Code::kOk};
  size_t next = 0;
  std::vector<uint64_t> run_at;
  repl::FollowHooks h;
  h.fingerprint = [&] { return fp; };
  h.run = [&] {
    run_at.push_back(w.now);
    const Code c = outcomes.at(next++);
    if (next == outcomes.size()) stop.RequestStop();
    return c == Code::kOk ? Status::Ok() : Status(c, "disk full");
  };
  h.verdict = repl::ApplyVerdict;
  w.script = [&](FakeWaiter& me) {
    fp = std::to_string(me.waits);  // the inbox changes at every look
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 100;
  o.max_backoff_ms = 300;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());  // stopped after the last run
  REQUIRE(run_at.size() == 7);
  CHECK(run_at[1] - run_at[0] == 100);  // the poll interval
  CHECK(run_at[2] - run_at[1] == 200);  // doubled: changes do not cut it short
  CHECK(run_at[3] - run_at[2] == 300);  // capped
  CHECK(run_at[4] - run_at[3] == 300);
  CHECK(run_at[5] - run_at[4] == 100);  // a success: the next change runs at the next look
  CHECK(run_at[6] - run_at[5] == 100);  // reset: back to the poll interval
}

TEST_CASE("FOLLOW-5 a change waits max_delay_ms, a full segment's growth runs at once") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  std::string fp = "a";
  uint64_t size = 1000;
  std::vector<uint64_t> run_at;
  repl::FollowHooks h;
  h.fingerprint = [&] { return fp; };
  h.size = [&] { return size; };
  h.run = [&] {
    run_at.push_back(w.now);
    return Status::Ok();
  };
  h.verdict = repl::ShipVerdict;
  w.script = [&](FakeWaiter& me) {
    fp = std::to_string(me.waits);  // a steady writer: a change at every look
    size += 10;
    if (run_at.size() == 3) size += 1u << 20;  // a burst: a full segment at once
    if (run_at.size() == 4) stop.RequestStop();
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 100;
  o.max_delay_ms = 450;
  o.full_bytes = 1u << 20;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());
  REQUIRE(run_at.size() == 4);
  CHECK(run_at[0] == 0);
  // The change seen at 100 is held until 100 + 450, then the next one from 650.
  CHECK(run_at[1] == 550);
  CHECK(run_at[2] == 1100);
  // The burst grew the WAL by a segment: run at the look that saw it.
  CHECK(run_at[3] == 1200);
}

TEST_CASE("FOLLOW-4 a stop request ends ship-wal at a segment boundary, the position saved") {
  TempDir t;
  MakePrimary(t / "p", 200);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  std::atomic<bool> stop{true};
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.max_segment_bytes = 3000;
  o.stop = &stop;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), o, &rep).ok());
  REQUIRE(rep.segments.size() == 1);  // the first boundary
  CHECK(rep.position_saved);
  CHECK(rep.shipped_commit == rep.segments[0].last_commit);
  CHECK(rep.shipped_commit < 200);
  CHECK(Segments(t / "out").size() == 1);
  // The next run continues from the saved position, and the whole converges.
  o.stop = nullptr;
  repl::ShipReport rest;
  REQUIRE(repl::ShipWal(PosixFs(), o, &rest).ok());
  CHECK(rest.from_commit == rep.shipped_commit);
  CHECK(rest.segments.front().first_commit == rep.shipped_commit + 1);
  CHECK(rest.shipped_commit == 200);
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

namespace {

// Requests a stop when the first segment of the inbox is opened.
class StopAtFirstSegment : public ForwardingFs {
 public:
  explicit StopAtFirstSegment(std::atomic<bool>& stop) : stop_(stop) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (p.size() > 4 && p.substr(p.size() - 4) == ".seg") stop_ = true;
    return ForwardingFs::OpenRead(p);
  }

 private:
  std::atomic<bool>& stop_;
};

}  // namespace

TEST_CASE("FOLLOW-4 a stop request ends apply-wal between segments, acknowledged") {
  TempDir t;
  MakePrimary(t / "p", 200);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 3000).ok());
  const size_t segments = Segments(t / "in").size();
  REQUIRE(segments > 3);
  REQUIRE(Ship(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());  // the replica exists
  REQUIRE(Apply(t / "r", t / "in").ok());  // LOG-28: its memo passes over these segments
  Write(t / "p", 100, 7, 3, 120);
  REQUIRE(Ship(t / "p", t / "in", 3000).ok());
  std::atomic<bool> stop{false};
  StopAtFirstSegment fs(stop);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "in";
  o.stop = &stop;
  repl::ApplyReport rep;
  REQUIRE(repl::ApplyWal(fs, o, &rep).ok());
  CHECK(stop.load());
  REQUIRE(rep.segments.size() == 1);  // the segment it had opened, nothing after
  CHECK(rep.segments[0].outcome == "applied");
  CHECK(rep.from_commit == 200);
  CHECK(rep.applied_commit == rep.segments[0].last_commit);
  CHECK(rep.applied_commit < 300);
  CHECK(StateOf(t / "r").applied_commit == rep.applied_commit);  // acknowledged, durable
  o.stop = nullptr;
  REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("FOLLOW-4 a stop while waiting ends the loop with 0") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  w.script = [&](FakeWaiter&) { stop.RequestStop(); };
  repl::FollowHooks h;
  h.fingerprint = [] { return std::string("x"); };
  h.run = [] { return Status(Code::kLocked, "ship in progress"); };  // a retry pending: still 0
  h.verdict = repl::ShipVerdict;
  repl::FollowLoop loop({}, h, w, stop);
  CHECK(loop.Run().ok());
  CHECK(loop.runs() == 1);
  CHECK(w.waits == 1);
}

TEST_CASE("FOLLOW-5 a change that goes back before it runs leaves no held time behind: no busy loop") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  std::string fp = "a";
  int runs = 0;
  repl::FollowHooks h;
  h.fingerprint = [&] { return fp; };
  h.run = [&] {
    ++runs;
    return Status::Ok();
  };
  h.verdict = repl::ShipVerdict;
  w.script = [&](FakeWaiter& me) {
    if (me.waits == 2) fp = "b";  // a file came (held: max-delay) ...
    if (me.waits == 3) fp = "a";  // ... and went before the delay ran out
    if (me.now >= 10000) stop.RequestStop();
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 1000;
  o.max_delay_ms = 200;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());
  CHECK(runs == 1);
  CHECK(w.waits <= 15);  // 10 s of looks a second; before: a thousand waits of 0 ms
}

TEST_CASE("OPS-9 an idle follower calls its idle hook once a minute after a run that succeeded") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  int idles = 0;
  repl::FollowHooks h;
  h.fingerprint = [] { return std::string("a"); };
  h.run = [] { return Status::Ok(); };
  h.verdict = repl::ShipVerdict;
  h.idle = [&] { ++idles; };
  w.script = [&](FakeWaiter& me) {
    if (me.now >= 185000) stop.RequestStop();
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 1000;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());
  CHECK(idles == 3);  // at 60, 120 and 180 s
}

TEST_CASE("FOLLOW-2 a follower waiting at a gap runs again when the replica changes under it") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ShipInto(t / "p", t / "out", 3000).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() >= 3);
  // The follower's inbox lacks the second segment; another inbox holds it.
  const std::string inbox = t / "in", side = t / "side";
  REQUIRE(PosixFs().MakeDir(inbox).ok());
  REQUIRE(PosixFs().MakeDir(side).ok());
  for (size_t i = 0; i < segs.size(); ++i) {
    std::filesystem::copy_file(t / "out" / segs[i], (i == 1 ? side : inbox) + "/" + segs[i]);
  }
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = inbox;
  repl::FollowOptions f;
  f.poll_interval_ms = 20;
  repl::StopToken token;
  std::atomic<int> gaps{0};
  Status result;
  std::thread follower([&] {
    result = repl::FollowApply(PosixFs(), o, f, token, [&](const Status& s, const repl::ApplyReport&) {
      if (s.code() == Code::kGap) ++gaps;
      return s;
    });
  });
  CHECK(Eventually([&] { return gaps.load() >= 1; }));
  // An operator closes the gap with a one-shot run from the other inbox.
  Status closed;
  REQUIRE(Eventually([&] { return (closed = Apply(t / "r", side)).code() != Code::kLocked; }));
  REQUIRE(closed.ok());
  CHECK(Eventually([&] { return StateOf(t / "r").applied_commit == 30; }));  // before: waited for ever
  token.RequestStop();
  follower.join();
  CHECK(result.ok());
}

TEST_CASE("OPS-9 FOLLOW-3 a follower waiting after a failed run never spins once its idle minute has passed") {
  repl::StopToken stop;
  FakeWaiter w;
  w.stop = &stop;
  int idles = 0;
  repl::FollowHooks h;
  h.fingerprint = [] { return std::string("a"); };
  h.run = [] { return Status(Code::kGap, "gap"); };  // waits for a change of the inbox
  h.verdict = repl::ApplyVerdict;
  h.idle = [&] { ++idles; };
  w.script = [&](FakeWaiter& me) {
    if (me.now >= 185000) stop.RequestStop();
  };
  repl::FollowOptions o;
  o.poll_interval_ms = 1000;
  repl::FollowLoop loop(o, h, w, stop);
  CHECK(loop.Run().ok());
  CHECK(idles == 0);        // no success to vouch for
  CHECK(w.waits <= 200);    // a look a second; before: 0 ms waits from the 60th second on
}
