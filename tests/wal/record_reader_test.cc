// One test per stop of the record reader (formats/wal-record.md REC-1..REC-11).
#include <doctest/doctest.h>

#include "common/coding.h"
#include "support/test_util.h"
#include "wal/record.h"
#include "wal/record_reader.h"

using namespace aero;
using namespace aero::wal;
using namespace aero::testing;

namespace {

struct ReadAll {
  std::vector<Record> records;  // bytes views are not kept
  std::vector<uint64_t> sequences;
  Stop stop;
};

ReadAll Read(const std::string& bytes, uint64_t offset = 0) {
  StringFile f(bytes);
  RecordReader r(&f, offset);
  ReadAll out;
  Record rec;
  while (r.Next(&rec)) {
    out.sequences.push_back(rec.sequence);
    rec.bytes = {};
    out.records.push_back(rec);
  }
  out.stop = r.stop();
  return out;
}

std::string ThreeSets() { return WalBuilder().WriteSets(1, 3).bytes(); }

}  // namespace

TEST_CASE("REC-1 clean end: every record returned, offsets and indexes exact") {
  WalBuilder b;
  b.WriteSets(1, 3);
  ReadAll r = Read(b.bytes());
  REQUIRE(r.records.size() == 9);
  CHECK(r.stop.kind == StopKind::kCleanEnd);
  for (size_t i = 0; i < r.records.size(); ++i) {
    CHECK(r.records[i].offset == b.offsets()[i]);
    CHECK(r.records[i].index == i);
    CHECK(r.sequences[i] == i + 1);
  }
  CHECK(r.stop.offset == b.bytes().size());
}

TEST_CASE("REC-1 empty file is a clean end with no records") {
  ReadAll r = Read("");
  CHECK(r.records.empty());
  CHECK(r.stop.kind == StopKind::kCleanEnd);
}

TEST_CASE("REC-1 reading can start at a record boundary") {
  WalBuilder b;
  b.WriteSets(1, 3);
  ReadAll r = Read(b.bytes(), b.offsets()[3]);
  REQUIRE(r.records.size() == 6);
  CHECK(r.records[0].offset == b.offsets()[3]);
}

TEST_CASE("REC-3 torn tail: 1, 2 or 3 bytes of the length field") {
  std::string all = ThreeSets();
  const size_t last = WalBuilder().WriteSets(1, 3).offsets().back();
  for (size_t keep = 1; keep < 4; ++keep) {
    ReadAll r = Read(all.substr(0, last + keep));
    CHECK(r.records.size() == 8);
    CHECK(r.stop.kind == StopKind::kTornTail);
    CHECK(r.stop.offset == last);
    CHECK(r.stop.index == 8);
    CHECK_FALSE(r.stop.zero_filled);
    CHECK(r.stop.detail == "torn record: only " + std::to_string(keep) +
                               " of 4 length-field bytes present");
  }
}

TEST_CASE("REC-3 torn tail: inside the body and inside the CRC") {
  std::string all = ThreeSets();
  const size_t last = WalBuilder().WriteSets(1, 3).offsets().back();
  for (size_t cut : {last + 4, last + 10, all.size() - 1}) {
    ReadAll r = Read(all.substr(0, cut));
    CHECK(r.stop.kind == StopKind::kTornTail);
    CHECK(r.stop.offset == last);
    CHECK(r.stop.detail == "torn record: length field says 25 bytes, only " +
                               std::to_string(cut - last) + " remain");
  }
}

TEST_CASE("REC-4 zero-filled tail is torn, not corrupt") {
  std::string all = ThreeSets() + std::string(4096, '\0');
  ReadAll r = Read(all);
  CHECK(r.records.size() == 9);
  CHECK(r.stop.kind == StopKind::kTornTail);
  CHECK(r.stop.zero_filled);
  CHECK(ReadAll(Read(ThreeSets() + std::string(3, '\0'))).stop.zero_filled);
}

TEST_CASE("REC-4 zeros followed by anything else are corrupt") {
  std::string all = ThreeSets() + std::string(100, '\0') + "x";
  ReadAll r = Read(all);
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.detail.find("invalid length 0") == 0);
}

TEST_CASE("REC-2 length below the 17-byte minimum is corrupt") {
  std::string all = ThreeSets();
  std::string bad(20, 'x');
  EncodeFixed32(bad.data(), 16);
  ReadAll r = Read(all + bad);
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.offset == all.size());
  CHECK(r.stop.detail == "invalid length 16 (valid: 17..67108864)");
}

TEST_CASE("REC-2 length above 64 MiB is corrupt even at the tail") {
  std::string bad(8, 'x');
  EncodeFixed32(bad.data(), kMaxRecordBytes + 1);
  ReadAll r = Read(bad);
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.length == kMaxRecordBytes + 1);
}

TEST_CASE("REC-5 CRC mismatch in the middle: corrupt, with both CRCs") {
  WalBuilder b;
  b.WriteSets(1, 3);
  std::string all = b.bytes();
  FlipBit(&all, b.offsets()[4] + 20, 3);
  ReadAll r = Read(all);
  CHECK(r.records.size() == 4);
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.offset == b.offsets()[4]);
  CHECK(r.stop.index == 4);
  CHECK(r.stop.stored_crc != r.stop.computed_crc);
  CHECK(r.stop.detail.find("crc mismatch: stored ") == 0);
}

TEST_CASE("REC-5 a bit flip in the CRC field itself is corrupt") {
  WalBuilder b;
  b.WriteSets(1, 1);
  std::string all = b.bytes();
  FlipBit(&all, b.offsets()[1] + 21, 0);
  CHECK(Read(all).stop.kind == StopKind::kCorrupt);
}

TEST_CASE("REC-11 nothing after a damaged record is returned") {
  WalBuilder b;
  b.WriteSets(1, 3);
  std::string all = b.bytes();
  FlipBit(&all, b.offsets()[0] + 15, 1);
  ReadAll r = Read(all);
  CHECK(r.records.empty());
  CHECK(r.stop.index == 0);
}

TEST_CASE("REC-6 unknown type with a good CRC stops as unsupported") {
  WalBuilder b;
  b.WriteSets(1, 1).Raw(9, "whatever");
  ReadAll r = Read(b.bytes());
  CHECK(r.records.size() == 3);
  CHECK(r.stop.kind == StopKind::kUnsupportedType);
  CHECK(r.stop.type == 9);
  CHECK(r.stop.detail == "unsupported record type 9");
}

TEST_CASE("REC-6 the type byte flipped without fixing the CRC is corruption") {
  WalBuilder b;
  b.WriteSets(1, 1);
  std::string all = b.bytes();
  all[b.offsets()[2] + 4] = 9;
  CHECK(Read(all).stop.kind == StopKind::kCorrupt);
}

TEST_CASE("REC-7 malformed data payload with a fixed-up CRC is corrupt") {
  WalBuilder b;
  b.WriteSets(1, 1);
  std::string all = b.bytes();
  // Make the collection's length field claim more bytes than the payload holds.
  EncodeFixed32(all.data() + b.offsets()[0] + kPayloadOffset, 1000);
  FixRecordCrc(&all, b.offsets()[0]);
  ReadAll r = Read(all);
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.detail.find("malformed payload for type Insert") == 0);
}

TEST_CASE("REC-7 a commit record with a 9-byte payload is corrupt") {
  WalBuilder b;
  b.Raw(3, "123456789");
  ReadAll r = Read(b.bytes());
  CHECK(r.stop.kind == StopKind::kCorrupt);
  CHECK(r.stop.detail.find("malformed payload for type MvccCommit") == 0);
}

TEST_CASE("REC-7 25-byte commit records are read (AeroDB's own reader cannot)") {
  WalBuilder b;
  b.Commit(1).Commit(2);
  ReadAll r = Read(b.bytes());
  CHECK(r.records.size() == 2);
  CHECK(r.stop.kind == StopKind::kCleanEnd);
}

TEST_CASE("REC-7 types 4 and 5 are read, a bad type-4 tombstone is corrupt") {
  std::string p;
  PutFixed64(&p, 1);
  PutFixed32(&p, 1);
  p += "k";
  p.push_back(0);
  PutFixed32(&p, 0);
  WalBuilder good;
  good.Raw(4, p).Raw(5, "opaque").Commit(1);
  CHECK(Read(good.bytes()).records.size() == 3);
  p[8 + 4 + 1] = 7;
  WalBuilder bad;
  bad.Raw(4, p);
  CHECK(Read(bad.bytes()).stop.kind == StopKind::kCorrupt);
}

TEST_CASE("reader memory: a record larger than the read chunk is read whole") {
  WalBuilder b;
  b.Insert("c", "big", std::string(3 << 20, 'z')).Commit(1);
  ReadAll r = Read(b.bytes());
  CHECK(r.records.size() == 2);
  CHECK(r.stop.kind == StopKind::kCleanEnd);
}

TEST_CASE("reader seeks to its start offset even when it is 0 (shared handles)") {
  WalBuilder b;
  b.WriteSets(1, 2);
  StringFile f(b.bytes());
  char buf[64];
  REQUIRE(f.Read(buf, sizeof buf).ok());  // the handle is no longer at 0
  RecordReader r(&f, 0);
  Record rec;
  REQUIRE(r.Next(&rec));
  CHECK(rec.offset == 0);
  CHECK(rec.sequence == 1);
}

TEST_CASE("REC-12 a large record is read into one block of its size, its bytes never copied while it arrives, however short the reads") {
  WalBuilder b;
  b.Insert("c", "big", std::string(3 << 20, 'z')).Commit(1);
  const std::string wal = b.bytes();
  for (size_t stride : {size_t{0}, size_t{16384}, size_t{1000}}) {
    CAPTURE(stride);
    StringFile f(wal, "mem.log", stride);  // reads of 1..6*stride+1 bytes, or whole
    RecordReader r(&f);
    Record rec;
    REQUIRE(r.Next(&rec));
    const size_t length = rec.bytes.size();
    CHECK(length > (3u << 20));
    // Only what was read before the length was known moved to the record's
    // block; a doubling toward it would copy about the record's size, and a
    // compaction per short read many times that.
    CHECK(r.input().copied_bytes() <= ReadBuffer::kMaxChunk);
    CHECK(r.input().capacity() >= length);
    CHECK(r.input().capacity() < length + ReadBuffer::kMaxChunk);
    REQUIRE(r.Next(&rec));
    CHECK(!r.Next(&rec));
    CHECK(r.stop().kind == StopKind::kCleanEnd);
  }
}

TEST_CASE("REC-12 a length that claims more than the file holds costs only the bytes that arrive") {
  WalBuilder b;
  b.Insert("c", "big", std::string(3 << 20, 'z')).Commit(1);
  const std::string cut = b.bytes().substr(0, 300 * 1024);  // a torn tail (REC-3)
  StringFile f(cut, "mem.log", 16384);
  RecordReader r(&f);
  Record rec;
  CHECK(!r.Next(&rec));
  CHECK(r.stop().kind == StopKind::kTornTail);
  CHECK(r.input().capacity() <= 2 * cut.size());
}
