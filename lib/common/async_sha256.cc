#include "common/async_sha256.h"

namespace aero {

void AsyncSha256::Update(const void* data, size_t n) {
  FeedChunks(queue_, pending_, std::string_view(static_cast<const char*>(data), n), kChunkBytes);
}

Sha256Digest AsyncSha256::Finish() {
  FlushChunk(queue_, pending_, kChunkBytes);
  queue_.Finish();
  return sha_.Finish();
}

}  // namespace aero
