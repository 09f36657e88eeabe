// SHA-256 through OpenSSL 3 (its SHA256_* functions; see sha256.cc); incremental.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace aero {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Reset();
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Returns the digest; the object must be Reset() before reuse.
  Sha256Digest Finish();

  static Sha256Digest Of(std::string_view s);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string ToHex(const uint8_t* data, size_t n);
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& a) {
  return ToHex(a.data(), N);
}
// Parses exactly 2*N lowercase hex digits; false otherwise (upper case
// included: every hex text form of the formats is lowercase, HIST-3).
bool FromHex(std::string_view hex, uint8_t* out, size_t n);

}  // namespace aero
