#include "support/archive_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <zstd.h>

#include <algorithm>
#include <stdexcept>

namespace aero::testing {

void WriteTar(const std::string& path, const std::vector<TarEntry>& entries, bool zstd) {
  archive* a = archive_write_new();
  const bool sparse = std::any_of(entries.begin(), entries.end(),
                                  [](const TarEntry& t) { return t.sparse; });
  if (sparse) {
    archive_write_set_format_pax(a);
  } else {
    archive_write_set_format_ustar(a);
  }
  if (zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error("cannot write " + path);
  }
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);
    switch (t.type) {
      case TarEntry::kFile: archive_entry_set_filetype(e, AE_IFREG); break;
      case TarEntry::kDir: archive_entry_set_filetype(e, AE_IFDIR); break;
      case TarEntry::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t.link.c_str());
        break;
      case TarEntry::kHardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, t.link.c_str());
        break;
      case TarEntry::kCharDevice:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, 0x0103);
        break;
      case TarEntry::kFifo: archive_entry_set_filetype(e, AE_IFIFO); break;
    }
    const bool has_data = t.type == TarEntry::kFile;
    archive_entry_set_size(e, has_data ? (t.size >= 0 ? t.size : (long long)t.data.size()) : 0);
    if (t.sparse) archive_entry_sparse_add_entry(e, 512, archive_entry_size(e) - 512);
    archive_write_header(a, e);
    if (has_data && !t.data.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string PaxTarPrefix(const std::vector<TarEntry>& entries, size_t max_bytes) {
  struct Sink {
    std::string bytes;
    size_t max;
  } sink{{}, max_bytes};
  auto write = [](archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
    auto* s = static_cast<Sink*>(ctx);
    if (s->bytes.size() >= s->max) return -1;  // the copy stops here
    s->bytes.append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open2(a, &sink, nullptr, write, nullptr, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error("cannot open a tar in memory");
  }
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, t.size >= 0 ? t.size : static_cast<long long>(t.data.size()));
    const bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
                    (t.data.empty() ||
                     archive_write_data(a, t.data.data(), t.data.size()) ==
                         static_cast<la_ssize_t>(t.data.size()));
    archive_entry_free(e);
    if (!ok) break;  // past max_bytes
  }
  archive_write_close(a);
  archive_write_free(a);
  sink.bytes.resize(std::min(sink.bytes.size(), max_bytes));
  return sink.bytes;
}

std::vector<TarEntry> ReadTar(const std::string& path) {
  archive* a = archive_read_new();
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw std::runtime_error("cannot read " + path);
  }
  std::vector<TarEntry> out;
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TarEntry t;
    t.path = archive_entry_pathname(e);
    t.data.resize(static_cast<size_t>(archive_entry_size(e)));
    if (!t.data.empty()) archive_read_data(a, t.data.data(), t.data.size());
    out.push_back(std::move(t));
  }
  archive_read_free(a);
  return out;
}

std::optional<std::string> DecompressZstd(const std::string& bytes) {
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_initDStream(d);
  std::string out;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  size_t rc = 1;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const size_t before = in.pos;
    rc = ZSTD_decompressStream(d, &o, &in);
    if (ZSTD_isError(rc)) break;
    out.append(buf.data(), o.pos);
    if (rc == 0 && in.pos < in.size) {
      rc = 1;  // bytes after the frame: not one frame
      break;
    }
    if (o.pos == 0 && in.pos == before) break;  // no progress: the frame is cut short
  }
  ZSTD_freeDStream(d);
  if (ZSTD_isError(rc) || rc != 0) return std::nullopt;
  return out;
}

}  // namespace aero::testing

namespace aero::testing {

std::string CompressZstd(const std::string& bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 1);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace aero::testing
