// The one source of random bytes (lib/common/random.h): system ids, claimants,
// salts, run ids and tokens all come from it.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "common/random.h"

using namespace aero;

TEST_CASE("random bytes: every byte is filled, and two draws differ") {
  std::array<uint8_t, 32> a{}, b{};
  REQUIRE(RandomBytes(a.data(), a.size()).ok());
  REQUIRE(RandomBytes(b.data(), b.size()).ok());
  CHECK(a != b);  // 2^-256 to fail by chance
  CHECK(std::any_of(a.begin(), a.end(), [](uint8_t x) { return x != 0; }));
  // A draw larger than one getrandom call may return: the last bytes are filled too.
  std::vector<uint8_t> big(1 << 20, 0);
  REQUIRE(RandomBytes(big.data(), big.size()).ok());
  CHECK(std::any_of(big.end() - 32, big.end(), [](uint8_t x) { return x != 0; }));
  CHECK(RandomBytes(nullptr, 0).ok());
}
