// Writing one segment file from a byte range of a WAL (formats/wal-segment.md).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/fs.h"
#include "common/sha256.h"
#include "segment/segment.h"

namespace aero::segment {

// Writes a complete segment to `path` (created or truncated), fsyncs and
// closes it. The body is bytes [start, end) of `wal`, verbatim (SEG-5: the
// caller passes whole write sets and the header fields that describe them).
// `h.stored_size` and the flags are set here. Deterministic (SEG-6): equal
// inputs give equal bytes. Memory: one read chunk and zstd's window, flat in
// the segment's size (a zstd body is compressed twice: size, then bytes). The body is not hashed here: the caller's scan gave
// its history digest (HIST-2), and the seal covers the header (SEG-7).
struct WrittenSegment {
  Sha256Digest seal{};  // the trailer's sha256 (SEG-7)
  uint64_t bytes = 0;   // the file's size
};
// `wrap` (optional) takes the opened file and the segment's size, and
// returns the file to write the segment's bytes to: an encryption envelope
// (formats/encrypted-file.md, ENC-12); the segment's bytes are unchanged.
using WrapWriter = std::function<Result<std::unique_ptr<WritableFile>>(
    std::unique_ptr<WritableFile> raw, uint64_t segment_size)>;
Result<WrittenSegment> WriteSegment(Fs& fs, const std::string& path, SegmentHeader h,
                                    ReadableFile& wal, uint64_t start, uint64_t end, bool zstd,
                                    const WrapWriter& wrap = {});

// A plain segment whose body arrives in pieces (LOG-30: ship-wal hands over
// the records its scan read and checked, so the log is not read again).
// Open writes 192 zero bytes where the header goes; Append adds body bytes
// (from one thread at a time); Finish writes the header in place, then the
// trailer, fsyncs and closes. Until Finish returns the file is no segment
// (a zero header is corrupt "bad magic"), and it is a temp file: Abandon, or
// the destructor, closes and removes it. The bytes equal WriteSegment's for
// the same body and header (SEG-6).
class StreamedSegment {
 public:
  static Result<std::unique_ptr<StreamedSegment>> Open(Fs& fs, const std::string& path);
  ~StreamedSegment();
  StreamedSegment(const StreamedSegment&) = delete;
  StreamedSegment& operator=(const StreamedSegment&) = delete;

  Status Append(std::string_view body_bytes);
  uint64_t body_bytes() const { return body_bytes_; }
  // `h` describes the body appended (body_size is set here); kInternal if the
  // file could not hold it.
  Result<WrittenSegment> Finish(SegmentHeader h);
  void Abandon();  // closes and removes the temp file (best effort)
  const std::string& path() const { return path_; }

 private:
  StreamedSegment(Fs& fs, std::string path, std::unique_ptr<WritableFile> file)
      : fs_(fs), path_(std::move(path)), file_(std::move(file)) {}
  Fs& fs_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t body_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace aero::segment
