// Constants of formats/encrypted-file.md (ENC-1..ENC-13), one to one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aero::crypto {

inline constexpr std::string_view kEncMagic{"AEROENC\n", 8};  // ENC-1
// The shortest prefix of kEncMagic no other format's magic begins with
// ("AEROE": segments are "AEROSEG\n"): a file of 5..7 such bytes is an
// envelope's copy in progress.
inline constexpr size_t kEncMagicOwnPrefix = 5;
inline constexpr uint16_t kEncVersion = 2;  // version 1 (a 48-byte final chunk) is refused
inline constexpr size_t kEncHeaderBytes = 96;
inline constexpr size_t kEncHeaderCrcOffset = 92;
inline constexpr size_t kOffVersion = 8;
inline constexpr size_t kOffHeaderSize = 10;
inline constexpr size_t kOffAlgorithm = 12;
inline constexpr size_t kOffChunkShift = 13;
inline constexpr size_t kOffFlags = 14;
inline constexpr size_t kOffKeyId = 16;
inline constexpr size_t kOffSalt = 32;
inline constexpr size_t kOffPlaintextSize = 64;
inline constexpr size_t kOffReserved = 72;
inline constexpr size_t kReservedBytes = 20;

inline constexpr uint8_t kChunkShift = 16;  // ENC-4
inline constexpr size_t kChunkBytes = size_t{1} << kChunkShift;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kFinalChunkBytes = kTagBytes;  // an empty plaintext: its tag (ENC-8)
inline constexpr uint64_t kMaxPlaintext = uint64_t{1} << 40;

inline constexpr size_t kKeyBytes = 32;  // ENC-2
inline constexpr size_t kKeyIdBytes = 16;
inline constexpr size_t kSaltBytes = 32;
inline constexpr std::string_view kKeyIdLabel{"aerodb-repl key id v1"};          // 21 bytes
inline constexpr std::string_view kFileKeyInfo{"aerodb-repl encrypted-file v1"};  // 29 bytes

enum class Algorithm : uint8_t {
  kAes256Gcm = 1,         // the default
  kChaCha20Poly1305 = 2,
};

// n = ceil(P / 65536) data chunks.
inline constexpr uint64_t DataChunks(uint64_t plaintext) {
  return (plaintext + kChunkBytes - 1) >> kChunkShift;
}
// The declared total: 96 + P + 16 n + 16.
inline constexpr uint64_t EncryptedSize(uint64_t plaintext) {
  return kEncHeaderBytes + plaintext + kTagBytes * DataChunks(plaintext) + kFinalChunkBytes;
}

}  // namespace aero::crypto
