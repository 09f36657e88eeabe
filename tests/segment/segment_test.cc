// formats/wal-segment.md: header layout, names, and the classification of
// every truncation (in transit) and every single-bit flip (corrupt).
#include <doctest/doctest.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/file_util.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "support/forwarding_fs.h"
#include "support/test_util.h"
#include "wal/wal_scan.h"

using namespace aero;
using namespace aero::segment;
using namespace aero::testing;

namespace {

// A valid segment over `wal` holding write sets first..last (REC builder bytes).
std::string MakeSegment(const TempDir& t, uint64_t first, uint64_t n, bool zstd,
                        SegmentHeader* out_header = nullptr) {
  WalBuilder b(first * 3 - 2);
  b.WriteSets(first, n, 2);
  WriteFile(t / "wal.log", b.bytes());
  auto wal = PosixFs().OpenRead(t / "wal.log");
  SegmentHeader h;
  h.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  h.epoch = 1;
  h.first_commit = first;
  h.last_commit = first + n - 1;
  h.first_sequence = first * 3 - 2;
  h.last_sequence = h.first_sequence + 3 * n - 1;
  h.record_count = 3 * n;
  h.digest_before = history::SeedDigest(h.system_id);
  history::DigestChain c;
  history::Digest d = h.digest_before;
  for (uint64_t i = 0; i < n; ++i) {
    c.Begin(d);
    c.Update(b.bytes().substr(b.offsets()[3 * i],
                              (i + 1 < n ? b.offsets()[3 * i + 3] : b.bytes().size()) -
                                  b.offsets()[3 * i]));
    d = c.Finish();
  }
  h.digest_after = d;
  const std::string path = t / SegmentName(1, first, first + n - 1);
  REQUIRE(WriteSegment(PosixFs(), path, h, **wal, 0, b.bytes().size(), zstd).ok());
  if (out_header) *out_header = h;
  return path;
}

SegmentCheck Verify(const std::string& path) {
  auto f = PosixFs().OpenRead(path);
  REQUIRE(f.ok());
  auto name = ParseSegmentName(BaseName(path));
  return VerifySegment(**f, name ? &*name : nullptr);
}

}  // namespace

TEST_CASE("SEG-2 names: exact pattern, lowercase hex, round trip") {
  CHECK(SegmentName(1, 1, 155) == "00000001-0000000000000001-000000000000009b.seg");
  auto info = ParseSegmentName("00000002-000000000000009c-0000000000000137.seg");
  REQUIRE(info);
  CHECK(info->epoch == 2);
  CHECK(info->first_commit == 156);
  CHECK(info->last_commit == 311);
  CHECK_FALSE(ParseSegmentName("00000002-000000000000009C-0000000000000137.seg"));
  CHECK_FALSE(ParseSegmentName(".00000001-0000000000000001-0000000000000001.seg.tmp"));
  CHECK_FALSE(ParseSegmentName("00000001-0000000000000001-0000000000000001.seg~"));
  CHECK_FALSE(ParseSegmentName("00000001_0000000000000001-0000000000000001.seg"));
}

TEST_CASE("SEG-1 header: encode/decode round trip and CRC position") {
  TempDir t;
  SegmentHeader h;
  const std::string path = MakeSegment(t, 1, 3, false, &h);
  std::string bytes = ReadFile(path);
  CHECK(bytes.substr(0, 8) == "AEROSEG\n");
  DecodedHeader d = DecodeHeader(bytes.substr(0, kSegmentHeaderBytes));
  CHECK(d.corrupt.empty());
  CHECK(EncodeHeader(d.header) == bytes.substr(0, kSegmentHeaderBytes));
  CHECK(d.header.first_commit == 1);
  CHECK(d.header.last_commit == 3);
  CHECK(d.header.record_count == 9);
  CHECK(Verify(path).state == SegmentState::kValid);
}

TEST_CASE("SEG-6 the same write sets give the same bytes") {
  TempDir a, b;
  CHECK(ReadFile(MakeSegment(a, 5, 4, false)) == ReadFile(MakeSegment(b, 5, 4, false)));
  CHECK(ReadFile(MakeSegment(a, 5, 4, true)) == ReadFile(MakeSegment(b, 5, 4, true)));
}

TEST_CASE("SEG-6 a zstd segment's body is one frame with its content size and no checksum, at level 3") {
  TempDir t;
  const std::string path = MakeSegment(t, 1, 40, true);
  const std::string file = ReadFile(path);
  const SegmentHeader h = DecodeHeader(file.substr(0, kSegmentHeaderBytes)).header;
  REQUIRE(h.compressed());
  const std::string frame = file.substr(kSegmentHeaderBytes, h.stored_size);
  REQUIRE(frame.size() > 5);
  CHECK(DecodeFixed32(frame.data()) == ZSTD_MAGICNUMBER);
  CHECK(ZSTD_getFrameContentSize(frame.data(), frame.size()) == h.body_size);  // content size present
  // The frame header descriptor (RFC 8878 3.1.1.1.1): bit 2 the content
  // checksum flag, bits 0-1 the dictionary id's size.
  const auto descriptor = static_cast<unsigned char>(frame[4]);
  CHECK((descriptor & 0x04) == 0);  // no checksum: the seal covers the frame (SEG-7)
  CHECK((descriptor & 0x03) == 0);  // no dictionary
  CHECK(ZSTD_findFrameCompressedSize(frame.data(), frame.size()) == frame.size());  // one frame, nothing after
  // Level 3, single-threaded: the frame is what libzstd makes of the body
  // with exactly these parameters.
  const std::string body = ReadFile(t / "wal.log");
  REQUIRE(body.size() == h.body_size);
  std::string expect(ZSTD_compressBound(body.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  const size_t n = ZSTD_compress2(cctx, expect.data(), expect.size(), body.data(), body.size());
  ZSTD_freeCCtx(cctx);
  REQUIRE(!ZSTD_isError(n));
  expect.resize(n);
  CHECK(frame == expect);
}

TEST_CASE("SEG-3 every truncation of a valid segment is in transit") {
  for (bool zstd : {false, true}) {
    TempDir t;
    const std::string path = MakeSegment(t, 1, 2, zstd);
    const std::string full = ReadFile(path);
    for (size_t n = 0; n < full.size(); ++n) {
      CAPTURE(zstd);
      CAPTURE(n);
      WriteFile(path, full.substr(0, n));
      SegmentCheck c = Verify(path);
      CHECK(c.state == SegmentState::kInTransit);
    }
  }
}

// SEG-9: a transport that sizes the file first, then writes it in order,
// leaves zeros from its write head to the end. Until the last 16 bytes are
// written the file is in transit, for the full check and for the header
// check alike; the whole file is valid. Zeros anywhere but the end stay
// corrupt.
TEST_CASE("SEG-9 a preallocated segment is in transit until its last 16 bytes are written, plain and zstd") {
  for (bool zstd : {false, true}) {
    TempDir t;
    const std::string path = MakeSegment(t, 1, 2, zstd);
    const std::string full = ReadFile(path);
    REQUIRE(full.size() >= kSmallestSegmentBytes);
    auto name = ParseSegmentName(BaseName(path));
    for (size_t k = 0; k <= full.size(); ++k) {
      CAPTURE(zstd);
      CAPTURE(k);
      WriteFile(path, full.substr(0, k) + std::string(full.size() - k, '\0'));
      const SegmentCheck v = Verify(path);
      auto f = PosixFs().OpenRead(path);
      REQUIRE(f.ok());
      const SegmentCheck h = CheckSegmentHeader(**f, &*name);
      if (k == full.size()) {
        CHECK(v.state == SegmentState::kValid);
      } else if (k + kPreallocatedTailBytes <= full.size()) {
        CHECK(v.state == SegmentState::kInTransit);
        // Checks 1-9 read no seal: once the trailer magic is written the
        // header check passes, and the full check says in transit.
        if (k < full.size() - kTrailerFixedBytes + kTrailerMagic.size()) {
          CHECK(h.state == SegmentState::kInTransit);
        } else {
          CHECK(h.state == SegmentState::kValid);
        }
        CHECK(v.detail.find("preallocated") != std::string::npos);
      } else {
        // A write that ended inside the last 16 bytes: the seal is not
        // zero there, so the file is judged as it is (SEG-9's price).
        CHECK(v.state == SegmentState::kCorrupt);
      }
    }
  }
  // Zeros that stop short of the end are damage, not a copy in progress.
  TempDir t;
  {  // Zeros past the declared end are padding: longer than declared (check 8).
    const std::string whole = ReadFile(MakeSegment(t, 1, 2, false));
    const std::string padded_path = t / "padded" ;
    WriteFile(padded_path, whole + std::string(4096, '\0'));
    auto f = PosixFs().OpenRead(padded_path);
    REQUIRE(f.ok());
    const SegmentCheck padded = VerifySegment(**f, nullptr);
    CHECK(padded.state == SegmentState::kCorrupt);
    CHECK(padded.detail.find("longer than declared") == 0);
  }
  const std::string path = MakeSegment(t, 1, 2, false);
  std::string holed = ReadFile(path);
  std::fill(holed.begin() + 100, holed.end() - kPreallocatedTailBytes - 1, '\0');
  WriteFile(path, holed);
  CHECK(Verify(path).state == SegmentState::kCorrupt);
  // A file too short to be a segment is judged by checks 1-3 alone.
  WriteFile(path, std::string(kSmallestSegmentBytes - 1, '\0'));
  CHECK(Verify(path).state == SegmentState::kCorrupt);
  WriteFile(path, std::string(kSmallestSegmentBytes, '\0'));
  CHECK(Verify(path).state == SegmentState::kInTransit);
  // An I/O fault while SEG-9 reads the tail is an I/O error (10), never
  // damage or in transit: a file with a zeroed magic and its seal intact.
  std::string bad_magic = ReadFile(MakeSegment(t, 1, 2, false));
  std::fill(bad_magic.begin(), bad_magic.begin() + 8, '\0');
  WriteFile(path, bad_magic);
  CHECK(Verify(path).state == SegmentState::kCorrupt);
  class TailFault final : public ForwardingFile {
   public:
    using ForwardingFile::ForwardingFile;
    Status Seek(uint64_t off) override {
      pos_ = off;
      return ForwardingFile::Seek(off);
    }
    Result<size_t> Read(char* buf, size_t n) override {
      if (pos_ + n > *Size() - kPreallocatedTailBytes) return Status(Code::kIo, "read 'f': Input/output error");
      Result<size_t> got = ForwardingFile::Read(buf, n);
      if (got.ok()) pos_ += *got;
      return got;
    }

   private:
    uint64_t pos_ = 0;
  };
  auto opened = PosixFs().OpenRead(path);
  REQUIRE(opened.ok());
  TailFault faulty(std::move(*opened));
  const SegmentCheck io = CheckSegmentHeader(faulty, nullptr);
  CHECK(io.state == SegmentState::kIoError);
  CHECK(io.io.code() == Code::kIo);
}

TEST_CASE("SEG-4 every single-bit flip of a valid segment is corrupt") {
  for (bool zstd : {false, true}) {
    TempDir t;
    const std::string path = MakeSegment(t, 1, 2, zstd);
    const std::string full = ReadFile(path);
    int flips = 0;
    for (size_t i = 0; i < full.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = full;
        FlipBit(&bad, i, bit);
        WriteFile(path, bad);
        SegmentCheck c = Verify(path);
        if (c.state != SegmentState::kCorrupt) {
          FAIL_CHECK("byte " << i << " bit " << bit << " zstd " << zstd << ": "
                             << SegmentStateName(c.state) << " " << c.detail);
        }
        ++flips;
      }
    }
    MESSAGE("bit flips classified corrupt (zstd=" << zstd << "): " << flips);
  }
}

TEST_CASE("SEG-4 SEG-8 a longer file, a wrong name, unknown flags and reserved bytes are corrupt") {
  TempDir t;
  const std::string path = MakeSegment(t, 1, 2, false);
  const std::string full = ReadFile(path);
  WriteFile(path, full + "x");
  CHECK(Verify(path).detail.find("longer than declared") == 0);
  WriteFile(path, full);
  const std::string wrong = t / SegmentName(1, 1, 3);
  WriteFile(wrong, full);
  CHECK(Verify(wrong).detail.find("name mismatch") == 0);
  std::string flagged = full;
  flagged[kOffFlags] = 4;
  EncodeFixed32(flagged.data() + kHeaderCrcOffset, Crc32(flagged.data(), kHeaderCrcOffset));
  WriteFile(path, flagged);
  CHECK(Verify(path).detail == "unknown flags");
  for (size_t off : {kReservedOffset, kHeaderCrcOffset - 1}) {  // first and last reserved byte
    std::string reserved = full;
    reserved[off] = 1;
    EncodeFixed32(reserved.data() + kHeaderCrcOffset, Crc32(reserved.data(), kHeaderCrcOffset));
    WriteFile(path, reserved);
    CHECK(Verify(path).detail == "reserved bytes are not zero");
  }
}

TEST_CASE("SEG-1 SEG-8 a version other than 1, or a header_size other than 192, is corrupt and named, even with a good header CRC") {
  TempDir t;
  const std::string path = MakeSegment(t, 1, 2, false);
  const std::string full = ReadFile(path);
  std::string v2 = full;
  EncodeFixed16(v2.data() + kOffVersion, 2);
  EncodeFixed32(v2.data() + kHeaderCrcOffset, Crc32(v2.data(), kHeaderCrcOffset));
  WriteFile(path, v2);
  SegmentCheck c = Verify(path);
  CHECK(c.state == SegmentState::kCorrupt);
  CHECK(c.detail == "unknown version 2");
  std::string sized = full;
  EncodeFixed16(sized.data() + kOffHeaderSize, 193);
  EncodeFixed32(sized.data() + kHeaderCrcOffset, Crc32(sized.data(), kHeaderCrcOffset));
  WriteFile(path, sized);
  c = Verify(path);
  CHECK(c.state == SegmentState::kCorrupt);
  CHECK(c.detail == "header_size is not 192");
}

TEST_CASE("SEG-5 a body that lies about its write sets is corrupt even with good checksums") {
  TempDir t;
  SegmentHeader h;
  const std::string path = MakeSegment(t, 1, 2, false, &h);
  // Rewrite it claiming one more record than the body has, with fixed-up CRC and hash.
  auto wal = PosixFs().OpenRead(t / "wal.log");
  h.record_count += 1;
  REQUIRE(WriteSegment(PosixFs(), path, h, **wal, 0, ReadFile(t / "wal.log").size(), false).ok());
  SegmentCheck c = Verify(path);
  CHECK(c.state == SegmentState::kCorrupt);
  CHECK(c.detail == "record count differs from the header");
}


TEST_CASE("SEG-4 a header that claims more than the largest segment is corrupt at once, never in transit") {
  TempDir t;
  const std::string path = MakeSegment(t, 1, 2, false);
  const std::string full = ReadFile(path);
  for (const uint64_t claimed : {kMaxSegmentBodyBytes + 1, uint64_t{1} << 60}) {
    CAPTURE(claimed);
    std::string big = full;
    EncodeFixed64(big.data() + kOffBodySize, claimed);
    EncodeFixed64(big.data() + kOffStoredSize, claimed);
    EncodeFixed32(big.data() + kHeaderCrcOffset, Crc32(big.data(), kHeaderCrcOffset));
    WriteFile(path, big);
    auto f = PosixFs().OpenRead(path);
    REQUIRE(f.ok());
    auto name = ParseSegmentName(BaseName(path));
    const SegmentCheck c = CheckSegmentHeader(**f, &*name);
    CHECK(c.state == SegmentState::kCorrupt);
    CHECK(c.detail.find("larger than the largest segment") == 0);
  }
  // The largest body itself is not refused by the bound: the file is just
  // short of it (in transit).
  std::string at_bound = full;
  EncodeFixed64(at_bound.data() + kOffBodySize, kMaxSegmentBodyBytes);
  EncodeFixed64(at_bound.data() + kOffStoredSize, kMaxSegmentBodyBytes);
  EncodeFixed32(at_bound.data() + kHeaderCrcOffset, Crc32(at_bound.data(), kHeaderCrcOffset));
  WriteFile(path, at_bound);
  auto f = PosixFs().OpenRead(path);
  auto name = ParseSegmentName(BaseName(path));
  CHECK(CheckSegmentHeader(**f, &*name).state == SegmentState::kInTransit);
}

TEST_CASE("SEG-4 REC-8 REC-9 check 6: a header past the largest CommitId or sequence, or whose counts wrap, is corrupt at once") {
  TempDir t;
  const std::string path = MakeSegment(t, 1, 2, false);
  const std::string full = ReadFile(path);
  auto judge = [&](const std::function<void(std::string&)>& edit, size_t cut) {
    std::string h = full;
    edit(h);
    EncodeFixed32(h.data() + kHeaderCrcOffset, Crc32(h.data(), kHeaderCrcOffset));
    const std::string named = t / ("x" + std::to_string(cut));
    WriteFile(named, h.substr(0, h.size() - cut));  // cut: a copy still arriving
    auto f = PosixFs().OpenRead(named);
    REQUIRE(f.ok());
    return CheckSegmentHeader(**f, nullptr);
  };
  for (size_t cut : {size_t{0}, size_t{10}}) {
    CAPTURE(cut);
    // record_count such that 17 x (record_count - sets) wraps to a small number
    const SegmentCheck wrap = judge([](std::string& h) {
      const uint64_t sets = 2;
      EncodeFixed64(h.data() + kOffRecordCount, (UINT64_MAX / 17 + 2) + sets);
    }, cut);
    CHECK(wrap.state == SegmentState::kCorrupt);
    CHECK(wrap.detail == "inconsistent header");
    const SegmentCheck commit = judge([](std::string& h) {
      EncodeFixed64(h.data() + kOffFirstCommit, UINT64_MAX - 1);  // two write sets, as before
      EncodeFixed64(h.data() + kOffLastCommit, UINT64_MAX);
    }, cut);
    CHECK(commit.state == SegmentState::kCorrupt);
    CHECK(commit.detail == "inconsistent header");
    const SegmentCheck seq = judge([](std::string& h) { EncodeFixed64(h.data() + kOffLastSequence, UINT64_MAX); }, cut);
    CHECK(seq.state == SegmentState::kCorrupt);
    CHECK(seq.detail == "inconsistent header");
  }
  // Stored size over its bound is named as the stored size.
  const SegmentCheck stored = judge([](std::string& h) {
    EncodeFixed32(h.data() + kOffFlags, 1);
    EncodeFixed64(h.data() + kOffStoredSize, kMaxSegmentStoredBytes + 1);
  }, 0);
  CHECK(stored.state == SegmentState::kCorrupt);
  CHECK(stored.detail.find("(stored ") != std::string::npos);
}

namespace {

// Seals `body` under `h` (its header as the caller wants it, lies included)
// with good checksums, in a file named after the header (SEG-2).
std::string SealBody(const TempDir& t, const std::string& body, const SegmentHeader& h) {
  WriteFile(t / "body.log", body);
  auto wal = PosixFs().OpenRead(t / "body.log");
  REQUIRE(wal.ok());
  const std::string path = t / SegmentName(h.epoch, h.first_commit, h.last_commit);
  std::filesystem::remove(path);
  REQUIRE(WriteSegment(PosixFs(), path, h, **wal, 0, body.size(), false).ok());
  return path;
}

// The honest header of a body of whole write sets from commit `first`.
SegmentHeader HeaderOf(const TempDir& t, const std::string& body, uint64_t first) {
  WriteFile(t / "body.log", body);
  auto wal = PosixFs().OpenRead(t / "body.log");
  SegmentHeader h;
  h.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  h.epoch = 1;
  h.digest_before = history::SeedDigest(h.system_id);
  wal::ScanOptions opt;
  opt.base_commit = first - 1;
  opt.base_digest = h.digest_before;
  const wal::ScanResult r = wal::WalScanner(wal->get(), opt).Run();
  h.first_commit = first;
  h.last_commit = *r.last_commit;
  h.first_sequence = *r.first_sequence;
  h.last_sequence = *r.last_sequence;
  h.record_count = r.records;
  h.digest_after = *r.position.digest;
  return h;
}

}  // namespace

// Each body check of SEG-5 on its own: a header that lies about exactly one
// thing, every checksum good, is corrupt with that check's detail (and the
// tests fail when the check is removed: tests/mutation/mutants.tsv).
TEST_CASE("SEG-5 each body check: digest_after, sequences, commit range, findings, uncommitted tail") {
  TempDir t;
  const std::string two = WalBuilder(1).WriteSets(1, 2, 2).bytes();
  auto corrupt_with = [&](const std::string& body, const SegmentHeader& h, const std::string& detail) {
    CAPTURE(detail);
    const SegmentCheck c = Verify(SealBody(t, body, h));
    CHECK(c.state == SegmentState::kCorrupt);
    CHECK(c.detail.find(detail) == 0);
  };
  {
    const SegmentHeader h = HeaderOf(t, two, 1);
    CHECK(Verify(SealBody(t, two, h)).state == SegmentState::kValid);  // the honest one
  }
  {
    SegmentHeader h = HeaderOf(t, two, 1);
    h.digest_after[0] ^= 1;
    corrupt_with(two, h, "digest_after differs from the body's history digest");
  }
  {
    SegmentHeader h = HeaderOf(t, two, 1);
    h.last_sequence += 1;
    corrupt_with(two, h, "sequences differ from the header");
  }
  {
    SegmentHeader h = HeaderOf(t, two, 1);
    h.last_commit = 3;  // the body holds commits 1..2
    corrupt_with(two, h, "commit range differs from the header");
  }
  {
    // A sequence jump between the write sets (REC-8), every CRC good.
    const std::string jump = WalBuilder(1).WriteSets(1, 1, 2).bytes() +
                             WalBuilder(10).WriteSets(2, 1, 2).bytes();
    const SegmentHeader h = HeaderOf(t, jump, 1);
    corrupt_with(jump, h, "sequence");
  }
  {
    // A data record after the last commit, counted in the header.
    const std::string tail = two + WalBuilder(7).Insert("c", "late", "{}").bytes();
    SegmentHeader h = HeaderOf(t, tail, 1);
    h.last_sequence = 7;
    h.record_count = 7;
    corrupt_with(tail, h, "body does not end at a commit record");
  }
}
