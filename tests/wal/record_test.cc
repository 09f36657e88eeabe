#include <doctest/doctest.h>

#include "common/coding.h"
#include "wal/record.h"

using namespace aero;
using namespace aero::wal;

TEST_CASE("REC-1 encode: framing, length and CRC position") {
  std::string rec = EncodeRecord(3, 3, EncodeCommitPayload(1));
  REQUIRE(rec.size() == kCommitRecordBytes);
  CHECK(DecodeFixed32(rec.data()) == 25);
  CHECK(rec[4] == 3);
  CHECK(DecodeFixed64(rec.data() + 5) == 3);
  CHECK(DecodeFixed64(rec.data() + 13) == 1);
  CHECK(DecodeFixed32(rec.data() + 21) == 0x0630b267u);  // the fixture's first commit
}

TEST_CASE("REC-7 data payload: five fields round trip, UTF-8 lengths in bytes") {
  DataPayload in{"users", "ユーザー-3d60", "user", "v2", "{\"name\":\"Zoë\"}"};
  std::string enc = EncodeDataPayload(in);
  DataPayload out;
  REQUIRE(DecodeDataPayload(enc, &out));
  CHECK(out.document_id == in.document_id);
  CHECK(out.body == in.body);
  CHECK(DecodeFixed32(enc.data() + 4 + 5) == std::string("ユーザー-3d60").size());
}

TEST_CASE("REC-7 data payload: a trailing byte or a short field is malformed") {
  std::string enc = EncodeDataPayload({"c", "i", "s", "v", "b"});
  DataPayload out;
  CHECK_FALSE(DecodeDataPayload(enc + "x", &out));
  CHECK_FALSE(DecodeDataPayload(enc.substr(0, enc.size() - 1), &out));
  CHECK(PayloadShapeOk(0, EncodeDataPayload({"", "", "", "", ""})));  // 37-byte minimum record
}

TEST_CASE("REC-7 commit payload: exactly eight bytes") {
  uint64_t id = 0;
  CHECK(DecodeCommitPayload(EncodeCommitPayload(42), &id));
  CHECK(id == 42);
  CHECK_FALSE(DecodeCommitPayload("1234567", &id));
  CHECK_FALSE(DecodeCommitPayload("123456789", &id));
}

TEST_CASE("REC-7 version payload (type 4): tombstone must be 0 or 1") {
  std::string p;
  PutFixed64(&p, 9);
  PutFixed32(&p, 3);
  p += "key";
  p.push_back(1);
  PutFixed32(&p, 2);
  p += "xy";
  VersionPayload v;
  REQUIRE(DecodeVersionPayload(p, &v));
  CHECK(v.commit_id == 9);
  CHECK(v.tombstone);
  CHECK(v.payload == "xy");
  std::string bad = p;
  bad[8 + 4 + 3] = 2;
  CHECK_FALSE(DecodeVersionPayload(bad, &v));
  CHECK(PayloadShapeOk(5, "anything at all"));  // MvccGc is opaque
}
