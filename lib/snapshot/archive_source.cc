#include "snapshot/archive_source.h"

#include "snapshot/archive_format.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace aero::snapshot {

namespace {
constexpr size_t kMaxChunk = 256 * 1024;
}  // namespace

ArchiveSource::ArchiveSource(ReadableFile* file) : file_(file) {}

ArchiveSource::~ArchiveSource() {
  if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
}

bool ArchiveSource::ReadMore() {
  if (in_pos_ == in_end_) in_pos_ = in_end_ = 0;
  if (in_cap_ < next_cap_) {
    // Starts small and doubles while reads fill it: a small archive costs a
    // small buffer, a large one is read in 256 KiB pieces.
    std::unique_ptr<char[]> bigger(new char[next_cap_]);
    if (in_end_ > 0) std::memcpy(bigger.get(), in_.get(), in_end_);
    in_ = std::move(bigger);
    in_cap_ = next_cap_;
  }
  const size_t want = in_cap_ - in_end_;
  Result<size_t> got = file_->Read(in_.get() + in_end_, want);
  if (!got.ok()) {
    io_ = got.status();
    return false;
  }
  if (*got == 0) file_eof_ = true;
  if (*got == want && next_cap_ < kMaxChunk) next_cap_ *= 2;
  in_end_ += *got;
  consumed_ += *got;
  return true;
}

bool ArchiveSource::Next(const char** data, size_t* size) {
  *size = 0;
  if (!started_) {
    started_ = true;
    // The first 4 bytes decide: a zstd frame, or the tar itself.
    while (in_end_ - in_pos_ < kZstdFrameMagic.size() && !file_eof_) {
      if (!ReadMore()) return false;
    }
    zstd_ = in_end_ - in_pos_ >= kZstdFrameMagic.size() &&
            std::memcmp(in_.get() + in_pos_, kZstdFrameMagic.data(), kZstdFrameMagic.size()) == 0;
    if (zstd_) {
      dctx_ = ZSTD_createDCtx();
      if (dctx_ == nullptr) {
        io_ = Status(Code::kIo, "cannot allocate a zstd decoder");
        return false;
      }
      out_cap_ = ZSTD_DStreamOutSize();
      out_.reset(new char[out_cap_]);
    }
  }
  if (zstd_) return NextZstd(data, size);
  if (in_pos_ == in_end_ && !file_eof_ && !ReadMore()) return false;
  // Everything held is handed on: nothing stays buffered here, so Skip can
  // seek the file.
  *data = in_.get() + in_pos_;
  *size = in_end_ - in_pos_;
  in_pos_ = in_end_;
  if (*size == 0) eof_ = true;
  return true;
}

bool ArchiveSource::NextZstd(const char** data, size_t* size) {
  ZSTD_outBuffer out{out_.get(), out_cap_, 0};
  // Decode until some output exists: one block per call, no read-ahead
  // beyond what that block needs.
  while (out.pos == 0) {
    if (in_pos_ == in_end_) {
      if (!file_eof_ && !ReadMore()) return false;
      if (in_pos_ == in_end_) {
        // The input ended, inside a frame or after one: the tar reader
        // sees the end of its stream (an unfinished copy, SNAP-7).
        eof_ = true;
        return true;
      }
    }
    ZSTD_inBuffer in{in_.get(), in_end_, in_pos_};
    const size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
    in_pos_ = in.pos;
    if (ZSTD_isError(ret)) {
      damage_ = std::string("zstd: ") + ZSTD_getErrorName(ret);
      return false;
    }
  }
  *data = out_.get();
  *size = out.pos;
  return true;
}

uint64_t ArchiveSource::Skip(uint64_t n) {
  if (zstd_ || n == 0 || !file_->SupportsReadAt() || in_pos_ != in_end_) return 0;
  Result<uint64_t> size = file_->Size();
  if (!size.ok() || *size <= consumed_) return 0;
  const uint64_t to = std::min<uint64_t>(consumed_ + n, *size);
  if (!file_->Seek(to).ok()) return 0;
  const uint64_t skipped = to - consumed_;
  consumed_ = to;
  return skipped;
}

}  // namespace aero::snapshot
