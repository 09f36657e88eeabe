#include <doctest/doctest.h>

#include <string>

#include "common/crc32.h"

using aero::Crc32;

TEST_CASE("crc32: the IEEE check value") {
  CHECK(Crc32("123456789") == 0xcbf43926u);
  CHECK(Crc32("") == 0u);
}

TEST_CASE("crc32: incremental equals one shot") {
  std::string s(100000, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  uint32_t one = Crc32(s);
  uint32_t inc = Crc32(s.substr(0, 12345));
  inc = Crc32(s.substr(12345), inc);
  CHECK(one == inc);
}

TEST_CASE("crc32: AeroDB's first commit record (fixture README example)") {
  // 19 00 00 00 | 03 | seq 3 | commit 1 | crc 0x0630b267
  std::string rec = std::string("\x19\x00\x00\x00\x03", 5) +
                    std::string("\x03\x00\x00\x00\x00\x00\x00\x00", 8) +
                    std::string("\x01\x00\x00\x00\x00\x00\x00\x00", 8);
  CHECK(Crc32(rec) == 0x0630b267u);
}
