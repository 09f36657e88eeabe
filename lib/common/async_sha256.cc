#include "common/async_sha256.h"

#include <algorithm>

namespace aero {

void AsyncSha256::Update(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t k = std::min(n, kChunkBytes - pending_.size());
    pending_.append(p, k);
    p += k;
    n -= k;
    if (pending_.size() == kChunkBytes) Flush();
  }
}

void AsyncSha256::Flush() {
  if (pending_.empty()) return;
  queue_.Push(std::move(pending_));
  pending_ = queue_.Reuse();
  pending_.clear();
  pending_.reserve(kChunkBytes);
}

Sha256Digest AsyncSha256::Finish() {
  Flush();
  queue_.Finish();
  return sha_.Finish();
}

}  // namespace aero
