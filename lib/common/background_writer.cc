#include "common/background_writer.h"

#include <algorithm>

namespace aero {

void BackgroundWriter::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t k = std::min(bytes.size(), kChunkBytes - pending_.size());
    pending_.append(bytes.data(), k);
    bytes.remove_prefix(k);
    if (pending_.size() == kChunkBytes) Flush();
  }
}

void BackgroundWriter::Flush() {
  if (pending_.empty()) return;
  queue_.Push(std::move(pending_));
  pending_ = queue_.Reuse();
  pending_.clear();
  pending_.reserve(kChunkBytes);
}

Status BackgroundWriter::Finish() {
  Flush();
  queue_.Finish();
  return error_;
}

}  // namespace aero
