// Streaming reader of a WAL file (formats/wal-record.md). Holds at most one
// record plus one read chunk in memory, whatever the file size.
//
// Next() yields intact records in file order. When it returns false, stop()
// says why the reader stopped, exactly one of:
//   kCleanEnd        end of file on a record boundary
//   kTornTail        REC-3/REC-4: the file ends inside a record (a crashed writer)
//   kCorrupt         REC-2/REC-5/REC-7: a complete record that is damaged
//   kUnsupportedType REC-6: an intact record of a type this version does not know
//   kIoError         the file could not be read (stop().io says why)
// REC-11: nothing after the first damaged record is returned.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/read_buffer.h"
#include "common/status.h"
#include "wal/record_format.h"

namespace aero::wal {

struct Record {
  uint64_t offset = 0;  // byte offset of the record's first byte
  uint64_t index = 0;   // 0-based position among the file's records
  uint8_t type = 0;
  uint64_t sequence = 0;
  std::string_view bytes;  // the whole record; valid until the next Next()
  // The read block that holds `bytes`: a copy of it keeps them valid (and
  // unchanged) after Next(), so a consumer on another thread may take a
  // reference instead of copying (common/byte_spans.h). Itself valid until
  // the next Next().
  const ByteBlock* owner = nullptr;
  std::string_view payload() const {
    return bytes.substr(kPayloadOffset, bytes.size() - kFramingBytes);
  }
};

enum class StopKind { kCleanEnd, kTornTail, kCorrupt, kUnsupportedType, kIoError };
const char* StopKindName(StopKind kind);  // "clean-end", "torn-tail", ...

struct Stop {
  StopKind kind = StopKind::kCleanEnd;
  uint64_t offset = 0;  // where the damaged/partial record starts (or EOF)
  uint64_t index = 0;   // its 0-based record index
  bool zero_filled = false;  // REC-4
  uint32_t length = 0;       // the length field, when it was read
  uint8_t type = 0;
  uint32_t stored_crc = 0;  // REC-5
  uint32_t computed_crc = 0;
  std::string detail;  // e.g. "crc mismatch: stored 13b71efc, computed f83e218c"
  Status io;           // kIoError only
};

class RecordReader {
 public:
  // Reads from `file` (not owned; it is seeked to `offset` first) starting at
  // byte `offset`, which must be a
  // record boundary; the first record read gets index `first_index`.
  explicit RecordReader(ReadableFile* file, uint64_t offset = 0,
                        uint64_t first_index = 0);

  bool Next(Record* out);
  const Stop& stop() const { return stop_; }
  // Offset just past the last record returned.
  uint64_t end_offset() const { return offset_; }
  // The read window (REC-12: its block sizes and copies, for tests).
  const ReadBuffer& input() const { return in_; }

 private:
  // Makes at least `n` bytes available at in_.data(); false at EOF (or error).
  bool Fill(size_t n) { return (started_ && io_.ok() && in_.available() >= n) || FillSlow(n); }
  bool FillSlow(size_t n);
  size_t available() const { return in_.available(); }
  bool RestIsZero();  // REC-4: are all bytes from in_.data() to EOF zero?
  bool Fail(StopKind kind, std::string detail);

  ReadableFile* file_;
  ReadBuffer in_;
  uint64_t offset_;  // file offset of in_.data()
  uint64_t index_;
  bool started_ = false;
  bool stopped_ = false;
  Stop stop_;
  Status io_;
};

}  // namespace aero::wal
