// Bytes handed to a sink (a file's Append) on a worker thread, so that the
// copy into the page cache overlaps with the producer's reading, checking
// and hashing (apply-wal writes the replica's WAL while the segment is still
// being verified, LOG-13; install writes members, SNAP-10). A WorkerQueue of
// kChunkBytes chunks keeps memory flat. Order is kept; after the sink's first
// error the rest is dropped and Finish() returns that error.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/worker_queue.h"

namespace aero {

class BackgroundWriter {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;
  using Sink = std::function<Status(std::string_view)>;

  explicit BackgroundWriter(Sink sink) : sink_(std::move(sink)) { pending_.reserve(kChunkBytes); }
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  void Write(std::string_view bytes);  // producer only
  // Hands over everything and waits until the sink has it; the first error.
  Status Finish();

 private:
  Sink sink_;
  Status error_;  // the worker's until Finish()
  std::string pending_;
  WorkerQueue<std::string> queue_{[this](std::string& chunk) {
    if (error_.ok()) error_ = sink_(chunk);
  }};
};

}  // namespace aero
