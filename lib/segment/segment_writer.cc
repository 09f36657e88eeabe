#include "segment/segment_writer.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <functional>
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

// Compresses WAL bytes [start, end) as one frame with the SEG-6 parameters,
// streaming each piece of output to `sink`; returns the frame's size.
Result<uint64_t> Compress(ReadableFile& wal, uint64_t start, uint64_t end,
                          const std::string& path,
                          const std::function<Status(std::string_view)>& sink) {
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return Status(Code::kIo, Problem("cannot compress", path, "out of memory"));
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kSegmentZstdLevel);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setPledgedSrcSize(cctx.get(), end - start);
  std::string buf(kCopyChunk, '\0');
  std::string out(ZSTD_CStreamOutSize(), '\0');
  uint64_t produced = 0;
  for (uint64_t pos = start;;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, end - pos));
    if (n > 0) AERO_RETURN_IF_ERROR(ReadRange(wal, pos, buf.data(), n));
    pos += n;
    const bool last = pos == end;
    ZSTD_inBuffer in{buf.data(), n, 0};
    for (;;) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      size_t rc = ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(rc)) {
        // OPS-14: memory that ran out is the machine's state (10), not a bug.
        if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation) {
          return Status(Code::kIo, Problem("cannot compress", path, ZSTD_getErrorName(rc)),
                        "free memory, or raise the address-space limit (ulimit -v), then re-run: "
                        "nothing acknowledged was lost");
        }
        return Status(Code::kInternal, Problem("cannot compress", path, ZSTD_getErrorName(rc)));
      }
      if (o.pos > 0) AERO_RETURN_IF_ERROR(sink(std::string_view(out.data(), o.pos)));
      produced += o.pos;
      if (last ? rc == 0 : in.pos == in.size) break;
    }
    if (last) return produced;
  }
}

// The trailer after the stored body (SEG-7: magic, then the seal), then the
// fsync and the close: the last steps of every segment file.
Status EndSegmentFile(WritableFile& file, const Sha256Digest& seal) {
  std::string trailer(kTrailerMagic);
  trailer.append(reinterpret_cast<const char*>(seal.data()), seal.size());
  AERO_RETURN_IF_ERROR(file.Append(trailer));
  AERO_RETURN_IF_ERROR(file.Sync());
  return file.Close();
}

}  // namespace

Result<WrittenSegment> WriteSegment(Fs& fs, const std::string& path, SegmentHeader h,
                                    ReadableFile& wal, uint64_t start, uint64_t end, bool zstd,
                                    const WrapWriter& wrap) {
  h.body_size = end - start;
  h.signature_size = 0;
  if (zstd) {
    // The header, which comes first, holds the frame's size: compress once to
    // learn it, then again into the file (the same bytes: SEG-6). Memory stays
    // flat whatever the segment's size, at twice the compression time.
    h.flags |= kFlagZstd;
    AERO_ASSIGN_OR_RETURN(h.stored_size, Compress(wal, start, end, path, [](std::string_view) {
                            return Status::Ok();
                          }));
  } else {
    h.flags &= ~kFlagZstd;
    h.stored_size = h.body_size;
  }
  const std::string header = EncodeHeader(h);
  // SEG-7: the header, and a zstd body's stored frame.
  Sha256 seal;
  seal.Update(header);
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenWrite(path, OpenMode::kTruncate));
  if (wrap) {
    AERO_ASSIGN_OR_RETURN(file, wrap(std::move(file), h.TotalSize()));
  }
  AERO_RETURN_IF_ERROR(file->Append(header));
  if (zstd) {
    AERO_ASSIGN_OR_RETURN(uint64_t again, Compress(wal, start, end, path, [&](std::string_view b) {
                            seal.Update(b);
                            return file->Append(b);
                          }));
    if (again != h.stored_size) {
      return Status(Code::kInternal, Problem("cannot compress", path,
                                             "zstd gave two sizes for the same input"));
    }
  } else {
    AERO_RETURN_IF_ERROR(file->AppendFrom(wal, start, end - start));
  }
  WrittenSegment out;
  out.seal = seal.Finish();
  out.bytes = h.TotalSize();
  AERO_RETURN_IF_ERROR(EndSegmentFile(*file, out.seal));
  return out;
}

Result<std::unique_ptr<StreamedSegment>> StreamedSegment::Open(Fs& fs, const std::string& path) {
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenWrite(path, OpenMode::kTruncate));
  std::unique_ptr<StreamedSegment> s(new StreamedSegment(fs, path, std::move(file)));
  Status placeholder = s->file_->Append(std::string(kSegmentHeaderBytes, '\0'));
  if (!placeholder.ok()) return placeholder;  // the destructor removes the file
  return s;
}

StreamedSegment::~StreamedSegment() {
  if (!finished_) Abandon();
}

Status StreamedSegment::Append(std::string_view body_bytes) {
  AERO_RETURN_IF_ERROR(file_->Append(body_bytes));
  body_bytes_ += body_bytes.size();
  return Status::Ok();
}

Result<WrittenSegment> StreamedSegment::Finish(SegmentHeader h) {
  h.flags &= ~kFlagZstd;
  h.signature_size = 0;
  h.body_size = h.stored_size = body_bytes_;
  const std::string header = EncodeHeader(h);
  // SEG-7: the seal covers the header of a plain segment.
  WrittenSegment out;
  out.seal = Sha256::Of(header);
  AERO_RETURN_IF_ERROR(file_->WriteAt(0, header));
  AERO_RETURN_IF_ERROR(EndSegmentFile(*file_, out.seal));
  finished_ = true;
  out.bytes = h.TotalSize();
  return out;
}

void StreamedSegment::Abandon() {
  if (finished_) return;
  finished_ = true;
  (void)file_->Close();
  (void)fs_.Remove(path_);
}

}  // namespace aero::segment
