#include "cli/common/progress.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "cli/common/clock.h"
#include "cli/common/log.h"

namespace aero::cli {

namespace {

std::mutex g_mu;  // guards what follows and every write of a progress line
ProgressMode g_mode = ProgressMode::kAuto;
size_t g_shown = 0;  // visible characters of the line on stderr now (0: none)

constexpr double kMinInterval = 0.25;  // OPS-6: at most 4 draws a second

std::string Duration(double seconds) {
  if (!(seconds >= 0) || seconds > 360000) return "--:--";
  const auto s = static_cast<unsigned long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llu:%02llu", s / 60, s % 60);
  }
  return buf;
}

// Writes "\r" + text, padded over what was shown; g_mu held.
void Show(const std::string& text) {
  std::string line = "\r" + text;
  if (g_shown > text.size()) line.append(g_shown - text.size(), ' ');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  g_shown = text.size();
}

}  // namespace

void SetProgressMode(ProgressMode mode) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_mode = mode;
}

bool ProgressEnabled() {
  std::lock_guard<std::mutex> lock(g_mu);
  // OPS-6: the flags decide, else whether stderr is a terminal.
  if (g_mode == ProgressMode::kOn) return true;
  if (g_mode == ProgressMode::kOff) return false;
  return isatty(STDERR_FILENO) == 1;
}

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), enabled_(ProgressEnabled()) {}

ProgressLine::~ProgressLine() { Finish(); }

ProgressFn ProgressLine::Callback() {
  if (!enabled_) return {};
  return [this](uint64_t done, uint64_t total) { Update(done, total); };
}

void ProgressLine::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (finished_) return;
  done_ = done;
  total_ = total;
  const double now = MonotonicSeconds();
  if (!drawn_) {  // OPS-6: the first report is drawn, whatever the run's length
    start_ = now;
    Draw(now);
    return;
  }
  dirty_ = true;
  if (now - last_draw_ >= kMinInterval || g_shown == 0) Draw(now);
}

void ProgressLine::Draw(double now) {
  const double elapsed = now - start_;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string text = label_ + ": " + HumanBytes(done_) + "/" + HumanBytes(total_);
  if (total_ > 0) text += " (" + std::to_string(done_ * 100 / total_) + "%)";
  text += ", " + (rate > 0 ? HumanBytes(static_cast<uint64_t>(rate)) : std::string("-- B")) + "/s";
  text += ", ETA " + (done_ >= total_ ? std::string("0:00")
                                      : rate > 0 ? Duration((total_ - done_) / rate)
                                                 : std::string("--:--"));
  Show(text);
  drawn_ = true;
  dirty_ = false;
  last_draw_ = now;
}

void ProgressLine::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (finished_ || !drawn_) {
    finished_ = true;
    return;
  }
  finished_ = true;
  Draw(MonotonicSeconds());  // the final state, with the whole run's rate
  std::fputc('\n', stderr);
  std::fflush(stderr);
  g_shown = 0;
}

void ClearProgressForLog() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_shown == 0) return;
  std::string blank = "\r" + std::string(g_shown, ' ') + "\r";
  std::fwrite(blank.data(), 1, blank.size(), stderr);
  g_shown = 0;
}

}  // namespace aero::cli
