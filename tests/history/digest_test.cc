// Worked examples of formats/history-digest.md, computed independently
// (python3 hashlib over the fixture bytes; see the format's appendix).
#include <doctest/doctest.h>

#include <cctype>
#include <string>

#include "history/digest.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::history;

TEST_CASE("HIST-1 seed for system id 00112233445566778899aabbccddeeff") {
  SystemId id = *ParseSystemId("00112233445566778899aabbccddeeff");
  CHECK(DigestToHex(SeedDigest(id)) ==
        "cfaf9cbecd789b82f6addb724868222c65ea5a07bd9cc982f24200398cf2781f");
}

TEST_CASE("HIST-4 seed for the all-zero system id") {
  CHECK(DigestToHex(SeedDigest(SystemId{})) ==
        "af5f869f1082c2cd892dae003f8eadcdcef9ef51b48f4712c133e096fe1adb32");
}

TEST_CASE("HIST-2 chain step is SHA-256 of the previous digest and the bytes") {
  SystemId id = *ParseSystemId("00112233445566778899aabbccddeeff");
  DigestChain c;
  c.Begin(SeedDigest(id));
  c.Update("ab");
  c.Update("c");
  Sha256 direct;
  Digest seed = SeedDigest(id);
  direct.Update(seed.data(), seed.size());
  direct.Update("abc");
  CHECK(c.Finish() == direct.Finish());
}

TEST_CASE("HIST-3 text form: 64 lowercase hex, parse refuses anything else") {
  Digest d = SeedDigest(SystemId{});
  CHECK(*ParseDigest(DigestToHex(d)) == d);
  CHECK(ParseDigest("abc").status().code() == Code::kDamage);
  // Upper case is refused, in any digit, as is one digit too many or too few.
  std::string upper = DigestToHex(d);
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  REQUIRE(upper != DigestToHex(d));
  CHECK(ParseDigest(upper).status().code() == Code::kDamage);
  std::string one_upper = DigestToHex(SeedDigest(SystemId{}));
  const size_t at = one_upper.find_first_of("abcdef");
  REQUIRE(at != std::string::npos);
  one_upper[at] = static_cast<char>(std::toupper(static_cast<unsigned char>(one_upper[at])));
  CHECK_FALSE(ParseDigest(one_upper).ok());
  CHECK_FALSE(ParseDigest(DigestToHex(d) + "0").ok());
  CHECK_FALSE(ParseDigest(DigestToHex(d).substr(1)).ok());
}

TEST_CASE("system id: random, 32 hex digits, parse refuses bad input") {
  SystemId a = *NewSystemId();
  SystemId b = *NewSystemId();
  CHECK_FALSE(a == b);
  CHECK(a.ToHex().size() == 32);
  CHECK(*ParseSystemId(a.ToHex()) == a);
  CHECK(ParseSystemId("xyz").status().code() == Code::kUsage);
  // 32 lowercase hex digits only (formats/node-layout.md): upper case is refused.
  CHECK(ParseSystemId("00112233445566778899aabbccddeeff").ok());
  CHECK_FALSE(ParseSystemId("00112233445566778899AABBCCDDEEFF").ok());
  CHECK(SystemId{}.IsZero());
}

TEST_CASE("HIST-5 the enrolled base: SHA-256 of the 20-byte tag, the system id, LE64(B) and the storage's SHA-256") {
  auto id = ParseSystemId("00112233445566778899aabbccddeeff");
  REQUIRE(id.ok());
  const Sha256Digest storage = Sha256::Of("storage bytes");
  std::string input = "AERODB-REPL-ENROL-V1";
  input.append(reinterpret_cast<const char*>(id->bytes.data()), 16);
  input.append("\x2c\x01\x00\x00\x00\x00\x00\x00", 8);  // 300, little-endian
  input.append(reinterpret_cast<const char*>(storage.data()), storage.size());
  REQUIRE(input.size() == 76);
  CHECK(EnrolledBaseDigest(*id, 300, storage) == Sha256::Of(input));
  // Every input counts: another commit, another storage, another system.
  CHECK(EnrolledBaseDigest(*id, 301, storage) != Sha256::Of(input));
  CHECK(EnrolledBaseDigest(*id, 300, Sha256::Of("other")) != Sha256::Of(input));
  CHECK(EnrolledBaseDigest(SystemId{}, 300, storage) != Sha256::Of(input));
  CHECK(EnrolledBaseDigest(*id, 300, storage) != SeedDigest(*id));
}
