#include "crypto/encrypted_file.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/preallocated.h"
#include "common/random.h"

namespace aero::crypto {

namespace {

const EVP_CIPHER* CipherOf(Algorithm a) {
  // Fetched once: an implicit fetch at every chunk would cost a lookup.
  static EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return a == Algorithm::kChaCha20Poly1305 ? chacha : gcm;
}

// ENC-4: the index as 11 big-endian bytes, then the final flag.
void MakeNonce(uint64_t index, bool final, unsigned char nonce[kNonceBytes]) {
  std::memset(nonce, 0, kNonceBytes);
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<unsigned char>(index >> (8 * i));
  nonce[11] = final ? 1 : 0;
}

// One AEAD context, keyed once with the file key; each chunk sets its nonce.
class Aead {
 public:
  Aead() = default;
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;
  ~Aead() {
    if (ctx_) EVP_CIPHER_CTX_free(ctx_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }

  Status Init(Algorithm a, const std::array<uint8_t, kKeyBytes>& key, std::string header) {
    cipher_ = CipherOf(a);
    if (cipher_ == nullptr) return Status(Code::kIo, "OpenSSL offers no such cipher");
    ctx_ = EVP_CIPHER_CTX_new();
    if (ctx_ == nullptr) return Status(Code::kIo, "cannot allocate a cipher context");
    key_ = key;
    aad_ = std::move(header);
    return Status::Ok();
  }

  // Encrypts n bytes of `in` to `out` (n bytes), then the tag (16 bytes).
  bool Seal(uint64_t index, bool final, const char* in, size_t n, char* out) {
    unsigned char nonce[kNonceBytes];
    MakeNonce(index, final, nonce);
    int len = 0;
    if (EVP_CipherInit_ex2(ctx_, cipher_, key_.data(), nonce, 1, nullptr) != 1) return false;
    if (EVP_CipherUpdate(ctx_, nullptr, &len, Bytes(aad_.data()), static_cast<int>(aad_.size())) != 1) return false;
    len = 0;  // the data's length, not the associated data's (an empty final chunk has none)
    if (n > 0 && EVP_CipherUpdate(ctx_, Bytes(out), &len, Bytes(in), static_cast<int>(n)) != 1) return false;
    int fin = 0;
    if (EVP_CipherFinal_ex(ctx_, Bytes(out) + len, &fin) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTagBytes, out + n) == 1;
  }

  // ENC-5: decrypts n ciphertext bytes (then the tag) into `out`; false, and
  // `out` must not be used, when the tag does not verify.
  bool Open(uint64_t index, bool final, const char* in, size_t n, char* out) {
    unsigned char nonce[kNonceBytes];
    MakeNonce(index, final, nonce);
    int len = 0;
    if (EVP_CipherInit_ex2(ctx_, cipher_, key_.data(), nonce, 0, nullptr) != 1) return false;
    if (EVP_CipherUpdate(ctx_, nullptr, &len, Bytes(aad_.data()), static_cast<int>(aad_.size())) != 1) return false;
    len = 0;  // the data's length, not the associated data's (an empty final chunk has none)
    if (n > 0 && EVP_CipherUpdate(ctx_, Bytes(out), &len, Bytes(in), static_cast<int>(n)) != 1) return false;
    char tag[kTagBytes];
    std::memcpy(tag, in + n, kTagBytes);
    if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) return false;
    int fin = 0;
    return EVP_CipherFinal_ex(ctx_, Bytes(out) + len, &fin) == 1;
  }

  // ENC-4, ENC-8: the final chunk (index `index`), an empty plaintext: its
  // 16-byte tag alone.
  bool OpenFinal(uint64_t index, const char* tag) {
    char none[1];
    return Open(index, true, tag, 0, none);
  }

 private:
  static unsigned char* Bytes(char* p) { return reinterpret_cast<unsigned char*>(p); }
  static const unsigned char* Bytes(const char* p) {
    return reinterpret_cast<const unsigned char*>(p);
  }
  const EVP_CIPHER* cipher_ = nullptr;
  EVP_CIPHER_CTX* ctx_ = nullptr;
  std::array<uint8_t, kKeyBytes> key_{};
  std::string aad_;
};

// Plaintext bytes of data chunk i of a plaintext of P bytes.
size_t ChunkPlain(uint64_t P, uint64_t i) {
  return static_cast<size_t>(std::min<uint64_t>(kChunkBytes, P - i * kChunkBytes));
}
uint64_t ChunkOffset(uint64_t i) { return kEncHeaderBytes + i * (kChunkBytes + kTagBytes); }

// Reads exactly n bytes at `offset`: positional where the file allows it.
// Every read lies within the size the file had when it was judged, so an
// end of file before n bytes is a file cut while it was read (`cp` over it
// truncates first): in transit (FM-20), never damage.
Status RawRead(ReadableFile& f, uint64_t offset, char* buf, size_t n) {
  if (!f.SupportsReadAt()) return ReadWithinSize(f, offset, buf, n);
  size_t done = 0;
  while (done < n) {
    AERO_ASSIGN_OR_RETURN(size_t got, f.ReadAt(offset + done, buf + done, n - done));
    if (got == 0) return CutWhileReadStatus(f.path());
    done += got;
  }
  return Status::Ok();
}

// A read that failed: a cut is in transit (FM-20), anything else an I/O error.
void ReadFailed(Envelope& e, const Status& s) {
  if (s.code() == Code::kInTransit) {
    e.state = Verdict::kInTransit;
    e.detail = std::string(kCutWhileRead);
  } else {
    e.state = Verdict::kIoError;
    e.io = s;
  }
}

Status NoKey(const std::string& path, const EncHeader& h, const KeyStore* keys) {  // ENC-11
  return Status(Code::kRefused,
                Problem("no key for encrypted file", path,
                        "key id " + KeyIdHex(h.key_id) +
                            (keys && !keys->where().empty() ? " is not in '" + keys->where() + "'"
                                                            : " and no key directory given")),
                "put the key file with that key id into the directory given with "
                "--encryption-keys DIR (keep retired keys there after a rotation)");
}

Envelope Corrupt(Envelope e, std::string detail) {
  e.state = Verdict::kCorrupt;
  e.detail = std::move(detail);
  return e;
}

// Checks 1-8 of "Reading and damage" from the header and the size; with the
// key, the file key is derived into `aead`. Chunks are not read here.
Envelope Frame(ReadableFile& raw, const KeyStore* keys, std::string* header_bytes,
               std::unique_ptr<Aead>* aead) {
  Envelope e;
  Result<uint64_t> size = raw.Size();
  if (!size.ok()) {
    e.state = Verdict::kIoError;
    e.io = size.status();
    return e;
  }
  e.size = *size;
  e.keys_given = keys != nullptr && !keys->where().empty();
  if (e.size < kEncHeaderBytes) {  // check 3 (the caller saw the whole magic, or a prefix only it has)
    e.state = Verdict::kInTransit;
    e.detail = std::to_string(e.size) + " of at least " + std::to_string(kEncHeaderBytes) +
               " bytes present";
    return e;
  }
  std::string head(kEncHeaderBytes, '\0');
  if (Status s = RawRead(raw, 0, head.data(), head.size()); !s.ok()) {
    ReadFailed(e, s);
    return e;
  }
  if (e.size >= kEncHeaderBytes + kFinalChunkBytes) {  // check 3a, ENC-33
    static_assert(kFinalChunkBytes == kPreallocatedTailBytes, "the final tag is the tail SEG-9 reads");
    Result<bool> zeros = EndsInPreallocatedZeros(raw, e.size);
    if (!zeros.ok()) {
      ReadFailed(e, zeros.status());  // a cut is in transit (FM-20)
      return e;
    }
    // A preallocated copy has its final size, never more: an intact header
    // that declares fewer bytes leaves the zeros to check 6 (corrupt).
    EncHeader declared;
    const bool longer = DecodeEncHeader(head, &declared).empty() &&
                        e.size > EncryptedSize(declared.plaintext_size);
    if (*zeros && !longer) {
      e.state = Verdict::kInTransit;
      e.detail = "its last " + std::to_string(kPreallocatedTailBytes) +
                 " bytes are zero, where a complete file ends with its final chunk's tag: a "
                 "copy that preallocated the file has not written its end yet";
      return e;
    }
  }
  if (std::string bad = DecodeEncHeader(head, &e.header); !bad.empty()) return Corrupt(e, bad);
  e.expected = EncryptedSize(e.header.plaintext_size);
  if (e.size > e.expected) {  // ENC-7
    return Corrupt(e, "bytes after the final chunk: " + std::to_string(e.size) +
                          " bytes, the header says " + std::to_string(e.expected));
  }
  const MasterKey* key = keys ? keys->Find(e.header.key_id) : nullptr;
  e.key_known = key != nullptr;
  if (e.size < e.expected) {  // ENC-6
    e.state = Verdict::kInTransit;
    e.detail = std::to_string(e.size) + " of " + std::to_string(e.expected) +
               " encrypted bytes present";
  }
  if (key == nullptr) {
    if (e.state == Verdict::kValid) {
      e.state = Verdict::kIoError;
      e.io = NoKey(raw.path(), e.header, keys);
      e.detail = e.io.message();
    }
    return e;
  }
  Result<std::array<uint8_t, kKeyBytes>> fk = DeriveFileKey(*key, e.header);
  if (!fk.ok()) {
    e.state = Verdict::kIoError;
    e.io = fk.status();
    return e;
  }
  *aead = std::make_unique<Aead>();
  Status init = (*aead)->Init(e.header.algorithm, *fk, head);
  OPENSSL_cleanse(fk->data(), fk->size());
  if (!init.ok()) {
    e.state = Verdict::kIoError;
    e.io = init;
  }
  *header_bytes = std::move(head);
  return e;
}

// ENC-7: a short file whose last 48 bytes verify as its final chunk has
// lost bytes before it (a dropped chunk): complete by its final chunk,
// corrupt by its size. The tail of a file cut short is a data chunk's bytes,
// which never verify under the final flag.
bool EndsWithFinal(ReadableFile& raw, Aead& aead, const Envelope& e) {
  if (e.size < kEncHeaderBytes + kFinalChunkBytes) return false;
  char fin[kFinalChunkBytes];
  if (!RawRead(raw, e.size - kFinalChunkBytes, fin, sizeof fin).ok()) return false;
  return aead.OpenFinal(DataChunks(e.header.plaintext_size), fin);
}

class EncryptingFile final : public WritableFile {
 public:
  EncryptingFile(std::unique_ptr<WritableFile> raw, uint64_t plaintext)
      : raw_(std::move(raw)), plaintext_(plaintext) {}

  Status Start(const EncryptionKey& k) {
    EncHeader h;
    h.algorithm = k.algorithm;
    h.key_id = k.key.id;
    h.plaintext_size = plaintext_;
    if (plaintext_ > kMaxPlaintext) {
      return Status(Code::kInternal, Problem("cannot encrypt", raw_->path(), "file over 1 TiB"));
    }
    AERO_RETURN_IF_ERROR(RandomBytes(h.salt.data(), h.salt.size(), "the salt of " + raw_->path()));  // ENC-3
    const std::string header = EncodeEncHeader(h);
    AERO_ASSIGN_OR_RETURN(auto fk, DeriveFileKey(k.key, h));
    Status init = aead_.Init(h.algorithm, fk, header);
    OPENSSL_cleanse(fk.data(), fk.size());
    AERO_RETURN_IF_ERROR(init);
    buf_.reserve(kChunkBytes);
    out_.resize(std::min<uint64_t>(kOutChunks, plaintext_ / kChunkBytes + 1) * (kChunkBytes + kTagBytes));
    AERO_RETURN_IF_ERROR(raw_->Append(header));
    if (plaintext_ == 0) return Finish();
    return Status::Ok();
  }

  Status Append(std::string_view data) override {
    if (data.size() > plaintext_ - appended_) {
      return Status(Code::kInternal, Problem("cannot encrypt", raw_->path(),
                                             "more bytes than the header declares"));
    }
    while (!data.empty()) {
      if (buf_.empty() && data.size() >= kChunkBytes) {  // a whole chunk: no copy
        AERO_RETURN_IF_ERROR(SealChunk(data.data(), kChunkBytes));
        data.remove_prefix(kChunkBytes);
        continue;
      }
      const size_t take = std::min(kChunkBytes - buf_.size(), data.size());
      buf_.append(data.data(), take);
      data.remove_prefix(take);
      if (buf_.size() == kChunkBytes || appended_ + buf_.size() == plaintext_) {
        AERO_RETURN_IF_ERROR(SealChunk(buf_.data(), buf_.size()));
        buf_.clear();
      }
    }
    if (appended_ == plaintext_ && !done_) return Finish();
    return Status::Ok();
  }

  Status Sync() override {
    if (!done_) {
      return Status(Code::kInternal, Problem("cannot encrypt", raw_->path(),
                                             "synced before the whole plaintext was written"));
    }
    return raw_->Sync();
  }
  Status Close() override { return raw_->Close(); }
  const std::string& path() const override { return raw_->path(); }

 private:
  // Sealed chunks collect in out_ and go to the file kOutChunks at a time:
  // one write per ~1 MiB, not one per 64 KiB chunk (the speed of ENC-12's
  // writer; what is written, and when it is durable, is unchanged).
  Status SealChunk(const char* p, size_t n) {
    if (!aead_.Seal(index_, false, p, n, out_.data() + out_used_)) {
      return Status(Code::kInternal, Problem("cannot encrypt", raw_->path(), "OpenSSL failed"));
    }
    ++index_;
    appended_ += n;
    out_used_ += n + kTagBytes;
    if (out_.size() - out_used_ < kChunkBytes + kTagBytes) return FlushSealed();
    return Status::Ok();
  }

  Status FlushSealed() {
    const size_t n = out_used_;
    out_used_ = 0;
    return n == 0 ? Status::Ok() : raw_->Append(std::string_view(out_.data(), n));
  }

  Status Finish() {  // ENC-4, ENC-8: the final chunk is an empty plaintext, no digest
    if (out_.size() - out_used_ < kFinalChunkBytes) AERO_RETURN_IF_ERROR(FlushSealed());
    if (!aead_.Seal(index_, true, nullptr, 0, out_.data() + out_used_)) {
      return Status(Code::kInternal, Problem("cannot encrypt", raw_->path(), "OpenSSL failed"));
    }
    out_used_ += kFinalChunkBytes;
    done_ = true;
    return FlushSealed();
  }

  std::unique_ptr<WritableFile> raw_;
  Aead aead_;
  uint64_t plaintext_;
  uint64_t appended_ = 0;
  uint64_t index_ = 0;
  bool done_ = false;
  std::string buf_;
  static constexpr size_t kOutChunks = 16;
  std::string out_;  // sealed chunks not yet written (out_used_ bytes)
  size_t out_used_ = 0;
};

class DecryptingFile final : public PositionalReadableFile {
 public:
  explicit DecryptingFile(std::unique_ptr<ReadableFile> raw) : raw_(std::move(raw)) {}

  ReadableFile& raw() { return *raw_; }
  const KeyStore* keys() const { return keys_; }

  void Judge(const KeyStore* keys) {
    keys_ = keys;
    env_ = Frame(*raw_, keys, &header_, &aead_);
    const uint64_t P = env_.header.plaintext_size;
    const uint64_t n = DataChunks(P);
    switch (env_.state) {
      case Verdict::kCorrupt:
        fail_ = Status(Code::kDamage, Problem("corrupt encrypted file", raw_->path(), env_.detail),
                       "replace the file from its source");
        visible_ = env_.size;
        return;
      case Verdict::kIoError:
        fail_ = env_.io;
        visible_ = env_.size;
        return;
      case Verdict::kInTransit: {
        if (!aead_) return;  // no key, or no header: nothing can be shown
        if (EndsWithFinal(*raw_, *aead_, env_)) {
          SetCorrupt("chunks missing before the final chunk");
          return;
        }
        // ENC-6: the complete data chunks present, and never the whole plaintext.
        uint64_t complete = 0;
        while (complete < n && ChunkOffset(complete) + ChunkPlain(P, complete) + kTagBytes <=
                                   env_.size) {
          ++complete;
        }
        const uint64_t covered = std::min<uint64_t>(P, complete * kChunkBytes);
        visible_ = std::min<uint64_t>(covered, P == 0 ? 0 : P - 1);
        if (complete > 0) Precheck(0);  // authenticates the header
        return;
      }
      case Verdict::kValid: break;
    }
    // ENC-7: a file of its declared size ends with the final chunk.
    char fin[kFinalChunkBytes];
    Status s = RawRead(*raw_, env_.expected - kFinalChunkBytes, fin, sizeof fin);
    if (!s.ok()) {
      ReadFailed(env_, s);
      fail_ = s;
      return;
    }
    if (!aead_->OpenFinal(n, fin)) {
      SetCorrupt("final chunk fails authentication");
      return;
    }
    visible_ = P;
    // The first and the last data chunks now, so that a reader of a
    // format's header and trailer meets damage here, as a verdict, and not
    // as a read error.
    if (n > 0) Precheck(0);
    if (n > 1) Precheck(n - 1);
    if (n > 2) Precheck(n - 2);
  }

  const Envelope& envelope() const { return env_; }

  bool SupportsReadAt() const override { return true; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (!fail_.ok()) return fail_;
    if (offset >= visible_) return size_t{0};
    n = static_cast<size_t>(std::min<uint64_t>(n, visible_ - offset));
    std::lock_guard<std::mutex> lock(mu_);
    size_t done = 0;
    while (done < n) {
      const uint64_t at = offset + done;
      const uint64_t index = at >> kChunkShift;
      AERO_RETURN_IF_ERROR(LoadChunk(index));
      const size_t in = static_cast<size_t>(at & (kChunkBytes - 1));
      const size_t take = std::min(n - done, cache_.size() - in);
      std::memcpy(buf + done, cache_.data() + in, take);
      done += take;
    }
    return done;
  }

  Result<uint64_t> Size() override { return visible_; }
  Result<FileInfo> Info() override {
    AERO_ASSIGN_OR_RETURN(FileInfo info, raw_->Info());
    info.size = visible_;
    return info;
  }
  Status Sync() override { return raw_->Sync(); }
  const std::string& path() const override { return raw_->path(); }

 private:
  void SetCorrupt(const std::string& detail) {
    env_.state = Verdict::kCorrupt;
    env_.detail = detail;
    fail_ = Status(Code::kDamage, Problem("corrupt encrypted file", raw_->path(), detail),
                   "replace the file from its source");
    visible_ = env_.size;
  }

  void Precheck(uint64_t index) {
    std::lock_guard<std::mutex> lock(mu_);
    Status s = LoadChunk(index);
    if (s.ok()) return;
    if (s.code() == Code::kDamage) {
      SetCorrupt("chunk " + std::to_string(index) + " fails authentication");
    } else {
      ReadFailed(env_, s);  // a cut is in transit (FM-20)
      fail_ = s;
    }
  }

  // ENC-5: chunk `index` into cache_, only once its tag verified.
  Status LoadChunk(uint64_t index) {
    if (cache_index_ == index) return Status::Ok();
    cache_index_ = UINT64_MAX;
    const uint64_t P = env_.header.plaintext_size;
    const size_t len = ChunkPlain(P, index);
    scratch_.resize(len + kTagBytes);
    AERO_RETURN_IF_ERROR(RawRead(*raw_, ChunkOffset(index), scratch_.data(), scratch_.size()));
    plain_.resize(len);
    if (!aead_->Open(index, false, scratch_.data(), len, plain_.data())) {
      OPENSSL_cleanse(plain_.data(), plain_.size());  // nothing of a failed chunk is released
      return Status(Code::kDamage,
                    Problem("corrupt encrypted file", raw_->path(),
                            "chunk " + std::to_string(index) + " fails authentication"),
                    "replace the file from its source");
    }
    cache_.swap(plain_);
    cache_index_ = index;
    return Status::Ok();
  }

  std::unique_ptr<ReadableFile> raw_;
  const KeyStore* keys_ = nullptr;
  Envelope env_;
  std::string header_;
  std::unique_ptr<Aead> aead_;
  Status fail_;
  uint64_t visible_ = 0;
  std::mutex mu_;
  uint64_t cache_index_ = UINT64_MAX;
  std::string cache_, plain_, scratch_;
};

}  // namespace

std::string EncodeEncHeader(const EncHeader& h) {
  std::string b(kEncHeaderBytes, '\0');
  std::memcpy(b.data(), kEncMagic.data(), kEncMagic.size());
  EncodeFixed16(b.data() + kOffVersion, kEncVersion);
  EncodeFixed16(b.data() + kOffHeaderSize, kEncHeaderBytes);
  b[kOffAlgorithm] = static_cast<char>(h.algorithm);
  b[kOffChunkShift] = static_cast<char>(kChunkShift);
  EncodeFixed16(b.data() + kOffFlags, 0);
  std::memcpy(b.data() + kOffKeyId, h.key_id.data(), kKeyIdBytes);
  std::memcpy(b.data() + kOffSalt, h.salt.data(), kSaltBytes);
  EncodeFixed64(b.data() + kOffPlaintextSize, h.plaintext_size);
  EncodeFixed32(b.data() + kEncHeaderCrcOffset, Crc32(b.data(), kEncHeaderCrcOffset));
  return b;
}

std::string DecodeEncHeader(std::string_view b, EncHeader* out) {  // ENC-1
  if (b.size() < kEncHeaderBytes || b.substr(0, kEncMagic.size()) != kEncMagic) return "bad magic";
  if (DecodeFixed32(b.data() + kEncHeaderCrcOffset) != Crc32(b.data(), kEncHeaderCrcOffset)) {
    return "header checksum";
  }
  if (DecodeFixed16(b.data() + kOffVersion) != kEncVersion) return "unknown version";
  if (DecodeFixed16(b.data() + kOffHeaderSize) != kEncHeaderBytes) return "unknown header size";
  const auto alg = static_cast<uint8_t>(b[kOffAlgorithm]);
  if (alg != static_cast<uint8_t>(Algorithm::kAes256Gcm) &&
      alg != static_cast<uint8_t>(Algorithm::kChaCha20Poly1305)) {
    return "unknown algorithm " + std::to_string(alg);
  }
  if (static_cast<uint8_t>(b[kOffChunkShift]) != kChunkShift) return "unknown chunk size";
  if (DecodeFixed16(b.data() + kOffFlags) != 0) return "unknown flags";
  for (size_t i = 0; i < kReservedBytes; ++i) {
    if (b[kOffReserved + i] != 0) return "non-zero reserved bytes";
  }
  EncHeader h;
  h.algorithm = static_cast<Algorithm>(alg);
  std::memcpy(h.key_id.data(), b.data() + kOffKeyId, kKeyIdBytes);
  std::memcpy(h.salt.data(), b.data() + kOffSalt, kSaltBytes);
  h.plaintext_size = DecodeFixed64(b.data() + kOffPlaintextSize);
  if (h.plaintext_size > kMaxPlaintext) return "plaintext_size over 2^40";
  *out = h;
  return "";
}

const char* AlgorithmName(Algorithm a) {
  return a == Algorithm::kChaCha20Poly1305 ? "chacha20-poly1305" : "aes-256-gcm";
}

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  if (name == "aes-256-gcm") return Algorithm::kAes256Gcm;
  if (name == "chacha20-poly1305") return Algorithm::kChaCha20Poly1305;
  return std::nullopt;
}

Result<std::array<uint8_t, kKeyBytes>> DeriveFileKey(const MasterKey& master,
                                                     const EncHeader& h) {  // ENC-3
  static EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (hkdf == nullptr) return Status(Code::kIo, "OpenSSL offers no HKDF");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(hkdf);
  if (ctx == nullptr) return Status(Code::kIo, "cannot allocate a KDF context");
  std::string info(kFileKeyInfo);
  info.push_back(static_cast<char>(h.algorithm));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<uint8_t*>(master.bytes.data()),
                                        master.bytes.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(h.salt.data()),
                                        h.salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::array<uint8_t, kKeyBytes> out{};
  const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (rc != 1) return Status(Code::kIo, "HKDF failed");
  return out;
}

Result<std::unique_ptr<WritableFile>> OpenEncrypting(std::unique_ptr<WritableFile> raw,
                                                     const EncryptionKey& key,
                                                     uint64_t plaintext_size) {
  auto f = std::make_unique<EncryptingFile>(std::move(raw), plaintext_size);
  AERO_RETURN_IF_ERROR(f->Start(key));
  return std::unique_ptr<WritableFile>(std::move(f));
}

Result<bool> IsEnvelope(ReadableFile& file) {
  AERO_ASSIGN_OR_RETURN(uint64_t size, file.Size());
  // 5..7 bytes that begin the envelope magic begin no other format's
  // ("AERO" is every magic's): a copy of an envelope in progress, judged
  // as one (in transit), never as a plain file with a bad magic.
  if (size < kEncMagicOwnPrefix) return false;
  char magic[8];
  const size_t n = static_cast<size_t>(std::min<uint64_t>(size, sizeof magic));
  AERO_RETURN_IF_ERROR(RawRead(file, 0, magic, n));
  return std::string_view(magic, n) == kEncMagic.substr(0, n);
}

std::unique_ptr<ReadableFile> OpenDecrypting(std::unique_ptr<ReadableFile> raw,
                                             const KeyStore* keys) {
  auto f = std::make_unique<DecryptingFile>(std::move(raw));
  f->Judge(keys);
  return f;
}

const Envelope* EnvelopeOf(ReadableFile& file) {
  auto* d = dynamic_cast<DecryptingFile*>(&file);
  return d ? &d->envelope() : nullptr;
}

Result<FileInfo> RawInfo(ReadableFile& file) {
  auto* d = dynamic_cast<DecryptingFile*>(&file);
  return d ? d->raw().Info() : file.Info();
}

Status EnvelopeStatus(ReadableFile& file, const std::string& what) {
  const Envelope* e = EnvelopeOf(file);
  if (e == nullptr) return Status::Ok();
  switch (e->state) {
    case Verdict::kValid: return Status::Ok();
    case Verdict::kInTransit:
      return Status(Code::kInTransit,
                    Problem(what + " in transit", file.path(), "encrypted file: " + e->detail),
                    "re-run once the copy has finished");
    case Verdict::kCorrupt:
      return Status(Code::kDamage,
                    Problem("invalid " + what, file.path(), "encrypted file: " + e->detail),
                    "get a good copy of the file");
    case Verdict::kIoError: return e->io;
  }
  return Status::Ok();
}

std::optional<Envelope> CheckWhole(ReadableFile& view) {
  auto* d = dynamic_cast<DecryptingFile*>(&view);
  if (d == nullptr) return std::nullopt;
  return CheckEnvelope(d->raw(), d->keys());
}

Envelope CheckEnvelope(ReadableFile& raw, const KeyStore* keys) {  // ENC-9
  std::string header;
  std::unique_ptr<Aead> aead;
  Envelope e = Frame(raw, keys, &header, &aead);
  if (e.state == Verdict::kCorrupt || !aead) {
    // ENC-9: with no key directory given, the framing is all verify can
    // check; a directory given without the file's key is apply-wal's 5.
    if (!e.key_known && !e.keys_given && e.state == Verdict::kIoError && e.io.code() == Code::kRefused) {
      e.state = Verdict::kValid;  // the framing checks out; the rest is unchecked
      e.io = Status::Ok();
      e.detail.clear();
    }
    return e;
  }
  // A short file (ENC-6): the chunks present must still verify.
  if (e.state == Verdict::kInTransit && EndsWithFinal(raw, *aead, e)) {
    return Corrupt(e, "chunks missing before the final chunk");
  }
  const uint64_t P = e.header.plaintext_size;
  const uint64_t n = DataChunks(P);
  std::string ct(kChunkBytes + kTagBytes, '\0'), pt(kChunkBytes, '\0');
  for (uint64_t i = 0; i < n; ++i) {
    const size_t len = ChunkPlain(P, i);
    if (ChunkOffset(i) + len + kTagBytes > e.size) return e;  // in transit: the rest is absent
    if (Status s = RawRead(raw, ChunkOffset(i), ct.data(), len + kTagBytes); !s.ok()) {
      ReadFailed(e, s);
      return e;
    }
    if (!aead->Open(i, false, ct.data(), len, pt.data())) {
      return Corrupt(e, "chunk " + std::to_string(i) + " fails authentication");
    }
  }
  if (e.state != Verdict::kValid) return e;
  if (Status s = RawRead(raw, e.expected - kFinalChunkBytes, ct.data(), kFinalChunkBytes); !s.ok()) {
    ReadFailed(e, s);
    return e;
  }
  if (!aead->OpenFinal(n, ct.data())) {
    return Corrupt(e, "final chunk fails authentication");
  }
  OPENSSL_cleanse(pt.data(), pt.size());
  return e;
}

}  // namespace aero::crypto
