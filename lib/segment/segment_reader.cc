#include "segment/segment_reader.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/coding.h"
#include "common/async_sha256.h"
#include "common/crc32.h"
#include "history/async_chain.h"

namespace aero::segment {

namespace {

constexpr size_t kReadChunk = 256 * 1024;

SegmentCheck Io(SegmentCheck c, const Status& s) {
  c.state = SegmentState::kIoError;
  c.io = s;
  c.detail = s.message();
  return c;
}

// FM-20 (common/fs.h): the file's size was read first, so a read that then
// ends early finds a file cut while it was read. In transit, never damage
// (and never an I/O error: nothing failed).
SegmentCheck CutWhileRead(SegmentCheck c) {
  c.state = SegmentState::kInTransit;
  c.detail = std::string(kCutWhileRead);
  return c;
}

// A read of ReadWithinSize that failed: its cut (kInTransit) told apart from
// a view's own damage (a decrypting view's corrupt envelope stays the I/O
// error it was).
SegmentCheck ReadFailed(SegmentCheck c, const Status& s) {
  return s.code() == Code::kInTransit ? CutWhileRead(std::move(c)) : Io(std::move(c), s);
}

// The uncompressed body of a segment, read sequentially from its stored
// bytes; every stored byte read is fed to `hash` (nullable).
class BodyStream {
 public:
  BodyStream(ReadableFile* file, const SegmentHeader& h, AsyncSha256* hash)
      : file_(file), h_(h), hash_(hash) {}
  ~BodyStream() { ZSTD_freeDStream(z_); }

  // Up to n body bytes; 0 at the end of the body. kDamage for a bad frame.
  Result<size_t> Read(char* buf, size_t n) {
    if (!started_) {
      started_ = true;
      AERO_RETURN_IF_ERROR(file_->Seek(kSegmentHeaderBytes));
    }
    if (!h_.compressed()) {
      size_t got = 0;
      AERO_RETURN_IF_ERROR(ReadStored(buf, std::min<uint64_t>(n, h_.body_size - produced_), &got));
      produced_ += got;
      return got;
    }
    if (z_ == nullptr) {
      z_ = ZSTD_createDStream();
      if (z_ == nullptr) return Status(Code::kIo, Problem("cannot decompress", file_->path(), "out of memory"));
      ZSTD_initDStream(z_);
    }
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0 && !frame_done_) {
      if (in_pos_ == in_.size()) {
        in_.resize(kReadChunk);
        size_t got = 0;
        AERO_RETURN_IF_ERROR(ReadStored(in_.data(), in_.size(), &got));
        in_.resize(got);
        in_pos_ = 0;
        if (got == 0) return Damage("zstd frame ends early");
      }
      ZSTD_inBuffer in{in_.data(), in_.size(), in_pos_};
      size_t rc = ZSTD_decompressStream(z_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(rc)) return Damage(std::string("zstd: ") + ZSTD_getErrorName(rc));
      if (rc == 0) frame_done_ = true;
      if (produced_ + out.pos > h_.body_size) return Damage("body larger than body_size");
    }
    if (frame_done_ && (in_pos_ != in_.size() || stored_read_ != h_.stored_size)) {
      return Damage("data after the zstd frame");
    }
    produced_ += out.pos;
    return out.pos;
  }

  // Reads (and hashes) the stored bytes not yet read.
  Status DrainStored() {
    std::string buf(kReadChunk, '\0');
    size_t got = 0;
    do {
      AERO_RETURN_IF_ERROR(ReadStored(buf.data(), buf.size(), &got));
    } while (got > 0);
    return Status::Ok();
  }

  uint64_t produced() const { return produced_; }

 private:
  Status ReadStored(char* buf, size_t n, size_t* got) {
    *got = 0;
    if (!started_) {
      started_ = true;
      AERO_RETURN_IF_ERROR(file_->Seek(kSegmentHeaderBytes));
    }
    n = std::min<uint64_t>(n, h_.stored_size - stored_read_);
    while (*got < n) {
      AERO_ASSIGN_OR_RETURN(size_t k, file_->Read(buf + *got, n - *got));
      if (k == 0) return CutWhileReadStatus(file_->path());  // FM-20
      *got += k;
    }
    if (hash_ && *got > 0) hash_->Update(buf, *got);
    stored_read_ += *got;
    return Status::Ok();
  }
  Status Damage(const std::string& d) { return Status(Code::kDamage, d); }

  ReadableFile* file_;
  SegmentHeader h_;
  AsyncSha256* hash_;
  bool started_ = false;
  uint64_t stored_read_ = 0;
  uint64_t produced_ = 0;
  ZSTD_DStream* z_ = nullptr;
  std::string in_;
  size_t in_pos_ = 0;
  bool frame_done_ = false;
};

// A ReadableFile over the body, for the WAL scanner.
class BodyFile final : public ReadableFile {
 public:
  BodyFile(BodyStream* body, const SegmentHeader& h, std::string path)
      : body_(body), h_(h), path_(std::move(path)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    Result<size_t> got = body_->Read(buf, n);
    if (!got.ok()) {
      error_ = got.status();
      return got;
    }
    pos_ += *got;
    return got;
  }
  Status Seek(uint64_t offset) override {
    if (offset == pos_) return Status::Ok();
    return Status(Code::kInternal, Problem("cannot seek in a segment body", path_));
  }
  Result<uint64_t> Size() override { return h_.body_size; }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.size = h_.body_size;
    return i;
  }
  const std::string& path() const override { return path_; }
  const Status& error() const { return error_; }

 private:
  BodyStream* body_;
  SegmentHeader h_;
  std::string path_;
  uint64_t pos_ = 0;
  Status error_;
};

SegmentCheck Corrupt(SegmentCheck c, std::string detail) {
  c.state = SegmentState::kCorrupt;
  c.detail = std::move(detail);
  return c;
}

// SEG-9: a file that checks 2-10 call corrupt is in transit when it is at
// least the smallest segment and its last 16 bytes, the end of its seal,
// are zero: a transport preallocated it and has not written its end yet.
// Only a corrupt verdict costs the read.
SegmentCheck CorruptUnlessPreallocated(ReadableFile& file, SegmentCheck c) {
  if (c.state != SegmentState::kCorrupt || c.size < kSmallestSegmentBytes) return c;
  // Zeros past a valid header's declared end are padding: a preallocated
  // copy has the final size (check 8 stands).
  if (c.expected_size > 0 && c.size > c.expected_size) return c;
  Result<bool> zeros = EndsInPreallocatedZeros(file, c.size);
  if (!zeros.ok()) {
    if (zeros.status().code() == Code::kInTransit) return CutWhileRead(c);  // FM-20
    return zeros.status().code() == Code::kDamage ? c : Io(c, zeros.status());  // a decrypted view's damage stands
  }
  if (!*zeros) return c;
  c.state = SegmentState::kInTransit;
  c.detail = "its last " + std::to_string(kPreallocatedTailBytes) +
             " bytes are zero, where a complete segment ends with its seal: a copy that "
             "preallocated the file has not written its end yet (" + c.detail + ")";
  return c;
}

SegmentCheck JudgeHeader(ReadableFile& file, const SegmentNameInfo* name) {
  SegmentCheck c;
  Result<uint64_t> size = file.Size();
  if (!size.ok()) return Io(c, size.status());
  c.size = *size;
  char head[kSegmentHeaderBytes];
  const size_t have = static_cast<size_t>(std::min<uint64_t>(c.size, kSegmentHeaderBytes));
  if (have > 0) {
    Status s = ReadWithinSize(file, 0, head, have);
    if (!s.ok()) return ReadFailed(c, s);
  }
  const size_t magic_have = std::min(have, kSegmentMagic.size());
  if (std::memcmp(head, kSegmentMagic.data(), magic_have) != 0) return Corrupt(c, "bad magic");
  if (have < kSegmentHeaderBytes) {  // checks 1 and 3
    c.state = SegmentState::kInTransit;
    c.detail = std::to_string(c.size) + " of at least " +
               std::to_string(kSegmentHeaderBytes) + " bytes present";
    return c;
  }
  if (DecodeFixed32(head + kHeaderCrcOffset) != Crc32(head, kHeaderCrcOffset)) {
    return Corrupt(c, "header checksum");
  }
  DecodedHeader d = DecodeHeader(std::string_view(head, kSegmentHeaderBytes));
  if (!d.corrupt.empty()) return Corrupt(c, d.corrupt);
  c.header = d.header;
  if (name && (name->epoch != c.header.epoch || name->first_commit != c.header.first_commit ||
               name->last_commit != c.header.last_commit)) {
    return Corrupt(c, "name mismatch: the header says " +
                          SegmentName(c.header.epoch, c.header.first_commit,
                                      c.header.last_commit));
  }
  c.expected_size = c.header.TotalSize();
  if (c.size < c.expected_size) {  // check 7
    c.state = SegmentState::kInTransit;
    c.detail = std::to_string(c.size) + " of " + std::to_string(c.expected_size) +
               " bytes present";
    return c;
  }
  if (c.size > c.expected_size) {  // check 8
    return Corrupt(c, "longer than declared: " + std::to_string(c.size) +
                          " bytes, the header says " + std::to_string(c.expected_size));
  }
  char trailer[kTrailerFixedBytes];
  Status s = ReadWithinSize(file, kSegmentHeaderBytes + c.header.stored_size, trailer, sizeof trailer);
  if (!s.ok()) return ReadFailed(c, s);
  if (std::memcmp(trailer, kTrailerMagic.data(), kTrailerMagic.size()) != 0) {
    return Corrupt(c, "bad trailer");
  }
  std::memcpy(c.trailer_sha.data(), trailer + kTrailerMagic.size(), c.trailer_sha.size());
  c.state = SegmentState::kValid;
  return c;
}

}  // namespace

SegmentCheck CheckSegmentHeader(ReadableFile& file, const SegmentNameInfo* name) {
  return CorruptUnlessPreallocated(file, JudgeHeader(file, name));
}

SegmentCheck VerifySegment(ReadableFile& file, const SegmentNameInfo* name,
                           const VerifyHooks& hooks) {
  SegmentCheck c = CheckSegmentHeader(file, name);
  if (c.state != SegmentState::kValid) return c;
  const SegmentHeader& h = c.header;
  // SEG-7: the seal covers the header, and a zstd body's stored frame; the
  // body itself is covered by the history digest (check 11), so each body
  // byte is hashed once.
  const std::string header = EncodeHeader(h);  // equal to the file's bytes: the CRC matched
  std::optional<AsyncSha256> frame_sha;
  if (h.compressed()) {
    frame_sha.emplace();
    frame_sha->Update(header);
  }
  BodyStream body(&file, h, frame_sha ? &*frame_sha : nullptr);
  BodyFile bf(&body, h, file.path());
  history::AsyncDigestChain chain(h.digest_before);
  for (uint64_t k : hooks.keep_digests) chain.Keep(k);
  for (uint64_t k : hooks.sync_digests) chain.Keep(k);
  wal::ScanOptions opt;
  opt.base_commit = h.first_commit - 1;
  opt.base_digest = h.digest_before;
  opt.chain = &chain;
  wal::WalScanner::WriteSetFn on_write_set = hooks.on_write_set;
  if (!hooks.sync_digests.empty()) {
    on_write_set = [&](const wal::WriteSet& ws) {
      wal::WriteSet seen = ws;
      if (std::find(hooks.sync_digests.begin(), hooks.sync_digests.end(), ws.commit_id) !=
          hooks.sync_digests.end()) {
        // Keep() again now: it hands the bytes so far to the worker, so
        // that Get() cannot wait for bytes this thread still holds.
        chain.Keep(ws.commit_id);
        seen.digest_after = chain.Get(ws.commit_id);
      }
      return hooks.on_write_set ? hooks.on_write_set(seen) : true;
    };
  }
  wal::ScanResult r = wal::WalScanner(&bf, opt).Run(hooks.on_record, on_write_set);
  const history::Digest chained = chain.Finish();
  for (uint64_t k : hooks.keep_digests) {
    if (std::optional<history::Digest> d = chain.Get(k)) c.digests[k] = *d;
  }
  Status body_status = bf.error();
  if (frame_sha) {
    // Finish the frame and the stored bytes so that the hash covers them all.
    std::string sink(kReadChunk, '\0');
    while (body_status.ok()) {
      Result<size_t> got = bf.Read(sink.data(), sink.size());
      if (!got.ok()) {
        body_status = got.status();
      } else if (*got == 0) {
        break;
      }
    }
    Status drained = body.DrainStored();
    if (drained.code() == Code::kInTransit) return CutWhileRead(c);
    if (!drained.ok() && drained.code() != Code::kDamage) return Io(c, drained);
  }
  if (body_status.code() == Code::kInTransit) return CutWhileRead(c);  // FM-20
  if (!body_status.ok() && body_status.code() != Code::kDamage) return Io(c, body_status);
  const Sha256Digest seal = frame_sha ? frame_sha->Finish() : Sha256::Of(header);
  if (seal != c.trailer_sha) {  // check 10
    return CorruptUnlessPreallocated(file, Corrupt(c, "sha256 mismatch"));
  }
  // Check 11 (SEG-5): whole write sets, exactly as the header says.
  if (!body_status.ok()) return Corrupt(c, body_status.message());
  if (r.stop.kind != wal::StopKind::kCleanEnd) {
    return Corrupt(c, "record damage at body offset " + std::to_string(r.stop.offset) + ": " +
                          r.stop.detail);
  }
  if (!r.findings.empty()) return Corrupt(c, r.findings.front().kind + ": " + r.findings.front().detail);
  if (body.produced() != h.body_size) return Corrupt(c, "body shorter than body_size");
  if (r.tail_records > 0 || r.committed_end != h.body_size) {
    return Corrupt(c, "body does not end at a commit record");
  }
  if (r.last_commit != h.last_commit || r.write_sets != h.last_commit - h.first_commit + 1) {
    return Corrupt(c, "commit range differs from the header");
  }
  if (r.records != h.record_count) return Corrupt(c, "record count differs from the header");
  if (r.first_sequence != h.first_sequence || r.last_sequence != h.last_sequence) {
    return Corrupt(c, "sequences differ from the header");
  }
  if (chained != h.digest_after) {
    return Corrupt(c, "digest_after differs from the body's history digest");
  }
  c.state = SegmentState::kValid;
  return c;
}

}  // namespace aero::segment
