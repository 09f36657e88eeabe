// Writing one segment file from a byte range of a WAL (formats/wal-segment.md).
#pragma once

#include <string>

#include "common/fs.h"
#include "common/sha256.h"
#include "segment/segment.h"

namespace aero::segment {

// Writes a complete segment to `path` (created or truncated), fsyncs and
// closes it. The body is bytes [start, end) of `wal`, verbatim (SEG-5: the
// caller passes whole write sets and the header fields that describe them).
// `h.stored_size` and the flags are set here. Deterministic (SEG-6): equal
// inputs give equal bytes. Memory: one read chunk, plus the compressed body
// when `zstd` is set.
struct WrittenSegment {
  Sha256Digest trailer_sha256{};  // over header + stored body (SEG-7)
  Sha256Digest file_sha256{};     // of the whole file, as sha256sum prints it
};
Result<WrittenSegment> WriteSegment(Fs& fs, const std::string& path, SegmentHeader h,
                                    ReadableFile& wal, uint64_t start, uint64_t end, bool zstd);

}  // namespace aero::segment
