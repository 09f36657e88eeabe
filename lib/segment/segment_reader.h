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
  // Full verification only: CRC-32 of each kVerifyChunkBytes of the
  // uncompressed body, so that pass 2 appends only bytes pass 1 checked.
  std::vector<uint32_t> chunk_crcs;
};

// Checks 1-9 from the header, the file size and the trailer magic; the body
// is not read. `name` (nullable) adds the SEG-2 name-mismatch check.
SegmentCheck CheckSegmentHeader(ReadableFile& file, const SegmentNameInfo* name);

// Checks 1-12 in one streaming pass. `on_write_set` (optional) sees every
// write set of the body as the scan finds it, with body offsets and
// digest_after; it is called before the trailer hash is known, so callers
// use what it reports only if the result is kValid.
// `chunk_crcs` (for apply's pass 2) also records SegmentCheck::chunk_crcs.
SegmentCheck VerifySegment(ReadableFile& file, const SegmentNameInfo* name,
                           const wal::WalScanner::WriteSetFn& on_write_set = {},
                           bool chunk_crcs = false);

// Pass 2 of apply (LOG-13): streams body bytes [from, to) of a segment that
// VerifySegment judged valid into `sink`, re-checking each chunk's CRC first.
// kInTransit if the file changed since pass 1 (nothing of the changed chunk
// reaches the sink).
Status ReadVerifiedBody(ReadableFile& file, const SegmentCheck& check, uint64_t from,
                        uint64_t to, const std::function<Status(std::string_view)>& sink);

}  // namespace aero::segment
