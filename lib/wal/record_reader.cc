#include "wal/record_reader.h"

#include <algorithm>
#include <cstdio>

#include "common/coding.h"
#include "common/crc32.h"
#include "wal/record.h"

namespace aero::wal {

namespace {
std::string Hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}
}  // namespace

const char* StopKindName(StopKind kind) {
  switch (kind) {
    case StopKind::kCleanEnd: return "clean-end";
    case StopKind::kTornTail: return "torn-tail";
    case StopKind::kCorrupt: return "corrupt";
    case StopKind::kUnsupportedType: return "unsupported-type";
    case StopKind::kIoError: return "io-error";
  }
  return "unknown";
}

RecordReader::RecordReader(ReadableFile* file, uint64_t offset, uint64_t first_index)
    : file_(file), in_(file), offset_(offset), index_(first_index) {}

bool RecordReader::FillSlow(size_t n) {
  if (!started_) {
    started_ = true;
    // Always seek: the file may be shared and positioned anywhere.
    Status s = file_->Seek(offset_);
    if (!s.ok()) {
      io_ = s;
      return false;
    }
  }
  if (!io_.ok()) return false;
  const bool filled = in_.Fill(n);
  if (!in_.status().ok()) io_ = in_.status();
  return filled;
}

bool RecordReader::RestIsZero() {
  // Streams through the rest of the file; memory stays one chunk.
  for (;;) {
    const char* p = in_.data();
    if (std::any_of(p, p + in_.available(), [](char c) { return c != 0; })) return false;
    in_.Consume(in_.available());
    if (in_.eof() || !io_.ok() || !Fill(1)) return io_.ok();
  }
}

bool RecordReader::Fail(StopKind kind, std::string detail) {
  stopped_ = true;
  stop_.kind = kind;
  stop_.offset = offset_;
  stop_.index = index_;
  stop_.detail = std::move(detail);
  return false;
}

bool RecordReader::Next(Record* out) {
  if (stopped_) return false;
  if (!Fill(kLengthSize)) {
    if (!io_.ok()) {
      stop_.io = io_;
      return Fail(StopKind::kIoError, io_.message());
    }
    if (available() == 0) return Fail(StopKind::kCleanEnd, "end of file");
    // REC-3: fewer than 4 bytes of the length field.
    const size_t have = available();
    if (RestIsZero()) {
      stop_.zero_filled = true;
      return Fail(StopKind::kTornTail, "torn record: zero-filled tail");
    }
    return Fail(StopKind::kTornTail, "torn record: only " + std::to_string(have) +
                                         " of 4 length-field bytes present");
  }
  const uint32_t length = DecodeFixed32(in_.data());
  stop_.length = length;
  if (length == 0 && RestIsZero()) {  // REC-4
    stop_.zero_filled = true;
    return Fail(StopKind::kTornTail, "torn record: zero-filled tail");
  }
  if (length < kMinRecordBytes || length > kMaxRecordBytes) {  // REC-2
    return Fail(StopKind::kCorrupt, "invalid length " + std::to_string(length) +
                                        " (valid: " + std::to_string(kMinRecordBytes) +
                                        ".." + std::to_string(kMaxRecordBytes) + ")");
  }
  if (length > available() && length > ReadBuffer::kMaxChunk) {
    // REC-12: a large record in a file that holds it: one block of its size, not a
    // doubling toward it (peak memory one record, not one and a half). A
    // length that claims more than the file holds still costs only what
    // arrives (ReadBuffer).
    Result<uint64_t> size = file_->Size();
    if (size.ok() && *size >= offset_ + length) in_.Reserve(length);
  }
  if (!Fill(length)) {
    if (!io_.ok()) {
      stop_.io = io_;
      return Fail(StopKind::kIoError, io_.message());
    }
    // REC-3: the file ends before the record does.
    return Fail(StopKind::kTornTail, "torn record: length field says " +
                                         std::to_string(length) + " bytes, only " +
                                         std::to_string(available()) + " remain");
  }
  std::string_view rec(in_.data(), length);
  const uint32_t stored = DecodeFixed32(rec.data() + length - kCrcSize);
  const uint32_t computed = Crc32(rec.data(), length - kCrcSize);
  const uint8_t type = static_cast<uint8_t>(rec[kTypeOffset]);
  stop_.type = type;
  if (stored != computed) {  // REC-5
    stop_.stored_crc = stored;
    stop_.computed_crc = computed;
    return Fail(StopKind::kCorrupt,
                "crc mismatch: stored " + Hex8(stored) + ", computed " + Hex8(computed));
  }
  if (type > kMaxKnownType) {  // REC-6
    return Fail(StopKind::kUnsupportedType,
                "unsupported record type " + std::to_string(type));
  }
  std::string_view payload = rec.substr(kPayloadOffset, length - kFramingBytes);
  if (!PayloadShapeOk(type, payload)) {  // REC-7
    return Fail(StopKind::kCorrupt, std::string("malformed payload for type ") +
                                        RecordTypeName(type) + " (" +
                                        std::to_string(payload.size()) + " bytes)");
  }
  out->offset = offset_;
  out->index = index_;
  out->type = type;
  out->sequence = DecodeFixed64(rec.data() + kSequenceOffset);
  out->bytes = rec;
  out->owner = &in_.block();
  in_.Consume(length);
  offset_ += length;
  ++index_;
  return true;
}

}  // namespace aero::wal
