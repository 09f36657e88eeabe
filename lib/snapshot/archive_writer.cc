#include "snapshot/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <new>
#include <string>

#include "snapshot/archive_format.h"
#include "snapshot/libarchive_loader.h"

namespace aero::snapshot {

struct ArchiveWriter::Impl {
  archive* a = nullptr;
  WritableFile* out = nullptr;
  Status io;  // the first write error, kept past libarchive's generic one
  // SNAP-2: the tar stream's zstd frame, compressed by libzstd on one
  // worker thread beside the caller (null: not compressed).
  ZSTD_CCtx* zstd = nullptr;
  std::string zout;  // the compressed bytes of one call, before they are appended
  bool finished = false;  // Finish() ran: the frame is ended once
  ~Impl() {
    if (a) archive_write_free(a);
    ZSTD_freeCCtx(zstd);
  }
  // Feeds `in` to the frame (kEnd: and ends it), appending what comes out.
  void Compress(std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{zout.data(), zout.size(), 0};
      const size_t left = ZSTD_compressStream2(zstd, &ob, &ib, mode);
      if (ZSTD_isError(left)) {
        // Starting the worker (a thread, its buffers) can fail for want of
        // memory or threads: the machine's state, not a bug.
        io = ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation
                 ? Status(Code::kIo, Problem("cannot compress", out->path(), ZSTD_getErrorName(left)),
                          "free memory, or raise the process and thread limits, then re-run")
                 : Status(Code::kInternal, Problem("cannot compress", out->path(), ZSTD_getErrorName(left)));
        return;
      }
      if (ob.pos > 0) {
        Status s = out->Append(std::string_view(zout.data(), ob.pos));
        if (!s.ok()) {
          io = s;
          return;
        }
      }
      // Done when the input is taken and, ending, nothing is left to flush.
      if (ib.pos == ib.size && (mode == ZSTD_e_continue ? ob.pos < ob.size : left == 0)) return;
    }
  }
};

namespace {

// A failed write is kept in `io` and every later block is dropped, but
// libarchive is told the block was written: libarchive 3.6 leaks its write
// buffer when a client write fails inside archive_write_close (3.7 fixed
// it). Every ArchiveWriter call returns `io` once it is set, so the failure
// is reported at the call that met it, or at the next one.
// Called from libarchive's C frames: nothing may be thrown through them.
la_ssize_t WriteCb(archive*, void* ctx, const void* buf, size_t n) noexcept {
  auto* impl = static_cast<ArchiveWriter::Impl*>(ctx);
  if (!impl->io.ok()) return static_cast<la_ssize_t>(n);
  const std::string_view bytes(static_cast<const char*>(buf), n);
  try {
    if (impl->zstd) {
      impl->Compress(bytes, ZSTD_e_continue);
      return static_cast<la_ssize_t>(n);
    }
    Status s = impl->out->Append(bytes);
    if (!s.ok()) impl->io = s;
  } catch (const std::bad_alloc&) {
    impl->io = Status(Code::kIo, Problem("cannot write archive", impl->out->path(), "out of memory"),
                      "free memory, then re-run");
  }
  return static_cast<la_ssize_t>(n);
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveWriter::~ArchiveWriter() = default;

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Open(WritableFile* out, bool zstd,
                                                            int level_value) {
  AERO_RETURN_IF_ERROR(LoadLibarchive());
  const Utf8LocaleScope utf8;  // the pax writer takes its character set here
  auto impl = std::make_unique<Impl>();
  impl->out = out;
  impl->a = archive_write_new();
  if (impl->a == nullptr) return Status(Code::kIo, Problem("cannot create archive", out->path()));
  auto fail = [&](const char* what) {
    return Status(Code::kInternal,
                  Problem(what, out->path(), archive_error_string(impl->a)
                                                 ? archive_error_string(impl->a)
                                                 : "libarchive"));
  };
  // ustar headers, with a pax extended header only where ustar cannot say it
  // (a member over 8 GiB, a long name): still deterministic.
  if (archive_write_set_format_pax_restricted(impl->a) != ARCHIVE_OK) return fail("cannot set tar");
  if (zstd) {
    // SNAP-2: one frame, from libzstd itself rather than libarchive's zstd
    // filter, so that its worker's memory is bounded: one worker compresses
    // beside the thread that reads, hashes and writes, in jobs of
    // kArchiveZstdJobBytes; the bytes are a function of the input and the
    // level (SNAP-4), not of timing.
    impl->zstd = ZSTD_createCCtx();
    if (impl->zstd == nullptr) return Status(Code::kIo, Problem("cannot compress", out->path(), "out of memory"));
    if (ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_compressionLevel, level_value)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_checksumFlag, 0))) {
      return Status(Code::kInternal, Problem("cannot set the zstd level", out->path(), std::to_string(level_value)));
    }
    // A libzstd built without threads compresses on the caller's thread:
    // other bytes, the same format, still deterministic.
    if (!ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_nbWorkers, 1))) {
      (void)ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_jobSize, static_cast<int>(kArchiveZstdJobBytes));
    }
    impl->zout.resize(ZSTD_CStreamOutSize());
  }
  archive_write_set_bytes_in_last_block(impl->a, 1);  // no padding after the end marker
  if (archive_write_open2(impl->a, impl.get(), nullptr, WriteCb, nullptr, nullptr) != ARCHIVE_OK) {
    return impl->io.ok() ? fail("cannot open archive") : impl->io;
  }
  AERO_RETURN_IF_ERROR(impl->io);
  return std::unique_ptr<ArchiveWriter>(new ArchiveWriter(std::move(impl)));
}

Status ArchiveWriter::BeginFile(const std::string& path, uint64_t size) {
  // SNAP-8: member paths are UTF-8 text; a name beyond ASCII gets its pax
  // path record under a UTF-8 character set, whatever the process's locale.
  const Utf8LocaleScope utf8;
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname_utf8(e, path.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, kFileMode);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_mtime(e, 0, 0);  // SNAP-2, SNAP-4: no clock
  int rc = archive_write_header(impl_->a, e);
  archive_entry_free(e);
  AERO_RETURN_IF_ERROR(impl_->io);
  if (rc != ARCHIVE_OK) {
    if (!impl_->io.ok()) return impl_->io;
    return Status(Code::kInternal, Problem("cannot write member", path,
                                           archive_error_string(impl_->a)));
  }
  return Status::Ok();
}

Status ArchiveWriter::Data(std::string_view bytes) {
  while (!bytes.empty()) {
    la_ssize_t n = archive_write_data(impl_->a, bytes.data(), bytes.size());
    AERO_RETURN_IF_ERROR(impl_->io);
    if (n <= 0) {
      if (!impl_->io.ok()) return impl_->io;
      return Status(Code::kIo, Problem("cannot write archive", impl_->out->path(),
                                       archive_error_string(impl_->a)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status ArchiveWriter::Finish() {
  if (impl_->finished) return impl_->io;
  impl_->finished = true;
  if (archive_write_close(impl_->a) != ARCHIVE_OK) {
    if (!impl_->io.ok()) return impl_->io;
    return Status(Code::kIo, Problem("cannot finish archive", impl_->out->path(),
                                     archive_error_string(impl_->a)));
  }
  if (impl_->zstd && impl_->io.ok()) impl_->Compress({}, ZSTD_e_end);  // the frame's end
  return impl_->io;
}

}  // namespace aero::snapshot
