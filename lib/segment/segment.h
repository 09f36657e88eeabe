// The segment header and name (formats/wal-segment.md SEG-1, SEG-2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "history/digest.h"
#include "history/system_id.h"
#include "segment/segment_format.h"

namespace aero::segment {

struct SegmentHeader {
  uint32_t flags = 0;
  history::SystemId system_id;
  uint32_t epoch = 1;
  uint32_t signature_size = 0;
  uint64_t first_commit = 0;
  uint64_t last_commit = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t record_count = 0;
  uint64_t body_size = 0;
  uint64_t stored_size = 0;
  history::Digest digest_before{};
  history::Digest digest_after{};

  bool compressed() const { return (flags & kFlagZstd) != 0; }
  // 192 + stored_size + 40 + signature_size (callers check for overflow first).
  uint64_t TotalSize() const {
    return kSegmentHeaderBytes + stored_size + kTrailerFixedBytes + signature_size;
  }
};

// 192 bytes with header_crc filled in.
std::string EncodeHeader(const SegmentHeader& h);

// Decodes 192 bytes whose magic and header_crc were already checked; returns
// the header or, for SEG-1/SEG-8 violations (checks 5 and 6), the detail of
// why it is corrupt.
struct DecodedHeader {
  SegmentHeader header;
  std::string corrupt;  // empty when valid
};
DecodedHeader DecodeHeader(std::string_view bytes);

struct SegmentNameInfo {
  uint32_t epoch = 0;
  uint64_t first_commit = 0;
  uint64_t last_commit = 0;
};
std::string SegmentName(uint32_t epoch, uint64_t first, uint64_t last);
// SEG-2: nullopt unless `name` matches the pattern exactly.
std::optional<SegmentNameInfo> ParseSegmentName(std::string_view name);

}  // namespace aero::segment
