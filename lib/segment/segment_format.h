// Constants of the WAL segment file. Mirrors formats/wal-segment.md
// (SEG-1..SEG-8) one to one; change neither without the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/preallocated.h"

namespace aero::segment {

// SEG-1 header, 192 bytes, little-endian.
constexpr std::string_view kSegmentMagic{"AEROSEG\n", 8};
constexpr uint16_t kSegmentVersion = 1;
constexpr size_t kSegmentHeaderBytes = 192;
// Check 6: the largest segment. --max-segment-bytes is at most 2^34 and one
// write set may pass it; a zstd body may grow by what zstd adds.
constexpr uint64_t kMaxSegmentBodyBytes = uint64_t{1} << 35;
constexpr uint64_t kMaxSegmentStoredBytes = kMaxSegmentBodyBytes + (uint64_t{1} << 28);
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHeaderSize = 10;
constexpr size_t kOffFlags = 12;
constexpr size_t kOffSystemId = 16;
constexpr size_t kOffEpoch = 32;
constexpr size_t kOffSignatureSize = 36;
constexpr size_t kOffFirstCommit = 40;
constexpr size_t kOffLastCommit = 48;
constexpr size_t kOffFirstSequence = 56;
constexpr size_t kOffLastSequence = 64;
constexpr size_t kOffRecordCount = 72;
constexpr size_t kOffBodySize = 80;
constexpr size_t kOffStoredSize = 88;
constexpr size_t kOffDigestBefore = 96;
constexpr size_t kOffDigestAfter = 128;
constexpr size_t kReservedOffset = 160;
constexpr size_t kReservedBytes = 28;
constexpr size_t kHeaderCrcOffset = 188;

// SEG-8: flag bits; unknown bits make a segment corrupt.
constexpr uint32_t kFlagZstd = 0x1;
constexpr uint32_t kKnownFlags = kFlagZstd;
constexpr int kSegmentZstdLevel = 3;

// SEG-7 trailer: magic, the seal (SHA-256 over the header [0, 192), or over
// [0, 192 + stored_size) when the body is a zstd frame), signature.
constexpr std::string_view kTrailerMagic{"AEROEND\n", 8};
constexpr size_t kTrailerFixedBytes = 40;
using aero::kPreallocatedTailBytes;  // SEG-9: the seal's last 16 bytes (common/preallocated.h)

// SEG-9: a file this long (a header and a trailer: the smallest segment)
// whose last kPreallocatedTailBytes are zero is a preallocated copy, in transit.
constexpr uint64_t kSmallestSegmentBytes = kSegmentHeaderBytes + kTrailerFixedBytes;

// SEG-2 name: EEEEEEEE-FFFFFFFFFFFFFFFF-LLLLLLLLLLLLLLLL.seg
constexpr size_t kSegmentNameBytes = 46;
constexpr std::string_view kSegmentSuffix = ".seg";

}  // namespace aero::segment
