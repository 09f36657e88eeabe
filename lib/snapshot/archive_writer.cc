#include "snapshot/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include "snapshot/archive_format.h"
#include "snapshot/libarchive_loader.h"

namespace aero::snapshot {

struct ArchiveWriter::Impl {
  archive* a = nullptr;
  WritableFile* out = nullptr;
  Status io;  // the first write error, kept past libarchive's generic one
  ~Impl() {
    if (a) archive_write_free(a);
  }
};

namespace {

// A failed write is kept in `io` and every later block is dropped, but
// libarchive is told the block was written: libarchive 3.6 leaks its write
// buffer when a client write fails inside archive_write_close (3.7 fixed
// it). Every ArchiveWriter call returns `io` once it is set, so the failure
// is reported at the call that met it, or at the next one.
la_ssize_t WriteCb(archive*, void* ctx, const void* buf, size_t n) {
  auto* impl = static_cast<ArchiveWriter::Impl*>(ctx);
  if (!impl->io.ok()) return static_cast<la_ssize_t>(n);
  Status s = impl->out->Append(std::string_view(static_cast<const char*>(buf), n));
  if (!s.ok()) impl->io = s;
  return static_cast<la_ssize_t>(n);
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveWriter::~ArchiveWriter() = default;

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Open(WritableFile* out, bool zstd,
                                                            int level_value) {
  AERO_RETURN_IF_ERROR(LoadLibarchive());
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
    if (archive_write_add_filter_zstd(impl->a) != ARCHIVE_OK) return fail("no zstd in libarchive");
    const std::string level = std::to_string(level_value);
    if (archive_write_set_filter_option(impl->a, "zstd", "compression-level", level.c_str()) !=
        ARCHIVE_OK) {
      return fail("cannot set the zstd level");
    }
  }
  archive_write_set_bytes_in_last_block(impl->a, 1);  // no padding after the end marker
  if (archive_write_open2(impl->a, impl.get(), nullptr, WriteCb, nullptr, nullptr) != ARCHIVE_OK) {
    return impl->io.ok() ? fail("cannot open archive") : impl->io;
  }
  AERO_RETURN_IF_ERROR(impl->io);
  return std::unique_ptr<ArchiveWriter>(new ArchiveWriter(std::move(impl)));
}

Status ArchiveWriter::BeginFile(const std::string& path, uint64_t size) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
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
  if (archive_write_close(impl_->a) != ARCHIVE_OK) {
    if (!impl_->io.ok()) return impl_->io;
    return Status(Code::kIo, Problem("cannot finish archive", impl_->out->path(),
                                     archive_error_string(impl_->a)));
  }
  return impl_->io;
}

}  // namespace aero::snapshot
