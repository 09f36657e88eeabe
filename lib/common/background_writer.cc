#include "common/background_writer.h"

namespace aero {

void BackgroundWriter::Write(std::string_view bytes, const ByteBlock* owner) {
  while (!bytes.empty()) {
    bytes.remove_prefix(pending_.Add(bytes, owner, kChunkBytes));
    if (pending_.Full(kChunkBytes)) Flush();
  }
}

void BackgroundWriter::Flush() {
  if (pending_.size == 0) return;
  queue_.Push(std::move(pending_));
  pending_ = queue_.Reuse();
  pending_.Clear();
}

Status BackgroundWriter::Finish() {
  Flush();
  queue_.Finish();
  return error_;
}

}  // namespace aero
