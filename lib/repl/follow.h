// `ship-wal --follow`, `apply-wal --follow`: run the one-shot run again
// whenever what it reads changed (specs/REPLICATION_FOLLOW.md, FOLLOW-1..5).
// The only code of lib/ and cli/ that reads a clock or waits (FOLLOW-1): it
// decides when to look again, never what is safe; every run is ShipWal or
// ApplyWal, unchanged.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "repl/apply.h"
#include "repl/ship.h"

namespace aero::repl {

// FOLLOW-4: a stop request. RequestStop is async-signal-safe (an atomic
// store and a write(2) to an eventfd), so a signal handler may call it; the
// runs read flag() between segments, the waits watch wake_fd().
class StopToken {
 public:
  StopToken();
  ~StopToken();
  StopToken(const StopToken&) = delete;
  StopToken& operator=(const StopToken&) = delete;

  void RequestStop() noexcept;
  bool stop_requested() const noexcept { return flag_.load(std::memory_order_acquire); }
  const std::atomic<bool>* flag() const noexcept { return &flag_; }
  int wake_fd() const noexcept { return fd_; }  // -1 without an eventfd

 private:
  std::atomic<bool> flag_{false};
  int fd_ = -1;
};

// FOLLOW-4: SIGTERM and SIGINT call token->RequestStop() from now on. The
// token must live as long as the handlers are installed (the process).
Status StopOnSignals(StopToken* token);

enum class Wake { kChange, kTimeout, kStop };

// FOLLOW-2: inotify on a few directories, or (force_poll, inotify_init1 or
// inotify_add_watch failing) nothing but the timeout.
class ChangeWatcher {
 public:
  ChangeWatcher(const std::vector<std::string>& dirs, bool force_poll);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  bool polling() const { return fd_ < 0; }
  // Until an event in a watched directory (all pending ones drained), a stop
  // request, or timeout_ms.
  Wake Wait(uint64_t timeout_ms, const StopToken& stop);

 private:
  int fd_ = -1;
};

// The loop's time and waiting: real (a clock and a ChangeWatcher) or, in
// tests, a fake clock that advances by each wait.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual uint64_t NowMs() = 0;
  virtual Wake Wait(uint64_t timeout_ms) = 0;
};

// FOLLOW-3: what a run's outcome means for the follower.
enum class Verdict {
  kGoOn,           // 0
  kRetry,          // 7, 8: again at the next look, changed or not
  kBackOff,        // 10: again after a doubling backoff
  kWaitForChange,  // apply-wal's 3 and 9: again when the inbox changes
  kEnd,            // the follower ends with the run's code
};
Verdict ShipVerdict(const Status& run);
Verdict ApplyVerdict(const Status& run);

struct FollowOptions {
  uint64_t poll_interval_ms = 1000;  // FOLLOW-2: the longest wait between looks
  uint64_t max_delay_ms = 0;         // FOLLOW-5: how long a change may be held
  uint64_t full_bytes = 0;           // FOLLOW-5: growth that runs at once (0: none)
  uint64_t max_backoff_ms = 60000;   // FOLLOW-3
  bool force_poll = false;           // FOLLOW-2: no inotify (AERODB_REPL_FOLLOW_POLL=1)
  uint64_t idle_ms = 60000;          // OPS-9: how long without a run before `idle`
};

struct FollowHooks {
  std::function<std::string()> fingerprint;  // FOLLOW-2: what the loop compares
  std::function<uint64_t()> size;            // FOLLOW-5 (optional): the WAL's size
  std::function<Status()> run;               // one one-shot run
  std::function<Verdict(const Status&)> verdict;
  // OPS-9 (optional): called after idle_ms with no run, when the last run
  // succeeded (the follower is up to date as of this look).
  std::function<void()> idle;
};

// The loop of specs/REPLICATION_FOLLOW.md "The loop", in named steps.
class FollowLoop {
 public:
  FollowLoop(const FollowOptions& o, FollowHooks hooks, Waiter& waiter, const StopToken& stop)
      : o_(o), hooks_(std::move(hooks)), waiter_(waiter), stop_(stop) {}

  // Ok after a stop request; else the code of the run that ended it.
  Status Run();
  uint64_t runs() const { return runs_; }

 private:
  uint64_t NextLook(uint64_t now) const;
  bool Due(uint64_t now, bool changed);
  // Runs once; true when its outcome ends the follower.
  bool RunOnce();

  const FollowOptions o_;
  FollowHooks hooks_;
  Waiter& waiter_;
  const StopToken& stop_;
  std::string seen_;  // the fingerprint before the last run
  uint64_t size_at_run_ = 0;
  std::optional<uint64_t> held_since_;  // FOLLOW-5: a change seen, not yet run
  std::optional<uint64_t> retry_at_;    // FOLLOW-3: 7, 8, 10
  uint64_t backoff_ms_ = 0;             // FOLLOW-3: 10, doubling
  Status last_;
  uint64_t runs_ = 0;
  uint64_t last_active_ = 0;  // the last run's end, or the last idle call
};

// The followers (FOLLOW-2): ShipWal or ApplyWal at the start and at each
// change, with options.stop set to the token's flag (FOLLOW-4); `on_run`
// sees every run's outcome and report (apply-wal's returns the run's outcome
// after what the caller adds to it: RET-3's registration); `idle` is the
// loop's OPS-9 hook. Ok after a stop, else the ending code.
Status FollowShip(Fs& fs, ShipOptions options, const FollowOptions& follow, const StopToken& stop,
                  const std::function<void(const Status&, const ShipReport&)>& on_run,
                  const std::function<void()>& idle = {});
Status FollowApply(Fs& fs, ApplyOptions options, const FollowOptions& follow,
                   const StopToken& stop,
                   const std::function<Status(const Status&, const ApplyReport&)>& on_run,
                   const std::function<void()>& idle = {});

}  // namespace aero::repl
