// OPS-7: progress of long work as counted bytes. The library calls a
// ProgressFn with (done, total), done <= total, last with done == total when
// the work completed; the CLI draws it (cli/common/progress.h). It returns
// nothing and decides nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "common/fs.h"

namespace aero {

using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Counts the bytes read through a file (Read and ReadAt, from any thread)
// towards one ProgressFn, calls to which it serialises. `base` is added to
// the count (a second pass over the same file), and reports never pass
// `total`.
class ProgressCounter {
 public:
  ProgressCounter(ProgressFn fn, uint64_t total) : fn_(std::move(fn)), total_(total) {}
  void Add(uint64_t n);
  // Sets the count (a pass that starts over), then reports it.
  void Set(uint64_t done);
  uint64_t total() const { return total_; }

 private:
  void Report(uint64_t done);
  ProgressFn fn_;
  uint64_t total_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  uint64_t reported_ = 0;  // the last count reported (under mu_)
};

// A ReadableFile that counts what is read from `inner` into `counter`.
std::unique_ptr<ReadableFile> CountReads(std::unique_ptr<ReadableFile> inner,
                                           ProgressCounter* counter);

}  // namespace aero
