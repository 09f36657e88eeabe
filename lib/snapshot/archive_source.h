// The bytes of a snapshot archive as libarchive's tar reader pulls them
// (SNAP-6, SNAP-7): the file's own bytes, or, when the file starts with the
// zstd frame magic, its frames decoded by libzstd on demand. Nothing is read
// or decoded ahead of what the tar reader asks for, so eof() means "the tar
// reader needed bytes past the end of the input": an unfinished copy. A
// decoder that reads ahead (libarchive's own zstd filter consumes the whole
// input to fill its buffer) would report the end for a plain tar that was
// simply not a tar, and a tar's verdict would change with compression.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/fs.h"
#include "common/status.h"

struct ZSTD_DCtx_s;

namespace aero::snapshot {

class ArchiveSource {
 public:
  explicit ArchiveSource(ReadableFile* file);
  ~ArchiveSource();
  ArchiveSource(const ArchiveSource&) = delete;
  ArchiveSource& operator=(const ArchiveSource&) = delete;

  // The next block of tar bytes, valid until the next call: empty at the
  // end of the input; false on a read error (io()) or zstd data that does
  // not decode (damage()).
  bool Next(const char** data, size_t* size);
  // Skips up to `n` tar bytes of a plain archive by seeking the file (a
  // member read at its offset by a worker); 0 when it cannot (zstd, no
  // ReadAt, at the end of the file).
  uint64_t Skip(uint64_t n);

  bool zstd() const { return zstd_; }
  bool eof() const { return eof_; }
  uint64_t consumed() const { return consumed_; }  // bytes read from the file
  const Status& io() const { return io_; }
  const std::string& damage() const { return damage_; }

 private:
  // Reads more of the file into in_ (after what it holds: called only when
  // everything was handed on, or while the first 4 bytes are sniffed, so
  // in_pos_ is 0 or in_pos_ == in_end_); false on error.
  bool ReadMore();
  bool NextZstd(const char** data, size_t* size);

  ReadableFile* file_;
  bool started_ = false;
  bool zstd_ = false;
  // Raw bytes read from the file and not yet handed on (or decoded).
  std::unique_ptr<char[]> in_;
  size_t in_cap_ = 0, in_pos_ = 0, in_end_ = 0, next_cap_ = 16 * 1024;
  bool file_eof_ = false;
  // zstd: the decoder and its output block.
  ZSTD_DCtx_s* dctx_ = nullptr;
  std::unique_ptr<char[]> out_;
  size_t out_cap_ = 0;
  bool eof_ = false;
  uint64_t consumed_ = 0;
  Status io_;
  std::string damage_;
};

}  // namespace aero::snapshot
