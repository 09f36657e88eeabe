#include "common/read_buffer.h"

#include <algorithm>
#include <cstring>

namespace aero {

void ReadBuffer::MakeRoom(size_t need) {
  const size_t have = available();
  // Always a fresh block: the current one may be referenced by a consumer
  // (block()), so its bytes are never moved or overwritten. Only the unread
  // bytes are copied, at most one record's worth.
  size_t cap = 0;
  // Back to kMaxChunk once a large record is consumed: the pool keeps
  // blocks of that size, not one grown for a record (BlockPool).
  std::shared_ptr<char> fresh = pool_->Acquire(std::max(need, std::min(cap_, kMaxChunk)), &cap);
  if (have > 0) std::memcpy(fresh.get(), buf_ + begin_, have);
  copied_ += have;
  buf_ = fresh.get();
  block_ = std::move(fresh);
  cap_ = cap;
  begin_ = 0;
  end_ = have;
}

bool ReadBuffer::FillSlow(size_t n) {
  while (available() < n && !eof_) {
    // Compact, or grow, when the tail is under half the buffer (reads stay
    // large). Growth toward `n` doubles with the bytes that did arrive, so a
    // length field that lies (up to 64 MiB) costs memory only for bytes the
    // file really holds.
    // REC-12: not when the need fits in this block from its start (a large record
    // after Reserve, or after one growth): a fresh block would only copy
    // the same bytes again, once per read, as large as the record.
    const bool fits_from_start = begin_ == 0 && cap_ >= n;
    if (!fits_from_start && (cap_ - end_ < cap_ / 2 || cap_ < next_cap_)) {
      MakeRoom(std::max(next_cap_, std::min(n, std::max(cap_, 2 * available()))));
    }
    const size_t want = cap_ - end_;
    Result<size_t> got = file_->Read(buf_ + end_, want);
    if (!got.ok()) {
      status_ = got.status();
      eof_ = true;
      break;
    }
    if (*got == 0) {
      eof_ = true;
      break;
    }
    end_ += *got;
    // A read that filled all it asked for: the file has more; read more at once.
    if (*got == want && next_cap_ < kMaxChunk) next_cap_ = std::min(next_cap_ * 2, kMaxChunk);
  }
  return available() >= n;
}

}  // namespace aero
