// Bytes handed to a sink (a file's Append) on a worker thread, so that the
// copy into the page cache overlaps with the producer's reading, checking
// and hashing (apply-wal: the replica's WAL is written while the segment is
// still being verified, LOG-13). Memory is flat: at most kMaxQueued chunks of
// kChunkBytes wait. Order is kept; after the sink's first error the rest is
// dropped and Finish() returns that error.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace aero {

class BackgroundWriter {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;
  static constexpr size_t kMaxQueued = 4;
  using Sink = std::function<Status(std::string_view)>;

  explicit BackgroundWriter(Sink sink);
  ~BackgroundWriter();  // waits for the worker; what is queued is dropped
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  void Write(std::string_view bytes);  // producer only
  // Hands over everything and waits until the sink has it; the first error.
  Status Finish();

 private:
  void Flush();
  void Work();

  Sink sink_;
  std::string pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::vector<std::string> spare_;
  bool done_ = false, cancelled_ = false;
  Status error_;  // under mu_
  std::thread worker_;
};

}  // namespace aero
