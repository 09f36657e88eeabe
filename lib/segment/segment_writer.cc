#include "segment/segment_writer.h"

#include <zstd.h>

#include <algorithm>
#include <memory>


namespace aero::segment {

namespace {

constexpr size_t kCopyChunk = 1 << 20;

Status ReadRange(ReadableFile& wal, uint64_t pos, char* buf, size_t n) {
  return ReadExactlyAt(wal, pos, buf, n);
}

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

}  // namespace

Result<WrittenSegment> WriteSegment(Fs& fs, const std::string& path, SegmentHeader h,
                                    ReadableFile& wal, uint64_t start, uint64_t end, bool zstd) {
  h.body_size = end - start;
  h.signature_size = 0;
  std::string compressed;
  if (zstd) {
    std::string buf(kCopyChunk, '\0');
    h.flags |= kFlagZstd;
    std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> cctx(ZSTD_createCCtx());
    if (!cctx) return Status(Code::kIo, Problem("cannot compress", path, "out of memory"));
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kSegmentZstdLevel);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setPledgedSrcSize(cctx.get(), h.body_size);
    std::string out(ZSTD_CStreamOutSize(), '\0');
    uint64_t pos = start;
    for (;;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, end - pos));
      if (n > 0) AERO_RETURN_IF_ERROR(ReadRange(wal, pos, buf.data(), n));
      pos += n;
      const bool last = pos == end;
      ZSTD_inBuffer in{buf.data(), n, 0};
      for (;;) {
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        size_t rc = ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(rc)) {
          return Status(Code::kInternal, Problem("cannot compress", path, ZSTD_getErrorName(rc)));
        }
        compressed.append(out.data(), o.pos);
        if (last ? rc == 0 : in.pos == in.size) break;
      }
      if (last) break;
    }
    h.stored_size = compressed.size();
  } else {
    h.flags &= ~kFlagZstd;
    h.stored_size = h.body_size;
  }
  const std::string header = EncodeHeader(h);
  // SEG-7: the header, and a zstd body's stored frame.
  Sha256 seal;
  seal.Update(header);
  if (zstd) seal.Update(compressed);
  WrittenSegment out;
  out.seal = seal.Finish();
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenWrite(path, OpenMode::kTruncate));
  AERO_RETURN_IF_ERROR(file->Append(header));
  if (zstd) {
    AERO_RETURN_IF_ERROR(file->Append(compressed));
  } else {
    AERO_RETURN_IF_ERROR(file->AppendFrom(wal, start, end - start));
  }
  std::string trailer(kTrailerMagic);
  trailer.append(reinterpret_cast<const char*>(out.seal.data()), out.seal.size());
  AERO_RETURN_IF_ERROR(file->Append(trailer));
  out.bytes = h.TotalSize();
  AERO_RETURN_IF_ERROR(file->Sync());
  AERO_RETURN_IF_ERROR(file->Close());
  return out;
}

}  // namespace aero::segment
