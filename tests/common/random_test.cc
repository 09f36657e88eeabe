// The one source of random bytes (lib/common/random.h): system ids, claimants,
// salts, run ids and tokens all come from it.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/random.h"

using namespace aero;

TEST_CASE("random bytes: every byte is filled, and two draws differ") {
  std::array<uint8_t, 32> a{}, b{};
  REQUIRE(RandomBytes(a.data(), a.size(), "a test").ok());
  REQUIRE(RandomBytes(b.data(), b.size(), "a test").ok());
  CHECK(a != b);  // 2^-256 to fail by chance
  CHECK(std::any_of(a.begin(), a.end(), [](uint8_t x) { return x != 0; }));
  // A draw larger than one getrandom call may return: the last bytes are filled too.
  std::vector<uint8_t> big(1 << 20, 0);
  REQUIRE(RandomBytes(big.data(), big.size(), "a test").ok());
  CHECK(std::any_of(big.end() - 32, big.end(), [](uint8_t x) { return x != 0; }));
  CHECK(RandomBytes(nullptr, 0, "a test").ok());
}

TEST_CASE("random bytes: a draw the kernel refuses is 10, naming what the bytes were for") {
  // getrandom(2) fails with EFAULT on an address outside the process.
  const Status s = RandomBytes(reinterpret_cast<void*>(uintptr_t{8}), 16, "the salt of x.enc");
  REQUIRE(!s.ok());
  CHECK(s.code() == Code::kIo);
  CHECK(s.message().find("no random bytes 'the salt of x.enc'") != std::string::npos);
  CHECK(s.message().find("getrandom") != std::string::npos);
  CHECK(!s.hint().empty());
}
