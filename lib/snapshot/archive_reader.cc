#include "snapshot/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/async_sha256.h"
#include "common/escape.h"
#include "common/background_writer.h"
#include "common/crc32.h"
#include "common/preallocated.h"
#include "common/sha256.h"
#include "history/async_chain.h"
#include "node/storage_record.h"
#include "node/layout.h"
#include "snapshot/archive_format.h"
#include "snapshot/archive_source.h"
#include "snapshot/libarchive_loader.h"
#include "wal/wal_scan.h"

namespace aero::snapshot {

namespace {

constexpr size_t kBlock = 256 * 1024;
constexpr uint64_t kAsyncHashBytes = 1 << 20;
// Members of a plain archive read at their offsets at once (SNAP-6), and
// members read or being read whose outcomes are not yet taken.
constexpr size_t kReadAtInFlight = 2;
constexpr size_t kMaxPending = 64;

la_ssize_t ReadCb(archive*, void* ctx, const void** out) {
  auto* s = static_cast<ArchiveSource*>(ctx);
  const char* data = nullptr;
  size_t size = 0;
  if (!s->Next(&data, &size)) return -1;
  *out = data;
  return static_cast<la_ssize_t>(size);
}

// libarchive skips the data of a member read at its offset by a worker:
// a seek, not a read, so the bytes cross no buffer on this thread. Never
// past the end of the file (libarchive then reads, and finds the end).
la_int64_t SkipCb(archive*, void* ctx, la_int64_t request) {
  if (request <= 0) return 0;
  return static_cast<la_int64_t>(
      static_cast<ArchiveSource*>(ctx)->Skip(static_cast<uint64_t>(request)));
}

// One member's data as a ReadableFile, for the WAL and storage scanners:
// every byte read is hashed, CRC'd, and appended to `out` when installing.
// Its bytes come either from libarchive's stream (counted against the bomb
// bound) or from the archive file at the member's offset (ReadAt).
//
// The stream is taken block by block (archive_read_data_block), so every
// byte libarchive has is seen before a failure that follows it:
// archive_read_data would drop the bytes it had copied when the next block
// fails, and what a cut member shows would then depend on where the buffer
// ends, not on the bytes (SNAP-7: one verdict whatever the read path).
class MemberFile final : public ReadableFile {
 public:
  // From the stream, on the reading thread.
  MemberFile(const Member& m, archive* a, const ArchiveSource* src, uint64_t* total, bool hash,
             WritableFile* out)
      : m_(m), a_(a), src_(src), total_(total), hash_(hash), out_(out) {
    // A large member is hashed, and written, on the other core while this
    // one reads and checks it (SNAP-6: one pass, every byte hashed once).
    if (m.size >= kAsyncHashBytes) {
      if (hash) async_sha_.emplace();
      if (out) writer_.emplace([out](std::string_view b) { return out->Append(b); });
    }
  }
  // At `offset` in `file`, on a worker thread that does everything itself.
  MemberFile(const Member& m, ReadableFile* file, uint64_t offset, bool hash, WritableFile* out)
      : m_(m), file_(file), offset_(offset), hash_(hash), out_(out) {}

  Result<size_t> Read(char* buf, size_t n) override {
    std::string_view bytes;
    AERO_RETURN_IF_ERROR(Next(n, &bytes));
    if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
    return bytes.size();
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
  // The rest of the member, taken in place (no copy).
  Status Drain() {
    for (;;) {
      std::string_view bytes;
      AERO_RETURN_IF_ERROR(Next(kBlock, &bytes));
      if (bytes.empty()) return Status::Ok();
    }
  }
  // Every byte handed to `out` is durable and the file closed.
  Status FinishOutput() {
    if (writer_) {
      Status written = writer_->Finish();
      writer_.reset();
      AERO_RETURN_IF_ERROR(written);
    }
    if (!out_) return Status::Ok();
    AERO_RETURN_IF_ERROR(out_->Sync());
    return out_->Close();
  }
  Sha256Digest Digest() { return async_sha_ ? async_sha_->Finish() : sha_.Finish(); }
  uint32_t crc() const { return crc_; }
  uint64_t done() const { return done_; }
  // The input failed (ended early, bad frame), as opposed to the member's
  // content failing a check.
  bool read_failed() const { return failed_; }

 private:
  // The next at most `max` bytes of the member (empty at its end), hashed,
  // CRC'd, counted and handed to `out`; valid until the next call.
  Status Next(size_t max, std::string_view* bytes) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max, m_.size - done_));
    if (n == 0) return Status::Ok();
    if (file_) {
      if (!buf_) {
        buf_cap_ = static_cast<size_t>(std::min<uint64_t>(kBlock, m_.size));
        buf_.reset(new char[buf_cap_]);
      }
      AERO_ASSIGN_OR_RETURN(size_t got,
                            file_->ReadAt(offset_ + done_, buf_.get(), std::min(n, buf_cap_)));
      if (got == 0) {
        failed_ = true;
        return Status(Code::kDamage, "member data ends early");
      }
      *bytes = std::string_view(buf_.get(), got);
    } else {
      if (block_.empty()) {
        const void* data = nullptr;
        size_t size = 0;
        la_int64_t at = 0;
        const int r = archive_read_data_block(a_, &data, &size, &at);
        if (r == ARCHIVE_EOF || (r >= ARCHIVE_WARN && size == 0)) {
          failed_ = true;
          return Status(Code::kDamage, "member data ends early");
        }
        if (r < ARCHIVE_WARN) {
          failed_ = true;
          return Status(Code::kDamage,
                        archive_error_string(a_) ? archive_error_string(a_) : "read error");
        }
        // Sparse members are refused from their header (SNAP-8): the data
        // is contiguous.
        if (at < 0 || static_cast<uint64_t>(at) != done_) {
          failed_ = true;
          return Status(Code::kDamage, "member data out of order");
        }
        block_ = std::string_view(static_cast<const char*>(data), size);
      }
      *bytes = block_.substr(0, n);
      block_.remove_prefix(bytes->size());
    }
    if (async_sha_) {
      async_sha_->Update(*bytes);
    } else if (hash_) {
      sha_.Update(*bytes);
    }
    crc_ = Crc32(*bytes, crc_);
    done_ += bytes->size();
    if (total_) {
      *total_ += bytes->size();
      if (*total_ > kBombGraceBytes &&
          *total_ > kBombRatio * std::max<uint64_t>(src_->consumed(), 1)) {
        failed_ = true;
        return Status(Code::kDamage,
                      "decompression bomb: more than 1000 bytes out per byte in (an export "
                      "refuses to write one: this file was not written by snapshot export, or was "
                      "altered)");
      }
    }
    if (writer_) {
      writer_->Write(*bytes);
    } else if (out_) {
      AERO_RETURN_IF_ERROR(out_->Append(*bytes));
    }
    return Status::Ok();
  }

  const Member& m_;
  archive* a_ = nullptr;
  const ArchiveSource* src_ = nullptr;
  uint64_t* total_ = nullptr;
  ReadableFile* file_ = nullptr;
  uint64_t offset_ = 0;
  bool hash_;
  WritableFile* out_;
  std::string_view block_;  // the stream's current block, not yet taken
  std::unique_ptr<char[]> buf_;  // ReadAt's buffer
  size_t buf_cap_ = 0;
  Sha256 sha_;
  std::optional<AsyncSha256> async_sha_;
  std::optional<BackgroundWriter> writer_;
  uint32_t crc_ = 0;
  uint64_t done_ = 0;
  bool failed_ = false;
};

// What reading one member found; the checks that need AeroDB's manifest
// (read from an earlier member) come after, on the reading thread.
struct MemberOutcome {
  Status content;  // the member's own checks (SHA-256, content)
  Status output;   // install's file for it: written, synced, closed
  // verify, after damage in a streamed member: reading the rest of it (the
  // bomb bound and the input's end still apply, and end the pass).
  Status rest;
  bool read_failed = false;
  uint32_t crc = 0;
  uint64_t bytes = 0;
};

// Reads and checks one member (SNAP-6); for install, its bytes also go to
// its file as they are read (SNAP-10).
MemberOutcome ReadMember(MemberFile& mf, const Member& want, const Manifest& m) {
  MemberOutcome r;
  if (want.path == "wal/wal.log") {
    r.content = CheckWalMember(&mf, want.size, m);
  } else if (IsStorageMember(want.path, m)) {
    r.content = CheckStorageMember(&mf);
  } else if (want.path.compare(0, kHistoryMemberDir.size(), kHistoryMemberDir) == 0) {
    r.content = CheckHistoryMember(&mf, want, m);
  }
  if (r.content.ok()) r.content = mf.Drain();
  // SNAP-15: a member without a hash (the WAL, format 2) was bound by its
  // content check above.
  if (r.content.ok() && want.sha256 && mf.Digest() != *want.sha256) {
    r.content =
        Status(Code::kDamage, "member '" + want.path + "': SHA-256 differs from the manifest");
  }
  r.read_failed = mf.read_failed();
  r.crc = mf.crc();
  r.bytes = mf.done();
  if (r.content.ok()) r.output = mf.FinishOutput();
  return r;
}

// A member's path as UTF-8 (a pax path record, whatever the locale); else
// the header's bytes as they are, for SNAP-8 to judge and name.
std::string MemberPath(archive_entry* e) {
  if (const char* utf8 = archive_entry_pathname_utf8(e)) return utf8;
  const char* raw = archive_entry_pathname(e);
  return raw ? raw : "";
}

std::string Crc32Text(uint32_t crc) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "crc32:%08x", crc);
  return buf;
}

}  // namespace

AeroDbManifestCheck::AeroDbManifestCheck(const Manifest& m) : m_(m) {
  if (m.base_snapshot) {
    snap_dir_ = "snapshots/" + *m.base_snapshot + "/";
    manifest_path_ = snap_dir_ + "manifest.json";
  }
}

bool AeroDbManifestCheck::IsManifest(const std::string& path) const {
  return !manifest_path_.empty() && path == manifest_path_;
}

Status AeroDbManifestCheck::Read(const std::string& text, const std::vector<std::string>& member_paths) {
  auto bad = [&](const std::string& why) { return Status(Code::kDamage, manifest_path_ + ": " + why); };
  // Typed reads only: a hostile manifest.json must be damage, never an
  // exception (a string or null) or a float cast out of range (4e99).
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  const auto boundary = j.is_object() ? j.find("commit_boundary") : j.end();
  if (boundary == j.end() || !boundary->is_number_unsigned() ||
      boundary->get<uint64_t>() != m_.base_commit) {
    return bad("commit_boundary is not the base commit");
  }
  const auto storage = j.find("storage_checksum");
  if (storage == j.end() || !storage->is_string()) return bad("no storage_checksum");
  storage_checksum_ = storage->get<std::string>();
  const auto sums = j.find("schema_checksums");
  if (sums != j.end() && !sums->is_object()) return bad("schema_checksums is not an object");
  if (sums != j.end()) {
    for (const auto& [name, sum] : sums->items()) {
      if (!sum.is_string()) return bad("the checksum of schema '" + name + "' is not a string");
      // Every schema AeroDB recorded is in the archive: a replica without
      // one fails its own verify (a trial installed one).
      const std::string member = snap_dir_ + "schemas/" + name;
      if (std::find(member_paths.begin(), member_paths.end(), member) == member_paths.end()) {
        return bad("it records schema '" + name + "', which the archive does not hold");
      }
      schemas_.emplace_back(name, sum.get<std::string>());
    }
  }
  read_ = true;
  return Status::Ok();
}

Status AeroDbManifestCheck::CheckCrc(const std::string& path, uint32_t crc) const {
  if (!read_) return Status::Ok();
  const std::string got = Crc32Text(crc);
  auto differs = [&] { return Status(Code::kDamage, path + ": CRC-32 differs from AeroDB's manifest"); };
  if (path == snap_dir_ + "storage.dat") return storage_checksum_ == got ? Status::Ok() : differs();
  if (path.rfind(snap_dir_ + "schemas/", 0) == 0) {
    const std::string name = path.substr(snap_dir_.size() + 8);
    for (const auto& [n, sum] : schemas_) {
      if (n == name) return sum == got ? Status::Ok() : differs();
    }
    return differs();  // a schema AeroDB did not record
  }
  return Status::Ok();
}

Status CheckHistoryMember(ReadableFile* member, const Member& want, const Manifest& m) {
  if (want.size > history::kMaxHistoryFileBytes) {
    return Status(Code::kDamage, "member '" + want.path + "': larger than a history file can be");
  }
  std::string bytes(static_cast<size_t>(want.size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    AERO_ASSIGN_OR_RETURN(size_t n, member->Read(bytes.data() + got, bytes.size() - got));
    if (n == 0) break;
    got += n;
  }
  bytes.resize(got);
  const uint32_t epoch = *history::ParseHistoryFileName(want.path.substr(kHistoryMemberDir.size()));
  Result<history::HistoryFile> h = history::DecodeHistoryFile(bytes, epoch, m.system_id, want.path);
  if (!h.ok()) return Status(Code::kDamage, "member '" + want.path + "': " + h.status().message());
  // HFILE-4: every file's lineage is the manifest's, up to its own epoch.
  if (h->lineage.size() > m.lineage.size() ||
      !std::equal(h->lineage.begin(), h->lineage.end(), m.lineage.begin())) {
    return Status(Code::kDamage, "member '" + want.path + "': its lineage is not the manifest's");
  }
  return Status::Ok();
}

bool IsStorageMember(const std::string& path, const Manifest& m) {
  return path == "data/documents.dat" ||
         (m.base_snapshot && path == "snapshots/" + *m.base_snapshot + "/storage.dat");
}

Status CheckWalMember(ReadableFile* member, uint64_t size, const Manifest& m) {
  wal::ScanOptions opt;
  opt.base_commit = m.base_commit;
  opt.base_digest = m.base_digest;
  // A large log is hashed (HIST-2) on the other core while this one reads,
  // decompresses and checks CRCs: the chain is the only hash of these bytes
  // (SNAP-15), so it sets the pace.
  std::optional<history::AsyncDigestChain> chain;
  if (size >= kAsyncHashBytes) {
    chain.emplace(m.base_digest);
    opt.chain = &*chain;
  }
  wal::ScanResult r = wal::WalScanner(member, opt).Run();
  if (chain) r.position.digest = chain->Finish();
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

namespace {

// SNAP-17: an archive called damaged is in transit when a transport
// preallocated it and has not written its end: its last 16 bytes are zero,
// and it is zstd or nothing of it is written (its first 512 bytes zero). A
// plain tar ends in zero blocks, so its tail proves nothing once its first
// bytes are there. Only a damage verdict costs these reads.
ArchiveCheck DamageUnlessPreallocated(ReadableFile& file, ArchiveCheck c) {
  // A file read only in order (SIG-21's hashed pass) cannot be looked at again.
  if (c.state != ArchiveState::kCorrupt || !file.SupportsReadAt()) return c;
  constexpr size_t kHead = 512;
  auto unreadable = [&](const Status& s) {  // an I/O fault is 10; a decrypted view's damage stands
    if (s.code() == Code::kDamage) return c;
    c.state = ArchiveState::kIoError;
    c.io = s;
    c.detail = s.message();
    return c;
  };
  Result<uint64_t> size = file.Size();
  if (!size.ok()) return unreadable(size.status());
  if (*size < kPreallocatedTailBytes) return c;
  Result<bool> zeros = EndsInPreallocatedZeros(file, *size);
  if (!zeros.ok()) return unreadable(zeros.status());
  if (!*zeros) return c;
  char head[kHead];
  const std::string_view first(head, static_cast<size_t>(std::min<uint64_t>(*size, kHead)));
  if (Status s = ReadExactlyAt(file, 0, head, first.size()); !s.ok()) return unreadable(s);
  if (!(first.starts_with(kZstdFrameMagic) || AllZero(first))) return c;
  c.state = ArchiveState::kInTransit;
  c.detail = "its last 16 bytes are zero: a copy that preallocated the file has not written its end yet (" +
             c.detail + ")";
  c.findings.clear();  // what its zeros broke is not damage
  return c;
}

// The verdict of the archive's bytes (SNAP-6, SNAP-7), before SNAP-17.
ArchiveCheck ReadArchiveBytes(ReadableFile& file, const MemberSink& sink,
                              const ReadOptions& options) {
  ArchiveCheck c;
  if (Status loaded = LoadLibarchive(); !loaded.ok()) {
    c.state = ArchiveState::kIoError;
    c.io = loaded;
    c.detail = loaded.message();
    return c;
  }
  ArchiveSource src(&file);
  const Utf8LocaleScope utf8;  // SNAP-8: names are read as UTF-8 text
  archive* a = archive_read_new();
  // zstd is decoded by ArchiveSource on demand, not by libarchive's filter
  // (which reads ahead): libarchive sees the tar stream only.
  archive_read_support_format_tar(a);
  struct Closer {
    archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{a};
  bool content_damage = false;
  auto corrupt_now = [&](std::string d) {
    c.findings.push_back(std::move(d));
    c.state = ArchiveState::kCorrupt;
    c.detail = c.findings.front();
    return c;
  };
  // A read that failed: an unfinished transfer when the input simply ran
  // out (`ended`) and everything read so far checked out (SNAP-7), damage
  // otherwise.
  auto stopped_now = [&](const std::string& what, bool ended) {
    if (!src.io().ok()) {
      c.state = ArchiveState::kIoError;
      c.io = src.io();
      c.detail = src.io().message();
      return c;
    }
    if (!src.damage().empty()) return corrupt_now(src.damage());
    if (ended && !content_damage) {
      c.state = ArchiveState::kInTransit;
      c.detail = "the archive ends after " + std::to_string(src.consumed()) + " bytes (" + what + ")";
      return c;
    }
    return corrupt_now(what);
  };
  auto io_error = [&](const Status& s) {
    c.state = ArchiveState::kIoError;
    c.io = s;
    c.detail = s.message();
    return c;
  };

  // Members in flight, oldest first: read on a worker (SNAP-6) or already
  // read on this thread. Their outcomes are taken in member order, so the
  // first problem reported is the first member's, whatever finished first.
  struct Pending {
    const Member* want;
    uint64_t offset;  // ArchiveCheck::kStreamed, or where a worker read it
    std::unique_ptr<WritableFile> out;
    std::future<MemberOutcome> worker;
    MemberOutcome done;
  };
  std::deque<Pending> pending;
  std::optional<AeroDbManifestCheck> aerodb;  // SNAP-6, once the manifest decoded
  // One member's outcome, with the checks against AeroDB's manifest; false
  // (and `c` set) on a problem that ends the pass: any problem, unless
  // options.all_findings lists damage in the member's bytes and goes on.
  auto settle = [&](Pending& p) -> bool {
    MemberOutcome r = p.worker.valid() ? p.worker.get() : std::move(p.done);
    const std::string& path = p.want->path;
    Status content = r.content;
    if (content.ok() && aerodb) content = aerodb->CheckCrc(path, r.crc);
    if (!content.ok()) {
      if (content.code() == Code::kIo) {
        io_error(content);
        return false;
      }
      // A member cut short by the end of the input is still an unfinished
      // copy; content that fails a check is damage wherever the input ends.
      // A worker's read that found no more bytes found the end of the file.
      if (r.read_failed) {
        stopped_now(content.message(), src.eof() || p.offset != ArchiveCheck::kStreamed);
        return false;
      }
      content_damage = true;
      corrupt_now(content.message());
      if (!options.all_findings) return false;
      // verify: listed, and on to the next member, unless the rest of this
      // one could not be read.
      if (!r.rest.ok()) {
        if (r.rest.code() == Code::kIo) {
          io_error(r.rest);
        } else {
          corrupt_now(r.rest.message());
        }
        return false;
      }
    }
    if (content.ok() && !r.output.ok()) {
      io_error(r.output);
      return false;
    }
    c.member_crcs.push_back(r.crc);
    c.member_offsets.push_back(p.offset);
    if (p.offset != ArchiveCheck::kStreamed) c.data_bytes += r.bytes;
    ++c.members_read;
    return true;
  };
  auto workers_in_flight = [&]() {
    size_t n = 0;
    for (const Pending& q : pending) n += q.worker.valid() ? 1 : 0;
    return n;
  };
  // The oldest outcome (waiting for it); on a problem the others are only
  // waited for, and false.
  auto settle_next = [&]() -> bool {
    Pending q = std::move(pending.front());
    pending.pop_front();
    if (settle(q)) return true;
    for (Pending& rest : pending) {
      if (rest.worker.valid()) rest.worker.wait();
    }
    pending.clear();
    return false;
  };
  // Every pending outcome in order; false on the first problem (`c` says which).
  auto settle_all = [&]() -> bool {
    while (!pending.empty()) {
      if (!settle_next()) return false;
    }
    return true;
  };
  // Every way out of the member loop goes through these: members before the
  // problem are settled first, and no worker outlives this call.
  auto corrupt = [&](std::string d) {
    if (!settle_all()) return c;
    return corrupt_now(std::move(d));
  };
  auto stopped = [&](const std::string& what) {
    if (!settle_all()) return c;
    return stopped_now(what, src.eof());
  };

  if (archive_read_open2(a, &src, nullptr, ReadCb, SkipCb, nullptr) != ARCHIVE_OK) {
    if (src.consumed() == 0 && src.eof()) {
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
  // ARCHIVE_WARN: a header read whole that libarchive doubts (a path that
  // is not UTF-8): damage, never the input's end, whatever was read ahead.
  if (rc == ARCHIVE_WARN) return corrupt(archive_error_string(a) ? archive_error_string(a) : "bad header");
  if (rc != ARCHIVE_OK) return stopped(archive_error_string(a) ? archive_error_string(a) : "bad header");
  if (MemberPath(e) != kManifestMember ||
      archive_entry_filetype(e) != AE_IFREG) {
    return corrupt(std::string("member 0 is not ") + std::string(kManifestMember));
  }
  // Where the last entry's data ends, padded to its 512-byte block, in the
  // tar stream: the end-of-archive marker must follow it (SNAP-7).
  auto padded_end = [&](uint64_t size) {
    return static_cast<uint64_t>(archive_filter_bytes(a, 0)) + (size + 511) / 512 * 512;
  };
  const la_int64_t msize = archive_entry_size(e);
  if (msize <= 0 || static_cast<uint64_t>(msize) > kMaxManifestBytes) {
    return corrupt("manifest size out of bounds");
  }
  uint64_t last_end = padded_end(static_cast<uint64_t>(msize));
  std::string mbytes(static_cast<size_t>(msize), '\0');
  for (size_t got = 0; got < mbytes.size();) {
    la_ssize_t n = archive_read_data(a, mbytes.data() + got, mbytes.size() - got);
    if (n <= 0) return stopped("manifest ends early");
    got += static_cast<size_t>(n);
  }
  Result<Manifest> manifest = DecodeManifest(mbytes);
  if (!manifest.ok()) return corrupt(manifest.status().message());
  c.manifest = *manifest;
  const Manifest& m = *c.manifest;
  // Members are read at their offsets only where the archive's bytes are
  // the file's bytes: no compression, and a file that can read at an offset.
  const bool plain = !src.zstd() && file.SupportsReadAt();

  // AeroDB's own manifest, read before the files it covers (they sort after it).
  aerodb.emplace(m);
  for (size_t i = 0;; ++i) {
    rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      if (i < m.members.size()) {
        if (!settle_all()) return c;
        if (src.eof() && !content_damage) {  // SNAP-7: cut at a member boundary
          c.state = ArchiveState::kInTransit;
          c.detail = "the archive ends after " + std::to_string(i) + " of " +
                     std::to_string(m.members.size()) + " members";
          return c;
        }
        return corrupt_now("member '" + m.members[i].path + "' is missing (" +
                           std::to_string(m.members.size() - i) + " of " +
                           std::to_string(m.members.size()) + " not present)");
      }
      // SNAP-7: every member is here, but a copy that stopped just after
      // the last one, or inside the two zero blocks that end a tar stream,
      // is still unfinished; libarchive takes the end of the file there
      // for the end of the archive.
      if (static_cast<uint64_t>(archive_filter_bytes(a, 0)) < last_end + 1024) {
        if (!settle_all()) return c;
        return stopped_now("no end-of-archive marker after the last member", src.eof());
      }
      break;
    }
    if (rc == ARCHIVE_WARN) {  // as for member 0: a doubted header is damage
      return corrupt(archive_error_string(a) ? archive_error_string(a) : "bad header");
    }
    if (rc != ARCHIVE_OK) {
      if (rc == ARCHIVE_FATAL || rc == ARCHIVE_FAILED) {
        return stopped(archive_error_string(a) ? archive_error_string(a) : "bad header");
      }
    }
    const std::string path = MemberPath(e);
    // SNAP-8, from the header alone.
    const mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e) != nullptr) return corrupt("member '" + path + "': a hard link");
    if (archive_entry_sparse_count(e) > 0) return corrupt("member '" + path + "': a sparse file");
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
    if (!IsSafeMemberPath(path, &why)) return corrupt("member '" + Escaped(path) + "': " + why);
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
    last_end = padded_end(want.size);
    const bool aerodb_manifest_member = aerodb->IsManifest(path);
    if (aerodb_manifest_member && want.size > node::kMaxSnapshotManifestBytes) {
      return corrupt(path + ": larger than " + std::to_string(node::kMaxSnapshotManifestBytes >> 20) + " MiB");
    }
    // A large member of a plain archive is stored as its bytes, contiguous,
    // from libarchive's position after its header (sparse members were
    // refused above).
    const bool read_at = plain && want.size >= std::max<uint64_t>(options.read_at_min_bytes, 1) &&
                         !aerodb_manifest_member;
    const uint64_t offset =
        read_at ? static_cast<uint64_t>(archive_filter_bytes(a, 0)) : ArchiveCheck::kStreamed;
    Pending p{&want, offset, nullptr, {}, {}};
    if (sink.open) {
      Result<std::unique_ptr<WritableFile>> out = sink.open(want);
      if (!out.ok()) {
        if (!settle_all()) return c;
        return io_error(out.status());
      }
      p.out = std::move(*out);
    }
    if (read_at) {
      // At most kReadAtInFlight members are read at once, so memory stays
      // flat (SNAP-6): the oldest is settled before another starts.
      while (workers_in_flight() >= kReadAtInFlight) {
        if (!settle_next()) return c;
      }
      // The worker reads [offset, offset + size) itself; libarchive skips
      // those bytes when it goes to the next header.
      // On another thread, or on this one when no thread can be started
      // (libstdc++ falls back to deferred on EAGAIN when both are allowed).
      p.worker = std::async(std::launch::async | std::launch::deferred,
                            [&file, &want, &m, offset, out = p.out.get()] {
        MemberFile mf(want, &file, offset, want.sha256.has_value(), out);
        return ReadMember(mf, want, m);
      });
    } else {
      MemberFile mf(want, a, &src, &c.data_bytes, want.sha256.has_value(), p.out.get());
      if (aerodb_manifest_member) {
        std::string text;
        char buf[64 * 1024];
        for (;;) {
          Result<size_t> n = mf.Read(buf, sizeof buf);
          if (!n.ok()) {
            p.done.content = n.status();
            break;
          }
          if (*n == 0) break;
          text.append(buf, *n);
        }
        if (p.done.content.ok()) {
          std::vector<std::string> paths;
          for (const Member& e : m.members) paths.push_back(e.path);
          p.done.content = aerodb->Read(text, paths);
        }
      }
      if (p.done.content.ok()) {
        p.done = ReadMember(mf, want, m);
      } else {
        p.done.read_failed = mf.read_failed();
      }
      if (options.all_findings && !p.done.content.ok() && !p.done.read_failed &&
          p.done.content.code() != Code::kIo) {
        p.done.rest = mf.Drain();
      }
    }
    pending.push_back(std::move(p));
    // Outcomes are taken in order as soon as they are in, and small members
    // read here behind a large one wait at most kMaxPending deep.
    while (!pending.empty() &&
           (pending.size() > kMaxPending || !pending.front().worker.valid() ||
            pending.front().worker.wait_for(std::chrono::seconds(0)) ==
                std::future_status::ready)) {
      if (!settle_next()) return c;
    }
  }
  if (!settle_all()) return c;
  c.compressed_bytes = src.consumed();
  if (c.findings.empty()) c.state = ArchiveState::kValid;
  return c;
}

}  // namespace

ArchiveCheck ReadArchive(ReadableFile& file, const MemberSink& sink, const ReadOptions& options) {
  return DamageUnlessPreallocated(file, ReadArchiveBytes(file, sink, options));
}

}  // namespace aero::snapshot
