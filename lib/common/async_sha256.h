// SHA-256 on a worker thread, so that hashing runs on the other core while
// the caller reads and decodes (a zstd segment's seal over its frame, SEG-7;
// a large snapshot member, SNAP-6). Update() copies bytes into chunks of
// kChunkBytes handed over through a WorkerQueue (memory stays flat);
// Finish() waits for the worker.
#pragma once

#include <string>
#include <string_view>

#include "common/sha256.h"
#include "common/worker_queue.h"

namespace aero {

class AsyncSha256 {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;

  AsyncSha256() { pending_.reserve(kChunkBytes); }
  AsyncSha256(const AsyncSha256&) = delete;
  AsyncSha256& operator=(const AsyncSha256&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // The digest of everything passed to Update; call once.
  Sha256Digest Finish();

 private:
  Sha256 sha_;  // touched only by the worker until Finish()
  std::string pending_;  // the producer's current chunk
  WorkerQueue<std::string> queue_{[this](std::string& chunk) { sha_.Update(chunk); }};
};

}  // namespace aero
