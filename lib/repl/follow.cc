#include "repl/follow.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "archive/open_archive.h"
#include "common/file_util.h"
#include "node/layout.h"
#include "node/store.h"

namespace aero::repl {

// ---- StopToken (FOLLOW-4) ----

StopToken::StopToken() { fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

StopToken::~StopToken() {
  if (fd_ >= 0) close(fd_);
}

void StopToken::RequestStop() noexcept {
  flag_.store(true, std::memory_order_release);
  if (fd_ >= 0) {
    const uint64_t one = 1;
    ssize_t n = write(fd_, &one, sizeof one);  // async-signal-safe
    (void)n;
  }
}

namespace {

std::atomic<StopToken*> g_signal_token{nullptr};

extern "C" void OnStopSignal(int) {
  if (StopToken* t = g_signal_token.load()) t->RequestStop();
}

}  // namespace

Status StopOnSignals(StopToken* token) {
  g_signal_token.store(token);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a run's reads and writes go on; the flag stops it
  for (int sig : {SIGTERM, SIGINT}) {
    if (sigaction(sig, &sa, nullptr) != 0) {
      return Status(Code::kIo, Problem("cannot handle signals", "sigaction", std::strerror(errno)),
                    "run without --follow");
    }
  }
  return Status::Ok();
}

// ---- ChangeWatcher (FOLLOW-2) ----

ChangeWatcher::ChangeWatcher(const std::vector<std::string>& dirs, bool force_poll) {
  if (force_poll) return;
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;  // polling
  const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
                        IN_MODIFY | IN_ATTRIB;
  for (const std::string& d : dirs) {
    if (inotify_add_watch(fd_, d.c_str(), mask) < 0) {
      close(fd_);  // one directory unwatched would miss its changes: poll them all
      fd_ = -1;
      return;
    }
  }
}

ChangeWatcher::~ChangeWatcher() {
  if (fd_ >= 0) close(fd_);
}

Wake ChangeWatcher::Wait(uint64_t timeout_ms, const StopToken& stop) {
  if (stop.stop_requested()) return Wake::kStop;
  pollfd fds[2];
  nfds_t n = 0;
  if (stop.wake_fd() >= 0) fds[n++] = {stop.wake_fd(), POLLIN, 0};
  const nfds_t inotify_at = n;
  if (fd_ >= 0) fds[n++] = {fd_, POLLIN, 0};
  const int timeout = static_cast<int>(std::min<uint64_t>(timeout_ms, 1u << 30));
  const int r = poll(fds, n, timeout);
  if (stop.stop_requested()) return Wake::kStop;
  if (r <= 0) return Wake::kTimeout;  // a timeout, or EINTR: the caller looks again
  if (fd_ >= 0 && (fds[inotify_at].revents & POLLIN)) {
    alignas(inotify_event) char buf[4096];
    while (read(fd_, buf, sizeof buf) > 0) {
    }
    return Wake::kChange;
  }
  return Wake::kTimeout;
}

// ---- Verdicts (FOLLOW-3) ----

Verdict ShipVerdict(const Status& run) {
  // A fence or halt a writer kept from being recorded: again until it is,
  // never the end of the follower with the node still unfenced (LOG-25).
  if (node::IsNotRecorded(run)) return Verdict::kRetry;  // LOG-25
  switch (run.code()) {
    case Code::kOk: return Verdict::kGoOn;
    case Code::kLocked:
    case Code::kInTransit: return Verdict::kRetry;
    case Code::kIo: return Verdict::kBackOff;
    default: return Verdict::kEnd;  // 1, 2, 3 (LOG-23), 4, 5, 6, 9, 70
  }
}

Verdict ApplyVerdict(const Status& run) {
  if (node::IsNotRecorded(run)) return Verdict::kRetry;
  switch (run.code()) {
    case Code::kOk: return Verdict::kGoOn;
    case Code::kLocked:
    case Code::kInTransit: return Verdict::kRetry;
    case Code::kIo: return Verdict::kBackOff;
    case Code::kGap:
    case Code::kNotFound: return Verdict::kWaitForChange;
    default: return Verdict::kEnd;  // 1, 2, 4, 5, 6, 70
  }
}

// ---- FollowLoop ----

Status FollowLoop::Run() {
  if (RunOnce()) return last_;  // FOLLOW-2: a run at the start
  while (!stop_.stop_requested()) {
    const uint64_t now = waiter_.NowMs();
    const uint64_t next = NextLook(now);
    if (waiter_.Wait(next > now ? next - now : 0) == Wake::kStop) break;
    const uint64_t at = waiter_.NowMs();
    if (hooks_.idle && last_.ok() && at >= last_active_ + o_.idle_ms) {  // OPS-9
      hooks_.idle();
      last_active_ = at;
    }
    if (!Due(at, hooks_.fingerprint() != seen_)) continue;
    if (RunOnce()) return last_;
  }
  return Status::Ok();  // FOLLOW-4
}

// The next look: the poll interval, or sooner for a retry or a held change.
uint64_t FollowLoop::NextLook(uint64_t now) const {
  uint64_t next = now + o_.poll_interval_ms;
  if (retry_at_) next = std::min(next, *retry_at_);
  if (held_since_) next = std::min(next, *held_since_ + o_.max_delay_ms);
  // The idle hook's time only after a success: after a gap (3) or no
  // segment (9) nothing moves last_active_, and a past time here would make
  // every later wait 0 ms (a busy loop).
  if (hooks_.idle && last_.ok()) next = std::min(next, last_active_ + o_.idle_ms);
  return next;
}

// Whether to run now (FOLLOW-2, FOLLOW-3, FOLLOW-5). Time and sizes decide
// only this (FOLLOW-1).
bool FollowLoop::Due(uint64_t now, bool changed) {
  if (retry_at_ && now >= *retry_at_) return true;  // 7, 8, or a backoff that ran out
  if (!changed) {
    // A change that went back before it ran (a file that came and went)
    // holds nothing: a held time left behind would make every later look
    // due at once, a busy loop until the next real change.
    held_since_.reset();
    return false;
  }
  if (backoff_ms_ > 0 && retry_at_) return false;  // 10: a change does not cut the backoff short
  if (o_.max_delay_ms == 0) return true;
  if (!held_since_) held_since_ = now;
  if (now - *held_since_ >= o_.max_delay_ms) return true;
  return o_.full_bytes > 0 && hooks_.size && hooks_.size() >= size_at_run_ + o_.full_bytes;
}

bool FollowLoop::RunOnce() {
  seen_ = hooks_.fingerprint();  // before the run: what changes during it is seen after
  size_at_run_ = hooks_.size ? hooks_.size() : 0;
  held_since_.reset();
  retry_at_.reset();
  ++runs_;
  last_ = hooks_.run();
  const uint64_t now = waiter_.NowMs();  // retries count from the run's end
  last_active_ = now;
  switch (hooks_.verdict(last_)) {
    case Verdict::kGoOn:
    case Verdict::kWaitForChange: backoff_ms_ = 0; return false;
    case Verdict::kRetry: retry_at_ = now + o_.poll_interval_ms; return false;
    case Verdict::kBackOff:
      backoff_ms_ = backoff_ms_ == 0 ? o_.poll_interval_ms
                                     : std::min(backoff_ms_ * 2, o_.max_backoff_ms);
      retry_at_ = now + backoff_ms_;
      return false;
    case Verdict::kEnd: return true;
  }
  return true;
}

// ---- The followers ----

namespace {

class RealWaiter : public Waiter {
 public:
  RealWaiter(const std::vector<std::string>& dirs, bool force_poll, const StopToken& stop)
      : watcher_(dirs, force_poll), stop_(stop) {}
  uint64_t NowMs() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  Wake Wait(uint64_t timeout_ms) override { return watcher_.Wait(timeout_ms, stop_); }

 private:
  ChangeWatcher watcher_;
  const StopToken& stop_;
};

std::string StatPrint(Fs& fs, const std::string& path) {
  Result<FileInfo> i = fs.Stat(path);
  if (!i.ok()) return path + " -\n";
  return path + " " + std::to_string(i->device) + ":" + std::to_string(i->inode) + ":" +
         std::to_string(i->size) + ":" + std::to_string(i->mtime_ns) + "\n";
}

// FOLLOW-2: the inbox's non-hidden entries with size and modification time.
std::string InboxPrint(Fs& fs, const std::string& inbox) {
  Result<std::vector<DirEntry>> entries = fs.ListDir(inbox);
  if (!entries.ok()) return "-";
  std::vector<std::string> names;
  for (const DirEntry& e : *entries) {
    if (!e.name.empty() && e.name[0] != '.') names.push_back(e.name);
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += StatPrint(fs, JoinPath(inbox, n));
  return out;
}

// The same for an object store (objects are whole once listed: names do).
std::string ArchivePrint(archive::Archive& a) {
  Result<std::vector<archive::ArchiveEntry>> entries = a.List();
  if (!entries.ok()) return "-";
  std::vector<std::string> names;
  for (const archive::ArchiveEntry& e : *entries) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += n + "\n";
  return out;
}

}  // namespace

Status FollowShip(Fs& fs, ShipOptions options, const FollowOptions& follow, const StopToken& stop,
                  const std::function<void(const Status&, const ShipReport&)>& on_run,
                  const std::function<void()>& idle) {
  options.stop = stop.flag();  // FOLLOW-4
  const std::string wal = JoinPath(options.data_dir, node::kWalFile);
  const std::vector<std::string> watched = {
      wal, JoinPath(options.data_dir, node::kStateFile), JoinPath(options.data_dir, node::kHaltFile),
      JoinPath(options.data_dir, node::kCheckpointFile)};
  FollowHooks hooks;
  hooks.fingerprint = [&fs, watched] {
    std::string fp;
    for (const std::string& p : watched) fp += StatPrint(fs, p);
    return fp;
  };
  hooks.size = [&fs, wal]() -> uint64_t {
    Result<FileInfo> i = fs.Stat(wal);
    return i.ok() ? i->size : 0;
  };
  hooks.run = [&fs, &options, &on_run] {
    ShipReport rep;
    Status s = ShipWal(fs, options, &rep);  // FOLLOW-1: the one-shot run, unchanged
    on_run(s, rep);
    return s;
  };
  hooks.verdict = ShipVerdict;
  hooks.idle = idle;
  RealWaiter waiter({options.data_dir, JoinPath(options.data_dir, node::kWalDir),
                     JoinPath(options.data_dir, node::kReplicationDir)},
                    follow.force_poll, stop);
  return FollowLoop(follow, std::move(hooks), waiter, stop).Run();
}

Status FollowApply(Fs& fs, ApplyOptions options, const FollowOptions& follow,
                   const StopToken& stop,
                   const std::function<Status(const Status&, const ApplyReport&)>& on_run,
                   const std::function<void()>& idle) {
  options.stop = stop.flag();  // FOLLOW-4
  // OBJ-12: an s3:// inbox is listed through its archive and polled (no
  // inotify reaches a store); a directory must exist.
  const bool store = archive::IsObjectStore(options.inbox);
  std::unique_ptr<archive::Archive> listed;
  if (store) {
    AERO_ASSIGN_OR_RETURN(listed, archive::OpenArchive(fs, options.inbox));
  } else {
    AERO_ASSIGN_OR_RETURN(const std::optional<FileInfo> inbox, StatIfThere(fs, options.inbox));  // FM-139
    if (!inbox || !inbox->is_dir) {
      return Status(Code::kNotFound, Problem("inbox not found", options.inbox, "no such directory"),
                    "create the inbox directory first; --follow waits for segments in it");
    }
  }
  FollowHooks hooks;
  // The replica's state.json too: an operator's snapshot install or unhalt
  // under a follower waiting at a gap is a change to run again for (seen at
  // the next look; the inbox alone is watched).
  // The follower's own runs rewrite state.json: a print taken after its
  // run is its own, not a change to run again for.
  const std::string state = JoinPath(options.data_dir, node::kStateFile);
  auto own_state = std::make_shared<std::string>();
  hooks.fingerprint = [&fs, &options, &listed, state, own_state] {
    const std::string now = StatPrint(fs, state);
    return (listed ? ArchivePrint(*listed) : InboxPrint(fs, options.inbox)) + (now == *own_state ? "own\n" : now);
  };
  hooks.run = [&fs, &options, &on_run, state, own_state] {
    ApplyReport rep;
    Status s = ApplyWal(fs, options, &rep);  // FOLLOW-1: the one-shot run, unchanged
    *own_state = StatPrint(fs, state);
    return on_run(s, rep);                   // FOLLOW-3: with its registration (RET-3)
  };
  hooks.verdict = ApplyVerdict;
  hooks.idle = idle;
  RealWaiter waiter(store ? std::vector<std::string>{} : std::vector<std::string>{options.inbox},
                    follow.force_poll || store, stop);
  return FollowLoop(follow, std::move(hooks), waiter, stop).Run();
}

}  // namespace aero::repl
