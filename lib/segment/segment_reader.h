// Reading and judging a segment file (formats/wal-segment.md "Reading and
// damage", checks 1-12). Streaming: memory is a few read buffers, whatever
// the segment's size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/verdict.h"
#include "common/sha256.h"
#include "segment/segment.h"
#include "wal/wal_scan.h"

namespace aero::segment {

// The one verdict type (common/verdict.h): SEG-3 in transit, SEG-4 corrupt.
using SegmentState = Verdict;
inline const char* SegmentStateName(SegmentState s) { return VerdictName(s); }

struct SegmentCheck {
  SegmentState state = SegmentState::kCorrupt;
  std::string detail;  // why not valid, e.g. "sha256 mismatch"
  Status io;           // kIoError only
  SegmentHeader header;  // valid from check 6 on
  uint64_t size = 0;           // the file's size
  uint64_t expected_size = 0;  // what the header declares (0 before check 6)
  Sha256Digest trailer_sha{};  // the stored trailer hash (after check 9)
  // VerifySegment: H(c) for each commit in VerifyHooks::keep_digests that
  // the body reached.
  std::map<uint64_t, history::Digest> digests;
};

struct VerifyHooks {
  // See every record and write set of the body as the scan finds them. They
  // run before the file is known to be valid, so a caller may act on them
  // only in ways it can undo, and keeps the result only if kValid (apply-wal
  // appends but acknowledges nothing before that: LOG-13). The history
  // digest runs on another thread, so WriteSet::digest_after is unset here:
  // name the commits whose digest you need in `keep_digests`.
  wal::WalScanner::WriteSetFn on_write_set;
  wal::WalScanner::RecordFn on_record;
  std::vector<uint64_t> keep_digests;
  // For these commits the scan waits for the worker, and on_write_set sees
  // WriteSet::digest_after set: a sync point, for the one commit a caller
  // must prove before it acts on the records after it (FM-40).
  std::vector<uint64_t> sync_digests;
};

// Checks 1-9 from the header, the file size and the trailer magic; the body
// is not read. `name` (nullable) adds the SEG-2 name-mismatch check.
SegmentCheck CheckSegmentHeader(ReadableFile& file, const SegmentNameInfo* name);

// Checks 1-12 in one streaming pass; every body byte is hashed once (the
// history digest, on a second thread), CRC'd once and parsed once.
SegmentCheck VerifySegment(ReadableFile& file, const SegmentNameInfo* name,
                           const VerifyHooks& hooks = {});

}  // namespace aero::segment
