// Bytes handed from a producer to a worker thread (WorkerQueue) without
// copying them where that is safe: a ByteBlock is a refcounted read buffer
// (ReadBuffer reads into them, from a BlockPool), and a span of one keeps it
// alive until the worker is done with it. Bytes without a block are copied
// into the chunk's own buffer, as before. Contiguous bytes of one block make
// one span, so a stream of small records costs one reference per block, not
// one per record.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aero {

// Read-only once handed out: the producer writes a block only while it is
// the block's sole owner (a fresh block from the pool).
using ByteBlock = std::shared_ptr<const char>;

// Recycles blocks: a block whose last reference is dropped (on any thread)
// comes back here, under a mutex, so a reuse happens-after every read of it.
// At most kMaxFreeBytes wait (eight of ReadBuffer's 256 KiB blocks); more
// are freed. Bounded in bytes, not blocks: a block grown for one large
// record (REC-2: up to 64 MiB) is not kept. (Keeping 8 MiB instead was
// measured on ship-wal of bulk WAL: no change in CPU beyond this VM's noise.)
class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  static constexpr size_t kMaxFreeBytes = 2u << 20;

  static std::shared_ptr<BlockPool> Make() { return std::shared_ptr<BlockPool>(new BlockPool()); }

  // The bytes of the blocks waiting for reuse.
  size_t FreeBytes() {
    std::lock_guard<std::mutex> l(mu_);
    return free_bytes_;
  }

  // A block of at least `size` bytes (uninitialised); *got is its size.
  std::shared_ptr<char> Acquire(size_t size, size_t* got) {
    std::unique_ptr<char[]> mem;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].second >= size) {
          mem = std::move(free_[i].first);
          size = free_[i].second;
          free_bytes_ -= size;
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
    }
    if (!mem) {
      // Blocks asked for only grow (ReadBuffer): smaller free ones are stale.
      std::lock_guard<std::mutex> l(mu_);
      free_.erase(std::remove_if(free_.begin(), free_.end(),
                                 [&](const auto& f) {
                                   if (f.second >= size) return false;
                                   free_bytes_ -= f.second;
                                   return true;
                                 }),
                  free_.end());
    }
    if (!mem) mem.reset(new char[size]);  // never zero-filled: read into
    *got = size;
    std::weak_ptr<BlockPool> pool = weak_from_this();
    return std::shared_ptr<char>(mem.release(), [pool, size](char* p) {
      std::unique_ptr<char[]> owned(p);
      if (std::shared_ptr<BlockPool> live = pool.lock()) live->Release(std::move(owned), size);
    });
  }

 private:
  BlockPool() = default;
  void Release(std::unique_ptr<char[]> mem, size_t size) {
    std::lock_guard<std::mutex> l(mu_);
    if (free_bytes_ + size > kMaxFreeBytes) return;
    free_bytes_ += size;
    free_.emplace_back(std::move(mem), size);
  }

  std::mutex mu_;
  std::vector<std::pair<std::unique_ptr<char[]>, size_t>> free_;
  size_t free_bytes_ = 0;  // the sizes in free_
};

// One hand-off: spans in stream order, `size` bytes in all.
struct ByteSpans {
  struct Span {
    ByteBlock owner;  // null: the bytes are in `copy`
    const char* data;
    size_t size;
  };
  std::vector<Span> spans;
  std::string copy;  // reserved up front: pointers into it stay valid
  size_t size = 0;

  // Empties the chunk and drops its references (the blocks go back to their
  // pool); `copy` keeps its capacity.
  void Clear() {
    spans.clear();
    copy.clear();
    size = 0;
    kept_.reset();
  }
  // Clear, but the last span's block stays referenced here, so that the next
  // Add of bytes from that block takes the reference back instead of counting
  // a new one: a producer that holds each write set's records and clears
  // them at its end (BodyRouter) touches the count once per block, not once
  // per write set. Holds one block at most, the one being read.
  void ClearKeepingLast() {
    ByteBlock last = !spans.empty() ? std::move(spans.back().owner) : nullptr;
    Clear();
    kept_ = std::move(last);
  }

  // Adds a prefix of `bytes` and returns its length: all of them when they
  // lie in `owner`'s block (no copy), else as many as `copy` has room for
  // below `copy_limit`.
  size_t Add(std::string_view bytes, const ByteBlock* owner, size_t copy_limit) {
    // The common case, once per record: the bytes continue the last span's block.
    if (owner != nullptr && !spans.empty() && spans.back().owner.get() == owner->get() &&
        owner->get() != nullptr && spans.back().data + spans.back().size == bytes.data()) {
      spans.back().size += bytes.size();
      size += bytes.size();
      return bytes.size();
    }
    return AddSlow(bytes, owner, copy_limit);
  }

  // True once the chunk should go to the worker.
  bool Full(size_t limit) const { return size >= limit || copy.size() >= limit; }

 private:
  [[gnu::noinline]] size_t AddSlow(std::string_view bytes, const ByteBlock* owner, size_t copy_limit) {
    if (bytes.empty()) return 0;
    if (owner != nullptr && *owner) {
      spans.push_back({kept_ == *owner ? std::move(kept_) : *owner, bytes.data(), bytes.size()});
      size += bytes.size();
      return bytes.size();
    }
    if (copy.capacity() < copy_limit) copy.reserve(copy_limit);
    const size_t k = std::min(bytes.size(), copy_limit - copy.size());
    if (k == 0) return 0;
    const char* at = copy.data() + copy.size();
    copy.append(bytes.data(), k);  // within capacity: no reallocation
    if (!spans.empty() && !spans.back().owner && spans.back().data + spans.back().size == at) {
      spans.back().size += k;
    } else {
      spans.push_back({nullptr, at, k});
    }
    size += k;
    return k;
  }

  ByteBlock kept_;  // ClearKeepingLast's block
};

// Adds all of `bytes` to `chunk`, calling `flush()` whenever the chunk is
// full; `flush` hands the chunk's content to a worker and leaves `chunk`
// empty. The slow path of AsyncDigestChain::Update and BackgroundWriter::Write.
template <class Flush>
void AddAll(ByteSpans& chunk, std::string_view bytes, const ByteBlock* owner, size_t limit,
            Flush flush) {
  for (;;) {
    if (chunk.Full(limit)) flush();
    if (bytes.empty()) return;
    bytes.remove_prefix(chunk.Add(bytes, owner, limit));
  }
}

}  // namespace aero
