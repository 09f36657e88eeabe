#include "snapshot/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/async_sha256.h"
#include "common/crc32.h"
#include "common/sha256.h"
#include "node/storage_record.h"
#include "snapshot/archive_format.h"
#include "snapshot/libarchive_loader.h"
#include "wal/wal_scan.h"

namespace aero::snapshot {

const char* ArchiveStateName(ArchiveState s) {
  switch (s) {
    case ArchiveState::kValid: return "valid";
    case ArchiveState::kInTransit: return "in-transit";
    case ArchiveState::kCorrupt: return "corrupt";
    case ArchiveState::kIoError: return "io-error";
  }
  return "corrupt";
}

namespace {

constexpr size_t kBlock = 256 * 1024;
constexpr uint64_t kAsyncHashBytes = 1 << 20;

struct Source {
  ReadableFile* file;
  std::string buf;
  uint64_t consumed = 0;
  bool eof = false;
  Status io;
};

la_ssize_t ReadCb(archive*, void* ctx, const void** out) {
  auto* s = static_cast<Source*>(ctx);
  s->buf.resize(kBlock);
  Result<size_t> got = s->file->Read(s->buf.data(), s->buf.size());
  if (!got.ok()) {
    s->io = got.status();
    return -1;
  }
  if (*got == 0) s->eof = true;
  s->consumed += *got;
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*got);
}

// One member's data as a ReadableFile, for the WAL and storage scanners:
// every byte read is hashed, counted against the bomb bound and passed on.
class MemberFile final : public ReadableFile {
 public:
  MemberFile(archive* a, const Member& m, Source* src, ArchiveCheck* check, const MemberSink& sink,
             bool hash)
      : a_(a), m_(m), src_(src), check_(check), sink_(sink), hash_(hash) {
    // A large member is hashed on the other core while this one reads,
    // checks and writes it (SNAP-6: one pass, every byte hashed once).
    if (hash && m.size >= kAsyncHashBytes) async_sha_.emplace();
  }
  Result<size_t> Read(char* buf, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, m_.size - done_));
    if (n == 0) return size_t{0};
    la_ssize_t got = archive_read_data(a_, buf, n);
    if (got < 0) {
      failed_ = true;
      return Status(Code::kDamage, archive_error_string(a_) ? archive_error_string(a_) : "read error");
    }
    if (got == 0) {
      failed_ = true;
      return Status(Code::kDamage, "member data ends early");
    }
    std::string_view bytes(buf, static_cast<size_t>(got));
    if (async_sha_) {
      async_sha_->Update(bytes);
    } else if (hash_) {
      sha_.Update(bytes);
    }
    crc_ = Crc32(bytes, crc_);
    done_ += bytes.size();
    check_->data_bytes += bytes.size();
    if (check_->data_bytes > kBombGraceBytes &&
        check_->data_bytes > kBombRatio * std::max<uint64_t>(src_->consumed, 1)) {
      failed_ = true;
      return Status(Code::kDamage, "decompression bomb: more than 1000 bytes out per byte in");
    }
    if (sink_.data) AERO_RETURN_IF_ERROR(sink_.data(bytes));
    return static_cast<size_t>(got);
  }
  Status Seek(uint64_t off) override {
    return off == done_ ? Status::Ok() : Status(Code::kInternal, "cannot seek in an archive member");
  }
  Result<uint64_t> Size() override { return m_.size; }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.size = m_.size;
    return i;
  }
  const std::string& path() const override { return m_.path; }
  Status Drain() {
    std::string buf(kBlock, '\0');
    for (;;) {
      AERO_ASSIGN_OR_RETURN(size_t n, Read(buf.data(), buf.size()));
      if (n == 0) return Status::Ok();
    }
  }
  Sha256Digest Digest() { return async_sha_ ? async_sha_->Finish() : sha_.Finish(); }
  uint32_t crc() const { return crc_; }
  uint64_t done() const { return done_; }
  // The archive itself failed (ended early, bad frame), as opposed to the
  // member's content failing a check.
  bool read_failed() const { return failed_; }

 private:
  archive* a_;
  const Member& m_;
  Source* src_;
  ArchiveCheck* check_;
  const MemberSink& sink_;
  bool hash_;
  Sha256 sha_;
  std::optional<AsyncSha256> async_sha_;
  uint32_t crc_ = 0;
  uint64_t done_ = 0;
  bool failed_ = false;
};

// True when `j` (an object) has `key` as a string equal to `want`; never throws.
bool JsonStringIs(const nlohmann::json& j, const char* key, const std::string& want) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == want;
}

std::string Crc32Text(uint32_t crc) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "crc32:%08x", crc);
  return buf;
}

}  // namespace

bool IsStorageMember(const std::string& path, const Manifest& m) {
  return path == "data/documents.dat" ||
         (m.base_snapshot && path == "snapshots/" + *m.base_snapshot + "/storage.dat");
}

Status CheckWalMember(ReadableFile* member, uint64_t size, const Manifest& m) {
  wal::ScanOptions opt;
  opt.base_commit = m.base_commit;
  opt.base_digest = m.base_digest;
  wal::ScanResult r = wal::WalScanner(member, opt).Run();
  if (r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
  if (r.stop.kind != wal::StopKind::kCleanEnd || r.tail_records > 0) {
    return Status(Code::kDamage, "wal/wal.log: " + r.stop.detail + " at offset " +
                                     std::to_string(r.stop.offset));
  }
  if (r.position.commit != m.boundary_commit || r.position.digest != m.boundary_digest ||
      size != m.boundary_wal_offset) {
    return Status(Code::kDamage, "wal/wal.log does not end at the boundary commit " +
                                     std::to_string(m.boundary_commit) + " with its digest");
  }
  if (r.write_sets > 0 && r.last_sequence && *r.last_sequence + 1 != m.next_sequence) {
    return Status(Code::kDamage, "wal/wal.log: next_sequence disagrees with the log");
  }
  for (const auto& f : r.findings) {
    if (f.kind == "commit-order") return Status(Code::kDamage, "wal/wal.log: " + f.detail);
  }
  return Status::Ok();
}

Status CheckStorageMember(ReadableFile* member) {
  node::StorageReader sr(member);
  node::StorageRecord rec;
  while (sr.Next(&rec)) {
  }
  return sr.status();
}

ArchiveCheck ReadArchive(ReadableFile& file, const MemberSink& sink,
                         const ArchiveCheck* verified) {
  ArchiveCheck c;
  if (Status loaded = LoadLibarchive(); !loaded.ok()) {
    c.state = ArchiveState::kIoError;
    c.io = loaded;
    c.detail = loaded.message();
    return c;
  }
  Source src;
  src.file = &file;
  archive* a = archive_read_new();
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  struct Closer {
    archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{a};
  bool content_damage = false;
  auto corrupt = [&](std::string d) {
    c.state = ArchiveState::kCorrupt;
    c.detail = std::move(d);
    return c;
  };
  // A libarchive failure: an unfinished transfer when the input simply ran
  // out and everything read so far checked out (SNAP-7), damage otherwise.
  auto stopped = [&](const std::string& what) {
    if (!src.io.ok()) {
      c.state = ArchiveState::kIoError;
      c.io = src.io;
      c.detail = src.io.message();
      return c;
    }
    if (src.eof && !content_damage) {
      c.state = ArchiveState::kInTransit;
      c.detail = "the archive ends after " + std::to_string(src.consumed) + " bytes (" + what + ")";
      return c;
    }
    return corrupt(what);
  };
  if (archive_read_open(a, &src, nullptr, ReadCb, nullptr) != ARCHIVE_OK) {
    if (src.consumed == 0 && src.eof) {
      c.state = ArchiveState::kInTransit;
      c.detail = "the archive is empty";
      return c;
    }
    return stopped(archive_error_string(a) ? archive_error_string(a) : "not an archive");
  }
  archive_entry* e = nullptr;
  // Member 0: the manifest.
  int rc = archive_read_next_header(a, &e);
  if (rc == ARCHIVE_EOF) return corrupt("no manifest: the archive is empty");
  if (rc != ARCHIVE_OK) return stopped(archive_error_string(a) ? archive_error_string(a) : "bad header");
  if (std::string(archive_entry_pathname(e) ? archive_entry_pathname(e) : "") != kManifestMember ||
      archive_entry_filetype(e) != AE_IFREG) {
    return corrupt(std::string("member 0 is not ") + std::string(kManifestMember));
  }
  const la_int64_t msize = archive_entry_size(e);
  if (msize <= 0 || static_cast<uint64_t>(msize) > kMaxManifestBytes) {
    return corrupt("manifest size out of bounds");
  }
  std::string mbytes(static_cast<size_t>(msize), '\0');
  for (size_t got = 0; got < mbytes.size();) {
    la_ssize_t n = archive_read_data(a, mbytes.data() + got, mbytes.size() - got);
    if (n <= 0) return stopped("manifest ends early");
    got += static_cast<size_t>(n);
  }
  Result<Manifest> manifest = DecodeManifest(mbytes);
  if (!manifest.ok()) return corrupt(manifest.status().message());
  c.manifest = *manifest;
  if (verified && !(verified->manifest &&
                    EncodeManifest(*verified->manifest) == EncodeManifest(*manifest) &&
                    verified->member_crcs.size() == manifest->members.size())) {
    return corrupt("the manifest changed since the archive was verified");
  }
  const Manifest& m = *c.manifest;

  // AeroDB's own manifest, read before the files it covers (they sort after it).
  const std::string snap_dir =
      m.base_snapshot ? "snapshots/" + *m.base_snapshot + "/" : std::string();
  nlohmann::json aerodb_manifest;
  for (size_t i = 0;; ++i) {
    rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      if (i < m.members.size()) {
        if (src.eof && !content_damage) {  // SNAP-7: cut at a member boundary
          c.state = ArchiveState::kInTransit;
          c.detail = "the archive ends after " + std::to_string(i) + " of " +
                     std::to_string(m.members.size()) + " members";
          return c;
        }
        return corrupt("member '" + m.members[i].path + "' is missing (" +
                       std::to_string(m.members.size() - i) + " of " +
                       std::to_string(m.members.size()) + " not present)");
      }
      break;
    }
    if (rc != ARCHIVE_OK) {
      if (rc == ARCHIVE_FATAL || rc == ARCHIVE_WARN || rc == ARCHIVE_FAILED) {
        return stopped(archive_error_string(a) ? archive_error_string(a) : "bad header");
      }
    }
    const std::string path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    // SNAP-8, from the header alone.
    const mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e) != nullptr) return corrupt("member '" + path + "': a hard link");
    if (type != AE_IFREG) {
      return corrupt("member '" + path + "': type not allowed (" +
                     (type == AE_IFLNK   ? std::string("symlink")
                      : type == AE_IFDIR ? std::string("directory")
                      : type == AE_IFCHR || type == AE_IFBLK ? std::string("device")
                      : type == AE_IFIFO ? std::string("fifo")
                                          : std::string("other")) +
                     ")");
    }
    std::string why;
    if (!IsSafeMemberPath(path, &why)) return corrupt("member '" + path + "': " + why);
    if (i >= m.members.size()) return corrupt("member '" + path + "' is not listed in the manifest");
    const Member& want = m.members[i];
    if (path != want.path) {
      return corrupt("member '" + path + "' where the manifest lists '" + want.path +
                     "' (duplicate, out of order or unlisted)");
    }
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
        static_cast<uint64_t>(archive_entry_size(e)) != want.size) {
      return corrupt("member '" + path + "': size " + std::to_string(archive_entry_size(e)) +
                     " where the manifest says " + std::to_string(want.size));
    }
    if (sink.begin) {
      Status s = sink.begin(want);
      if (!s.ok()) {
        c.state = ArchiveState::kIoError;
        c.io = s;
        c.detail = s.message();
        return c;
      }
    }
    MemberFile mf(a, want, &src, &c, sink, verified == nullptr);
    Status content;
    if (verified) {
      // Pass 2 (SNAP-10): the same bytes as pass 1, or nothing is installed.
      content = mf.Drain();
      if (content.ok() && mf.crc() != verified->member_crcs[i]) {
        content = Status(Code::kDamage,
                         "member '" + path + "' changed since the archive was verified");
      }
    } else if (path == "wal/wal.log") {
      content = CheckWalMember(&mf, want.size, m);
    } else if (IsStorageMember(path, m)) {
      content = CheckStorageMember(&mf);
      if (content.ok() && path == snap_dir + "storage.dat" && aerodb_manifest.is_object() &&
          !JsonStringIs(aerodb_manifest, "storage_checksum", Crc32Text(mf.crc()))) {
        content = Status(Code::kDamage, path + ": CRC-32 differs from AeroDB's manifest");
      }
    } else if (!snap_dir.empty() && path == snap_dir + "manifest.json") {
      if (want.size > (1u << 20)) return corrupt(path + ": larger than 1 MiB");
      std::string text;
      char buf[64 * 1024];
      for (;;) {
        Result<size_t> n = mf.Read(buf, sizeof buf);
        if (!n.ok()) {
          content = n.status();
          break;
        }
        if (*n == 0) break;
        text.append(buf, *n);
      }
      aerodb_manifest = nlohmann::json::parse(text, nullptr, false);
      // Typed reads only: a hostile manifest.json must be damage, never an
      // exception (a string or null) or a float cast out of range (4e99).
      const auto boundary = aerodb_manifest.is_object() ? aerodb_manifest.find("commit_boundary")
                                                        : aerodb_manifest.end();
      if (content.ok() && (boundary == aerodb_manifest.end() || !boundary->is_number_unsigned() ||
                           boundary->get<uint64_t>() != m.base_commit)) {
        content = Status(Code::kDamage, path + ": commit_boundary is not the base commit");
      }
    }
    if (content.ok()) content = mf.Drain();
    if (content.ok() && !verified && !snap_dir.empty() &&
        path.rfind(snap_dir + "schemas/", 0) == 0 && aerodb_manifest.is_object()) {
      const std::string name = path.substr(snap_dir.size() + 8);
      const auto sums = aerodb_manifest.find("schema_checksums");
      if (sums == aerodb_manifest.end() || !sums->is_object() ||
          !JsonStringIs(*sums, name.c_str(), Crc32Text(mf.crc()))) {
        content = Status(Code::kDamage, path + ": CRC-32 differs from AeroDB's manifest");
      }
    }
    if (content.ok() && !verified && mf.Digest() != want.sha256) {
      content = Status(Code::kDamage, "member '" + path + "': SHA-256 differs from the manifest");
    }
    if (!content.ok()) {
      if (content.code() == Code::kIo) {
        c.state = ArchiveState::kIoError;
        c.io = content;
        c.detail = content.message();
        return c;
      }
      // A member cut short by the end of the input is still an unfinished
      // copy; content that fails a check is damage wherever the input ends.
      if (mf.read_failed()) return stopped(content.message());
      content_damage = true;
      return corrupt(content.message());
    }
    if (sink.end) {
      Status s = sink.end();
      if (!s.ok()) {
        c.state = ArchiveState::kIoError;
        c.io = s;
        c.detail = s.message();
        return c;
      }
    }
    c.member_crcs.push_back(mf.crc());
    ++c.members_read;
  }
  c.compressed_bytes = src.consumed;
  c.state = ArchiveState::kValid;
  return c;
}

}  // namespace aero::snapshot
