// Bytes handed to a sink (a file's Append) on a worker thread, so that the
// copy into the page cache overlaps with the producer's reading, checking
// and hashing (apply-wal writes the replica's WAL while the segment is still
// being verified, LOG-13; install writes members, SNAP-10). A WorkerQueue of
// hand-offs of about kChunkBytes (at most four, and 4 MiB, waiting) keeps
// memory flat.
// Bytes in a refcounted read block (Write's `owner`, common/byte_spans.h)
// are handed over as a reference to the block, not copied; others are
// copied. The sink sees each contiguous run of one block (or of the copy)
// as one call. Order is kept; after the sink's first error the rest is
// dropped and Finish() returns that error.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/byte_spans.h"
#include "common/status.h"
#include "common/worker_queue.h"

namespace aero {

class BackgroundWriter {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;
  using Sink = std::function<Status(std::string_view)>;

  explicit BackgroundWriter(Sink sink) : sink_(std::move(sink)) {}
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // Producer only. `owner` (nullable): the block holding `bytes`.
  void Write(std::string_view bytes, const ByteBlock* owner = nullptr) {
    // Inline: once per record; a record in the last span's block only extends it.
    const size_t k = pending_.Add(bytes, owner, kChunkBytes);
    if (k < bytes.size() || pending_.Full(kChunkBytes)) WriteSlow(bytes.substr(k), owner);
  }
  // Hands over everything and waits until the sink has it; the first error.
  Status Finish();

 private:
  Sink sink_;
  Status error_;  // the worker's until Finish()
  void Flush();
  void WriteSlow(std::string_view bytes, const ByteBlock* owner);
  ByteSpans pending_;
  WorkerQueue<ByteSpans> queue_{[this](ByteSpans& chunk) {
    for (const ByteSpans::Span& span : chunk.spans) {
      if (!error_.ok()) break;
      error_ = sink_(std::string_view(span.data, span.size));
    }
    chunk.Clear();  // the blocks go back to the reader's pool now
  }, 4, 4 * kChunkBytes, [](const ByteSpans& chunk) { return chunk.size; }};
};

}  // namespace aero
