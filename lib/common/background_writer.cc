#include "common/background_writer.h"

namespace aero {

void BackgroundWriter::WriteSlow(std::string_view bytes, const ByteBlock* owner) {
  // Write added what fit; the chunk is full, or `bytes` did not fit.
  AddAll(pending_, bytes, owner, kChunkBytes, [this] { Flush(); });
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
