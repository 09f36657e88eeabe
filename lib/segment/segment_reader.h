// Reading and judging a segment file (formats/wal-segment.md "Reading and
// damage", checks 1-12). Streaming: memory is a few read buffers, whatever
// the segment's size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/sha256.h"
#include "segment/segment.h"
#include "wal/wal_scan.h"

namespace aero::segment {

enum class SegmentState {
  kValid,
  kInTransit,  // SEG-3: shorter than it will be; retry later
  kCorrupt,    // SEG-4
  kIoError,
};
const char* SegmentStateName(SegmentState s);

struct SegmentCheck {
  SegmentState state = SegmentState::kCorrupt;
  std::string detail;  // why not valid, e.g. "sha256 mismatch"
  Status io;           // kIoError only
  SegmentHeader header;  // valid from check 6 on
  uint64_t size = 0;           // the file's size
  uint64_t expected_size = 0;  // what the header declares (0 before check 6)
  Sha256Digest trailer_sha{};  // the stored trailer hash (after check 9)
};

// Checks 1-9 from the header, the file size and the trailer magic; the body
// is not read. `name` (nullable) adds the SEG-2 name-mismatch check.
SegmentCheck CheckSegmentHeader(ReadableFile& file, const SegmentNameInfo* name);

// Checks 1-12 in one streaming pass. `on_record` and `on_write_set`
// (optional) see every record and write set of the body as the scan finds
// them; they run before the trailer hash is known, so a caller may act on
// them only in ways it can undo, and keeps the result only if kValid
// (apply-wal appends but acknowledges nothing before that: LOG-13).
SegmentCheck VerifySegment(ReadableFile& file, const SegmentNameInfo* name,
                           const wal::WalScanner::WriteSetFn& on_write_set = {},
                           const wal::WalScanner::RecordFn& on_record = {});

}  // namespace aero::segment
