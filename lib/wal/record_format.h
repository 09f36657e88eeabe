// Constants of AeroDB's WAL record framing. Mirrors formats/wal-record.md
// one to one (REC-1..REC-11); change neither without the other.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aero::wal {

// REC-1: u32 LE total_length | u8 type | u64 LE sequence | payload | u32 LE crc32
constexpr size_t kLengthSize = 4;
constexpr size_t kTypeOffset = 4;
constexpr size_t kSequenceOffset = 5;
constexpr size_t kPayloadOffset = 13;  // header bytes before the payload
constexpr size_t kCrcSize = 4;
constexpr size_t kFramingBytes = kPayloadOffset + kCrcSize;  // 17

// REC-2: a total_length outside [kMinRecordBytes, kMaxRecordBytes] is invalid.
constexpr uint32_t kMinRecordBytes = kFramingBytes;
constexpr uint32_t kMaxRecordBytes = 64u << 20;

// REC-8, REC-9: 2^64-1 is no sequence and no CommitId: every value must
// have a successor (a node records the next sequence, and applied + 1 is
// the next CommitId it expects).
constexpr uint64_t kMaxSequence = UINT64_MAX - 1;
constexpr uint64_t kMaxCommitId = UINT64_MAX - 1;

enum class RecordType : uint8_t {
  kInsert = 0,
  kUpdate = 1,
  kDelete = 2,
  kMvccCommit = 3,
  kMvccVersion = 4,
  kMvccGc = 5,
};
constexpr uint8_t kMaxKnownType = 5;  // REC-6: larger types are unsupported

// REC-7: a commit record's payload is exactly one u64 LE commit_id.
constexpr size_t kCommitPayloadBytes = 8;
constexpr size_t kCommitRecordBytes = kFramingBytes + kCommitPayloadBytes;  // 25

// REC-7: data records (0/1/2) carry five u32-length-prefixed fields.
constexpr int kDataFieldCount = 5;
constexpr size_t kMinDataRecordBytes = kFramingBytes + kDataFieldCount * 4;  // 37

const char* RecordTypeName(uint8_t type);  // "Insert", ..., "unknown"

}  // namespace aero::wal
