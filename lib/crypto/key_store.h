// Encryption master keys (formats/encrypted-file.md ENC-2, ENC-10, ENC-11):
// 32-byte raw key files, permission-checked, named by key id; a key
// directory holds every key a reader may need (old ones after a rotation).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/encrypted_format.h"

namespace aero::crypto {

using KeyId = std::array<uint8_t, kKeyIdBytes>;

struct MasterKey {
  std::array<uint8_t, kKeyBytes> bytes{};
  KeyId id{};
  std::string path;
  MasterKey() = default;
  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();  // wipes the key bytes
};

// ENC-2: the first 16 bytes of SHA-256("aerodb-repl key id v1" || key).
KeyId KeyIdOf(const std::array<uint8_t, kKeyBytes>& key);
std::string KeyIdHex(const KeyId& id);

// ENC-10: a regular file of exactly 32 bytes (else 2), not readable by
// group or others (else 5, hint chmod 600).
Result<MasterKey> LoadKeyFile(const std::string& path);

// ENC-11: keys looked up by key id.
class KeyStore {
 public:
  KeyStore() = default;
  // Every `*.key` file of `dir` (each must pass LoadKeyFile); 9 when the
  // directory does not exist.
  static Result<KeyStore> LoadDir(const std::string& dir);
  void Add(const MasterKey& key);
  const MasterKey* Find(const KeyId& id) const;
  const std::string& where() const { return where_; }  // for messages
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<MasterKey> keys_;
  std::string where_;
};

}  // namespace aero::crypto
