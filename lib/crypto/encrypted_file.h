// The encryption envelope (formats/encrypted-file.md): a writer that
// encrypts what is appended to it, one 64 KiB chunk at a time, and a reader
// that shows an envelope's plaintext, releasing each chunk only after its
// tag verifies. Memory is one chunk, whatever the file's size.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/fs.h"
#include "common/sha256.h"
#include "common/verdict.h"
#include "crypto/encrypted_format.h"
#include "crypto/key_store.h"

namespace aero::crypto {

struct EncHeader {
  Algorithm algorithm = Algorithm::kAes256Gcm;
  KeyId key_id{};
  std::array<uint8_t, kSaltBytes> salt{};
  uint64_t plaintext_size = 0;
};

std::string EncodeEncHeader(const EncHeader& h);  // 96 bytes, CRC set
// ENC-1: checks magic, CRC, version and every fixed field; "" or the problem.
std::string DecodeEncHeader(std::string_view bytes, EncHeader* out);

const char* AlgorithmName(Algorithm a);  // "aes-256-gcm" | "chacha20-poly1305"
std::optional<Algorithm> AlgorithmFromName(std::string_view name);

// ENC-3: HKDF-SHA256(master, salt, info || algorithm byte).
Result<std::array<uint8_t, kKeyBytes>> DeriveFileKey(const MasterKey& master,
                                                     const EncHeader& h);

// What a writer encrypts with.
struct EncryptionKey {
  MasterKey key;
  Algorithm algorithm = Algorithm::kAes256Gcm;
};

// ENC-12: wraps `raw` (owned); exactly `plaintext_size` bytes must be
// appended. The last Append writes the last data chunk and the final chunk,
// so Sync() then makes the whole envelope durable. Appending more, or
// syncing before the end, is kInternal.
Result<std::unique_ptr<WritableFile>> OpenEncrypting(std::unique_ptr<WritableFile> raw,
                                                     const EncryptionKey& key,
                                                     uint64_t plaintext_size);

// The envelope's verdict, as the reader judged it at open (checks 1-9 of
// "Reading and damage"): kValid (complete, final chunk verified), kInTransit
// (shorter than declared), kCorrupt, or kIoError with `io` (kRefused when no
// key has the header's key id).
struct Envelope {
  Verdict state = Verdict::kValid;
  std::string detail;
  Status io;
  EncHeader header;
  uint64_t size = 0;       // the file's size
  uint64_t expected = 0;   // the declared total (0 before the header checks out)
  bool key_known = false;
  bool keys_given = false;  // a key directory was named (--encryption-keys)
};

// Whether `file` starts with the whole envelope magic.
Result<bool> IsEnvelope(ReadableFile& file);

// The plaintext view of an envelope (ENC-5..ENC-7): Size() is the plaintext
// readable (a short file: the complete data chunks present, never all of
// the plaintext), reads decrypt and verify chunk by chunk (kDamage "chunk i
// fails authentication"). A corrupt or keyless envelope gives a view whose
// reads fail with that status. `keys` may be null (no key).
std::unique_ptr<ReadableFile> OpenDecrypting(std::unique_ptr<ReadableFile> raw,
                                             const KeyStore* keys);

// The verdict of a view OpenDecrypting returned; nullptr for any other file.
const Envelope* EnvelopeOf(ReadableFile& file);

// The identity and size of the file itself (for a view: the encrypted file,
// as Fs::Stat sees it, not the plaintext's size), e.g. to recognise a file
// judged before (LOG-28).
Result<FileInfo> RawInfo(ReadableFile& file);

// That verdict as a Status, for a reader that stops at the first problem:
// ok (a plain file, or a valid envelope), 8 "WHAT in transit", 1 "invalid
// WHAT", or the envelope's I/O status (5 when no key has its key id).
Status EnvelopeStatus(ReadableFile& file, const std::string& what);

// ENC-9: judges the envelope of `raw` whole: without a key the framing
// only (`key_known` false); with it every chunk, data and final (reads the
// whole file once).
Envelope CheckEnvelope(ReadableFile& raw, const KeyStore* keys);

// CheckEnvelope of the file under a view OpenDecrypting returned, with the
// view's keys; nullopt for any other file.
std::optional<Envelope> CheckWhole(ReadableFile& view);

}  // namespace aero::crypto
