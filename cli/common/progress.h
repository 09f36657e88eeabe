// OPS-6: the progress line on stderr, drawn from the library's counted
// bytes (OPS-7): "LABEL: done/total (pct%), rate, ETA m:ss", rewritten in
// place with \r, at the first report and then at most 4 times a second,
// finished with a newline.
#pragma once

#include <cstdint>
#include <string>

#include "common/progress.h"

namespace aero::cli {

enum class ProgressMode { kAuto, kOn, kOff };

// --progress / --no-progress (kAuto: on exactly when stderr is a terminal).
void SetProgressMode(ProgressMode mode);
bool ProgressEnabled();

class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // For the library's options; empty when progress is off (so the library
  // does not even count).
  ProgressFn Callback();
  void Update(uint64_t done, uint64_t total);
  // Draws the last state and ends the line with a newline (once; the
  // destructor calls it).
  void Finish();

 private:
  void Draw(double now);
  std::string label_;
  bool enabled_;
  bool drawn_ = false, finished_ = false, dirty_ = false;
  uint64_t done_ = 0, total_ = 0;
  double start_ = 0, last_draw_ = 0;
};

// Clears a drawn progress line before a log line is written (the log's sink
// calls it); the next update draws it again.
void ClearProgressForLog();

}  // namespace aero::cli
