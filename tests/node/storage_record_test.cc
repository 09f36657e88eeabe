#include <doctest/doctest.h>

#include "node/storage_record.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::node;
using namespace aero::testing;

TEST_CASE("storage record: round trip of live and tombstone records") {
  std::string bytes;
  AppendStorageRecord(&bytes, "users:u1", "user", "v1", false, "{\"a\":1}");
  AppendStorageRecord(&bytes, "users:u1", "user", "v1", true, "");
  StringFile f(bytes);
  StorageReader r(&f);
  StorageRecord rec;
  REQUIRE(r.Next(&rec));
  CHECK(rec.document_id == "users:u1");
  CHECK(rec.body == "{\"a\":1}");
  CHECK_FALSE(rec.tombstone);
  REQUIRE(r.Next(&rec));
  CHECK(rec.tombstone);
  CHECK_FALSE(r.Next(&rec));
  CHECK(r.status().ok());
}

TEST_CASE("storage record: a flipped bit is damage with the offset") {
  std::string bytes;
  AppendStorageRecord(&bytes, "a:b", "s", "v1", false, "body");
  const size_t second = bytes.size();
  AppendStorageRecord(&bytes, "a:c", "s", "v1", false, "body");
  FlipBit(&bytes, second + 10, 0);
  StringFile f(bytes);
  StorageReader r(&f);
  StorageRecord rec;
  CHECK(r.Next(&rec));
  CHECK_FALSE(r.Next(&rec));
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("crc mismatch at offset " + std::to_string(second)) !=
        std::string::npos);
}
