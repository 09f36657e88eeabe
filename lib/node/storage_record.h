// AeroDB's storage record (data/documents.dat, snapshots/<id>/storage.dat),
// as AeroDB's StorageWriter writes it (fixtures/aerodb-upstream/README.md):
//   u32 LE total_length | u32 len + "<collection>:<document_id>" |
//   u32 len + schema_id | u32 len + schema_version | u8 tombstone |
//   u32 len + body | u32 LE CRC-32 over every preceding byte
// The file is append-only; for a document id the last record wins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/read_buffer.h"
#include "common/status.h"

namespace aero::node {

struct StorageRecord {
  uint64_t offset = 0;
  std::string_view document_id;  // composite "<collection>:<id>"
  std::string_view schema_id;
  std::string_view schema_version;
  bool tombstone = false;
  std::string_view body;
};

void AppendStorageRecord(std::string* dst, std::string_view composite_id,
                         std::string_view schema_id, std::string_view schema_version,
                         bool tombstone, std::string_view body);

// Streams the records of a storage file. Next() returns false at the end or
// at the first damaged record; status() is then ok (clean end) or says what
// failed (kDamage, with the offset).
class StorageReader {
 public:
  explicit StorageReader(ReadableFile* file) : file_(file), in_(file) {}
  bool Next(StorageRecord* out);
  const Status& status() const { return status_; }
  // Where the next record starts: after a damage status, the damaged one's.
  uint64_t offset() const { return offset_; }

 private:
  bool Fill(size_t n);
  ReadableFile* file_;
  ReadBuffer in_;
  uint64_t offset_ = 0;
  Status status_;
};

}  // namespace aero::node
