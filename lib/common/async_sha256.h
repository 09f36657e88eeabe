// SHA-256 on a worker thread, so that hashing runs on the other core while
// the caller reads and decodes (a zstd segment's seal over its frame, SEG-7).
// Update() copies bytes into a bounded queue (at most kMaxQueued chunks of
// kChunkBytes, so memory stays flat); Finish() waits for the worker.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/sha256.h"

namespace aero {

class AsyncSha256 {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;
  static constexpr size_t kMaxQueued = 4;

  AsyncSha256();
  ~AsyncSha256();
  AsyncSha256(const AsyncSha256&) = delete;
  AsyncSha256& operator=(const AsyncSha256&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // The digest of everything passed to Update; call once.
  Sha256Digest Finish();

 private:
  void Flush();
  void Work();

  Sha256 sha_;  // touched only by the worker
  std::string pending_;  // the producer's current chunk
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool done_ = false;
  std::thread worker_;
};

}  // namespace aero
