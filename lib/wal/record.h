// Encoding and decoding of one WAL record and its payloads (formats/wal-record.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/record_format.h"

namespace aero::wal {

// The five fields of an Insert/Update/Delete payload. Views into the record.
struct DataPayload {
  std::string_view collection;
  std::string_view document_id;
  std::string_view schema_id;
  std::string_view schema_version;
  std::string_view body;  // empty for Delete (a tombstone)
};

// Type 4 payload.
struct VersionPayload {
  uint64_t commit_id = 0;
  std::string_view key;
  bool tombstone = false;
  std::string_view payload;
};

// REC-7 shape checks; false when the payload does not have exactly this shape.
bool DecodeDataPayload(std::string_view payload, DataPayload* out);
bool DecodeCommitPayload(std::string_view payload, uint64_t* commit_id);
bool DecodeVersionPayload(std::string_view payload, VersionPayload* out);
// `record` (kCommitRecordBytes of them) is one intact MvccCommit record:
// its length field, type, payload shape and CRC (REC-1, REC-5, REC-7); its
// commit id and sequence then. The check of "the commit record that ends at
// this offset" (NODE-4's applied boundary, LOG-24's shipped position).
bool DecodeCommitRecord(std::string_view record, uint64_t* commit_id, uint64_t* sequence);
// Checks the payload shape for `type`; types 5 (opaque) and >= 6 always pass.
bool PayloadShapeOk(uint8_t type, std::string_view payload);

std::string EncodeDataPayload(const DataPayload& p);
std::string EncodeCommitPayload(uint64_t commit_id);

// A whole record: framing, payload and CRC (REC-1).
std::string EncodeRecord(uint8_t type, uint64_t sequence, std::string_view payload);
void AppendRecord(std::string* dst, uint8_t type, uint64_t sequence,
                  std::string_view payload);

}  // namespace aero::wal
