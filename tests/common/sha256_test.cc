#include <doctest/doctest.h>

#include "common/sha256.h"

using namespace aero;

TEST_CASE("sha256: FIPS 180-2 vectors") {
  CHECK(ToHex(Sha256::Of("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ToHex(Sha256::Of("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256: incremental and reset") {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.Finish() == Sha256::Of("abc"));
  h.Reset();
  h.Update("abc");
  CHECK(h.Finish() == Sha256::Of("abc"));
}

TEST_CASE("hex: round trip and refusal") {
  uint8_t out[2];
  CHECK(FromHex("0aff", out, 2));
  CHECK(out[0] == 0x0a);
  CHECK(out[1] == 0xff);
  CHECK_FALSE(FromHex("0a", out, 2));
  CHECK_FALSE(FromHex("zz00", out, 2));
  // Lowercase only: every hex text form of the formats is (HIST-3).
  CHECK_FALSE(FromHex("0aFf", out, 2));
  CHECK_FALSE(FromHex("0A00", out, 2));
  CHECK(ToHex(out, 2) == "0aff");
}
