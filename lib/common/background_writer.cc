#include "common/background_writer.h"

namespace aero {

void BackgroundWriter::Write(std::string_view bytes) {
  FeedChunks(queue_, pending_, bytes, kChunkBytes);
}

Status BackgroundWriter::Finish() {
  FlushChunk(queue_, pending_, kChunkBytes);
  queue_.Finish();
  return error_;
}

}  // namespace aero
