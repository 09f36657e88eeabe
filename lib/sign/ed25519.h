// Ed25519 over OpenSSL 3 EVP (formats/signature.md SIG-1, SIG-3): pure
// Ed25519 (RFC 8032 5.1), one shot (EVP_DigestSign / EVP_DigestVerify with
// no digest); Ed25519ph is never used. Keys are PEM as `openssl genpkey
// -algorithm ed25519` and `openssl pkey -pubout` write them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace aero::sign {

using Signature = std::array<uint8_t, 64>;
using RawKey = std::array<uint8_t, 32>;

struct KeyHandle;  // an EVP_PKEY

class PublicKey {
 public:
  // SubjectPublicKeyInfo PEM of an Ed25519 key; kUsage naming `subject` otherwise.
  static Result<PublicKey> FromPem(std::string_view pem, const std::string& subject);
  static Result<PublicKey> FromRaw(const RawKey& raw);
  // SIG-3: 16 lowercase hex, the first 8 bytes of SHA-256 of Der().
  const std::string& key_id() const { return key_id_; }
  // The SubjectPublicKeyInfo DER (44 bytes).
  std::string Der() const;
  // That DER as PEM, as `openssl pkey -pubout` writes it.
  std::string Pem() const;
  // Pure Ed25519 over `message`.
  bool Verify(std::string_view message, const Signature& sig) const;

 private:
  std::shared_ptr<KeyHandle> key_;
  std::string key_id_;
  friend class SigningKey;
};

class SigningKey {
 public:
  // PKCS#8 PEM of an Ed25519 private key; kUsage naming `subject` otherwise.
  static Result<SigningKey> FromPem(std::string_view pem, const std::string& subject);
  // From the 32-byte seed (RFC 8032's "SECRET KEY").
  static Result<SigningKey> FromSeed(const RawKey& seed);
  Result<Signature> Sign(std::string_view message) const;
  const PublicKey& public_key() const { return public_; }

 private:
  std::shared_ptr<KeyHandle> key_;
  PublicKey public_;
};

// SIG-12: reads a private key file: a regular file with no group or other
// permission bit (else kUsage, hint `chmod 600 FILE`), PEM, Ed25519.
Result<SigningKey> LoadSigningKey(const std::string& path);

}  // namespace aero::sign
