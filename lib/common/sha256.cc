#include "common/sha256.h"

// OpenSSL 3's EVP interface fetches its provider at the first digest, which
// costs ~1.7 ms per process here; a cron job that has nothing to do must cost
// <= 5 ms in all. The SHA256_* functions are OpenSSL's own implementation
// (SHA-NI where the CPU has it, same throughput) without that fetch. They are
// marked deprecated in 3.0 for provider-based builds; this project uses the
// default provider only, so it opts into the 1.1.1 API level explicitly.
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include <cstdlib>

namespace aero {

struct Sha256::Ctx {
  SHA256_CTX c;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) { Reset(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Reset() {
  if (SHA256_Init(&ctx_->c) != 1) std::abort();
}

void Sha256::Update(const void* data, size_t n) {
  if (n == 0) return;
  if (SHA256_Update(&ctx_->c, data, n) != 1) std::abort();
}

Sha256Digest Sha256::Finish() {
  Sha256Digest out{};
  if (SHA256_Final(out.data(), &ctx_->c) != 1) std::abort();
  return out;
}

Sha256Digest Sha256::Of(std::string_view s) {
  Sha256 h;
  h.Update(s);
  return h.Finish();
}

std::string ToHex(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case too: every hex text form is lowercase (HIST-3, node-layout.md)
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace aero
