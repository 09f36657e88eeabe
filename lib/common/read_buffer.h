// A window over a ReadableFile for the record parsers (WAL records, storage
// records): Fill(n) makes n bytes available, Consume(n) moves past them.
// Memory is one buffer, reused: it starts small and doubles while reads keep
// filling it, up to kMaxChunk, and beyond that only as far as a record asked
// for needs and the bytes already read justify (at most twice what is held):
// a small input costs a small buffer, a lying length field costs nothing,
// and no byte is zero-filled before it is read.
//
// The buffer is a refcounted ByteBlock from a BlockPool (common/byte_spans.h):
// a consumer on another thread may keep a reference to the bytes it was
// given (block()) instead of copying them. So a block is never written once
// handed out: to make room, the unread bytes (at most one record) move to a
// fresh block from the pool, and the old one returns to the pool when its
// last reference is dropped.
#pragma once

#include <cstddef>
#include <memory>

#include "common/byte_spans.h"
#include "common/fs.h"
#include "common/status.h"

namespace aero {

class ReadBuffer {
 public:
  static constexpr size_t kMinChunk = 16 * 1024;
  static constexpr size_t kMaxChunk = 256 * 1024;

  // Reads `file` (not owned) from its current position.
  explicit ReadBuffer(ReadableFile* file) : file_(file) {}
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  // Makes at least `n` bytes available at data(); false when the file ends
  // first (end of file) or a read fails (status() then says why). What could
  // be read stays available either way.
  bool Fill(size_t n) { return available() >= n || FillSlow(n); }  // inline: once per record
  const char* data() const { return buf_ + begin_; }
  // The block that holds data(): a reference keeps those bytes valid and
  // unchanged after Consume and Fill.
  const ByteBlock& block() const { return block_; }
  size_t available() const { return end_ - begin_; }
  // REC-12: makes room for `n` bytes at data() at once, in one block, instead of
  // growing toward them as they arrive: for a caller that knows the file
  // holds them (a large record in a file at least that long), so the
  // growth's copies and its two blocks at once are spared.
  void Reserve(size_t n) {
    if (cap_ - begin_ < n) MakeRoom(n);
  }
  // Moves past `n` <= available() bytes; pointers from data() stay valid
  // until the next Fill.
  void Consume(size_t n) { begin_ += n; }
  // True once a read returned 0 or failed: nothing more will arrive.
  bool eof() const { return eof_; }
  const Status& status() const { return status_; }
  size_t capacity() const { return cap_; }  // the current block's size
  // Bytes moved from one block to the next so far (REC-12: for a large
  // record, at most what was read before its length was known).
  uint64_t copied_bytes() const { return copied_; }

 private:
  // The available bytes moved to the front of a buffer of at least `need`
  // bytes (never smaller than now, nor than kMaxChunk once it was that large).
  void MakeRoom(size_t need);
  bool FillSlow(size_t n);  // Fill when fewer than `n` bytes are available

  ReadableFile* file_;
  std::shared_ptr<BlockPool> pool_ = BlockPool::Make();
  ByteBlock block_;
  char* buf_ = nullptr;  // block_'s bytes; written only before they are available
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t next_cap_ = kMinChunk;
  uint64_t copied_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace aero
