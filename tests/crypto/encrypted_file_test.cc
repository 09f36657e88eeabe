// The encryption envelope (formats/encrypted-file.md, ENC-1..ENC-13).
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/coding.h"
#include "common/crc32.h"
#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"
#include "repl/apply.h"
#include "repl/ship.h"
#include "repl/verify.h"
#include "segment/segment.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"
#include "support/string_file.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::crypto;
using namespace aero::testing;

namespace {

// An in-memory WritableFile.
class StringSink final : public WritableFile {
 public:
  Status Append(std::string_view d) override {
    data.append(d);
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  const std::string& path() const override { return path_; }
  std::string data;

 private:
  std::string path_ = "mem.enc";
};

MasterKey KeyOf(uint8_t first) {
  MasterKey k;
  for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(first + i);
  k.id = KeyIdOf(k.bytes);
  k.path = "key" + std::to_string(first);
  return k;
}

std::string Plain(size_t n, uint32_t seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

std::string Encrypt(const std::string& plain, const MasterKey& key,
                    Algorithm alg = Algorithm::kAes256Gcm, size_t piece = 1000) {
  auto sink = std::make_unique<StringSink>();
  StringSink* out = sink.get();
  EncryptionKey ek{key, alg};
  auto w = OpenEncrypting(std::move(sink), ek, plain.size());
  REQUIRE(w.ok());
  for (size_t at = 0; at < plain.size(); at += piece) {
    REQUIRE((*w)->Append(std::string_view(plain).substr(at, piece)).ok());
  }
  REQUIRE((*w)->Sync().ok());
  REQUIRE((*w)->Close().ok());
  std::string bytes = out->data;
  return bytes;
}

KeyStore StoreOf(const MasterKey& k) {
  KeyStore ks;
  ks.Add(k);
  return ks;
}

// The whole plaintext through the view, or the status that stopped it.
Result<std::string> ReadAll(const std::string& bytes, const KeyStore* keys, size_t stride = 0) {
  auto view = OpenDecrypting(std::make_unique<StringFile>(bytes, "f.enc", stride), keys);
  AERO_RETURN_IF_ERROR(EnvelopeStatus(*view, "file"));
  AERO_ASSIGN_OR_RETURN(uint64_t size, view->Size());
  std::string out;
  char buf[7000];
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t got, view->Read(buf, sizeof buf));
    if (got == 0) break;
    out.append(buf, got);
  }
  if (out.size() != size) return Status(Code::kInternal, "short read");
  return out;
}

// The one verdict: CheckEnvelope's (the whole file), and the view's (its
// open-time verdict, then every chunk read) must agree.
Verdict JudgeBoth(const std::string& bytes, const KeyStore* keys) {
  StringFile raw(bytes, "f.enc");
  const Envelope whole = CheckEnvelope(raw, keys);
  Result<std::string> read = ReadAll(bytes, keys);
  Verdict v = Verdict::kValid;
  if (!read.ok()) {
    v = read.status().code() == Code::kInTransit ? Verdict::kInTransit
        : read.status().code() == Code::kDamage  ? Verdict::kCorrupt
                                                  : Verdict::kIoError;
  }
  // A short file that the view shows as a strict prefix is in transit too.
  auto view = OpenDecrypting(std::make_unique<StringFile>(bytes, "f.enc"), keys);
  if (v == Verdict::kValid && EnvelopeOf(*view)->state == Verdict::kInTransit) {
    v = Verdict::kInTransit;
  }
  CAPTURE(whole.detail);
  CHECK(VerdictName(whole.state) == std::string(VerdictName(v)));
  return whole.state;
}

std::string FixCrc(std::string bytes) {
  EncodeFixed32(bytes.data() + kEncHeaderCrcOffset, Crc32(bytes.data(), kEncHeaderCrcOffset));
  return bytes;
}

}  // namespace

TEST_CASE("ENC-2 ENC-3 the key id and the file key are the spec's (vectors from Python's hmac)") {
  // Computed with Python's hashlib and hmac (RFC 5869 written out), not OpenSSL:
  // key = 00 01 .. 1f, salt = 20 21 .. 3f.
  MasterKey k = KeyOf(0);
  CHECK(KeyIdHex(k.id) == "b9172244615777e4bc5d32c33fb6c174");
  EncHeader h;
  for (size_t i = 0; i < h.salt.size(); ++i) h.salt[i] = static_cast<uint8_t>(32 + i);
  h.algorithm = Algorithm::kAes256Gcm;
  auto fk = DeriveFileKey(k, h);
  REQUIRE(fk.ok());
  CHECK(ToHex(*fk) == "3d15ba35c89ad105ea67becbe1eee7464223e96a4c201510df59a9acd28ebbcc");
  h.algorithm = Algorithm::kChaCha20Poly1305;
  fk = DeriveFileKey(k, h);
  REQUIRE(fk.ok());
  CHECK(ToHex(*fk) == "cf4ba87ef5c581ab2f12993cfedb65eb5d47a15e881792d8dd34c406d41ce1b1");
}

TEST_CASE("ENC-3 two encryptions of one plaintext differ, both decrypt") {
  const MasterKey k = KeyOf(1);
  const KeyStore ks = StoreOf(k);
  const std::string p = Plain(100000);
  const std::string a = Encrypt(p, k), b = Encrypt(p, k);
  CHECK(a.size() == b.size());
  CHECK(a != b);
  CHECK(a.substr(kOffSalt, kSaltBytes) != b.substr(kOffSalt, kSaltBytes));
  CHECK(*ReadAll(a, &ks) == p);
  CHECK(*ReadAll(b, &ks) == p);
}

TEST_CASE("ENC-4 round trip at every size around the chunk boundaries, both algorithms") {
  const MasterKey k = KeyOf(2);
  const KeyStore ks = StoreOf(k);
  for (Algorithm alg : {Algorithm::kAes256Gcm, Algorithm::kChaCha20Poly1305}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537},
                     size_t{131072}, size_t{131073}, size_t{200000}}) {
      CAPTURE(n);
      const std::string p = Plain(n, static_cast<uint32_t>(n));
      for (size_t piece : {size_t{1} << 20, size_t{4093}}) {
        const std::string e = Encrypt(p, k, alg, piece);
        CHECK(e.size() == EncryptedSize(n));
        CHECK(static_cast<uint8_t>(e[kOffAlgorithm]) == static_cast<uint8_t>(alg));
        for (size_t stride : {size_t{0}, size_t{1000}}) {
          Result<std::string> back = ReadAll(e, &ks, stride);
          REQUIRE(back.ok());
          CHECK(*back == p);
        }
        StringFile raw(e);
        const Envelope env = CheckEnvelope(raw, &ks);
        CHECK(env.state == Verdict::kValid);
      }
    }
  }
}

TEST_CASE("ENC-1 every header byte changed is corrupt, with or without the key") {
  const MasterKey k = KeyOf(3);
  const KeyStore ks = StoreOf(k);
  const std::string e = Encrypt(Plain(70000), k);
  int cases = 0;
  for (size_t i = 0; i < kEncHeaderBytes; ++i) {
    CAPTURE(i);
    std::string bad = e;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    if (i < kEncMagic.size()) {
      // Not an envelope any more: the plain format's rules read it.
      StringFile f(bad);
      CHECK_FALSE(*IsEnvelope(f));
      continue;
    }
    CHECK(JudgeBoth(bad, &ks) == Verdict::kCorrupt);
    StringFile raw(bad);
    CHECK(CheckEnvelope(raw, nullptr).state == Verdict::kCorrupt);  // the CRC, without the key
    ++cases;
  }
  // A field changed and its CRC fixed: a fixed field is refused by the
  // framing alone; another key id has no key; the salt passes the framing
  // and fails every tag with the key (the header is the associated data,
  // ENC-4); the size disagrees with the file's.
  for (size_t i = kEncMagic.size(); i < kEncHeaderCrcOffset; ++i) {
    CAPTURE(i);
    std::string bad = e;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    bad = FixCrc(bad);
    StringFile raw(bad);
    const Envelope keyless = CheckEnvelope(raw, nullptr);
    const Envelope keyed = CheckEnvelope(raw, &ks);
    if (i < kOffKeyId || i >= kOffReserved) {
      CHECK(keyless.state == Verdict::kCorrupt);
      CHECK(keyed.state == Verdict::kCorrupt);
    } else if (i < kOffSalt) {
      CHECK(keyless.state == Verdict::kValid);
      CHECK_FALSE(keyed.key_known);  // no key has that id
      // ENC-9: a key directory without it is apply-wal's 5; none, the framing only.
      if (ks.where().empty()) {
        CHECK(keyed.state == Verdict::kValid);
      } else {
        CHECK(keyed.state == Verdict::kIoError);
        CHECK(keyed.io.code() == Code::kRefused);
      }
    } else if (i < kOffPlaintextSize) {
      CHECK(keyless.state == Verdict::kValid);
      CHECK(JudgeBoth(bad, &ks) == Verdict::kCorrupt);
    } else {
      CHECK(keyless.state != Verdict::kValid);
      CHECK(JudgeBoth(bad, &ks) != Verdict::kValid);
    }
    ++cases;
  }
  MESSAGE("ENC-1 header tamper cases: " << cases);
}

TEST_CASE("ENC-5 every byte of every chunk and tag flipped is corrupt, and no byte of that chunk is released") {
  const MasterKey k = KeyOf(4);
  const KeyStore ks = StoreOf(k);
  const size_t P = 2 * kChunkBytes + 5000;  // three data chunks, the last one short
  const std::string p = Plain(P);
  const std::string e = Encrypt(p, k);
  int cases = 0;
  for (size_t at = kEncHeaderBytes; at < e.size(); ++at) {
    const size_t rel = (at - kEncHeaderBytes) % (kChunkBytes + kTagBytes);
    const bool tag = rel >= kChunkBytes || at + kTagBytes >= e.size() ||
                     (at >= kEncHeaderBytes + P + 2 * kTagBytes && at < e.size() - kFinalChunkBytes);
    const bool edge = rel < 4 || at + 70 >= e.size();
    // Every tag byte, every byte of the final chunk and of chunk edges, and
    // every 61st byte of the ciphertext.
    if (!tag && !edge && at % 61 != 0) continue;
    CAPTURE(at);
    std::string bad = e;
    bad[at] = static_cast<char>(bad[at] ^ 0x80);
    CHECK(JudgeBoth(bad, &ks) == Verdict::kCorrupt);
    // The chunk that holds the byte gives nothing when read alone.
    const uint64_t index = (at - kEncHeaderBytes) / (kChunkBytes + kTagBytes);
    if (index < DataChunks(P)) {
      auto view = OpenDecrypting(std::make_unique<StringFile>(bad), &ks);
      std::string buf(1000, '\xAA');
      Result<size_t> got = view->ReadAt(index * kChunkBytes, buf.data(), buf.size());
      CHECK_FALSE(got.ok());
      CHECK(buf == std::string(1000, '\xAA'));
    }
    ++cases;
  }
  MESSAGE("ENC-5 chunk and tag tamper cases: " << cases);
  CHECK(cases > 1500);
}

TEST_CASE("ENC-4 chunks reordered, duplicated, dropped or spliced from another file are corrupt") {
  const MasterKey k = KeyOf(5);
  const KeyStore ks = StoreOf(k);
  const size_t C = kChunkBytes + kTagBytes;
  const std::string p = Plain(3 * kChunkBytes + 100);
  const std::string e = Encrypt(p, k);
  auto chunk = [&](const std::string& f, size_t i) { return f.substr(kEncHeaderBytes + i * C, C); };
  auto with = [&](size_t i, const std::string& c) {
    std::string f = e;
    f.replace(kEncHeaderBytes + i * C, C, c);
    return f;
  };
  SUBCASE("reordered") { CHECK(JudgeBoth(with(0, chunk(e, 1)).replace(kEncHeaderBytes + C, C, chunk(e, 0)), &ks) == Verdict::kCorrupt); }
  SUBCASE("duplicated") { CHECK(JudgeBoth(with(2, chunk(e, 1)), &ks) == Verdict::kCorrupt); }
  SUBCASE("dropped") {
    std::string f = e;
    f.erase(kEncHeaderBytes + C, C);  // chunk 1 gone: short, but it ends with its final chunk
    CHECK(JudgeBoth(f, &ks) == Verdict::kCorrupt);
  }
  SUBCASE("the last data chunk dropped: every chunk left verifies, the final one ends it early") {
    std::string f = e;
    f.erase(kEncHeaderBytes + 3 * C, 100 + kTagBytes);
    CHECK(JudgeBoth(f, &ks) == Verdict::kCorrupt);
    f.erase(kEncHeaderBytes + 2 * C, C);  // and the one before it
    CHECK(JudgeBoth(f, &ks) == Verdict::kCorrupt);
  }
  SUBCASE("spliced from another encryption of the same plaintext") {
    const std::string other = Encrypt(p, k);
    CHECK(JudgeBoth(with(1, chunk(other, 1)), &ks) == Verdict::kCorrupt);
  }
  SUBCASE("the final chunk of another file") {
    const std::string other = Encrypt(p, k);
    std::string f = e;
    f.replace(f.size() - kFinalChunkBytes, kFinalChunkBytes, other.substr(other.size() - kFinalChunkBytes));
    CHECK(JudgeBoth(f, &ks) == Verdict::kCorrupt);
  }
}

TEST_CASE("ENC-6 ENC-7 a cut at every chunk boundary and inside every chunk is in transit") {
  const MasterKey k = KeyOf(6);
  const KeyStore ks = StoreOf(k);
  const size_t C = kChunkBytes + kTagBytes;
  for (size_t P : {size_t{3} * kChunkBytes, size_t{3} * kChunkBytes + 777}) {
    CAPTURE(P);
    const std::string p = Plain(P);
    const std::string e = Encrypt(p, k);
    std::vector<size_t> cuts = {8, 9, 50, kEncHeaderBytes - 1};
    for (size_t i = 0; i <= DataChunks(P); ++i) {
      const size_t start = kEncHeaderBytes + i * C;  // a chunk boundary (the last: the final chunk's start)
      if (start >= e.size()) break;
      cuts.push_back(start);
      cuts.push_back(start + 1);
      cuts.push_back(std::min(start + C / 2, e.size() - 1));  // inside the chunk
      cuts.push_back(std::min(start + C - 1, e.size() - 1));  // its last byte missing
    }
    cuts.push_back(e.size() - kFinalChunkBytes);  // only the final chunk missing
    cuts.push_back(e.size() - 1);
    int n = 0;
    for (size_t cut : cuts) {
      CAPTURE(cut);
      const std::string part = e.substr(0, cut);
      CHECK(JudgeBoth(part, &ks) == Verdict::kInTransit);
      StringFile raw(part);
      CHECK(CheckEnvelope(raw, nullptr).state == Verdict::kInTransit);
      // The view never shows the whole plaintext of a short file.
      auto view = OpenDecrypting(std::make_unique<StringFile>(part), &ks);
      CHECK(*view->Size() < P);
      ++n;
    }
    // Complete by its size, but the final chunk is not there: corrupt
    // (zeros there are a preallocated copy, ENC-33).
    std::string padded = e.substr(0, e.size() - kFinalChunkBytes) + std::string(kFinalChunkBytes, 'x');
    CHECK(JudgeBoth(padded, &ks) == Verdict::kCorrupt);
    CHECK(JudgeBoth(e, &ks) == Verdict::kValid);
    MESSAGE("ENC-6 cuts of a " << P << "-byte plaintext: " << n);
  }
}

TEST_CASE("ENC-7 bytes appended after the final chunk are corrupt") {
  const MasterKey k = KeyOf(7);
  const KeyStore ks = StoreOf(k);
  const std::string e = Encrypt(Plain(70000), k);
  for (const std::string& extra :
       {std::string(1, '\0'), std::string(kTagBytes, 'x'), e.substr(e.size() - kFinalChunkBytes)}) {
    CHECK(JudgeBoth(e + extra, &ks) == Verdict::kCorrupt);
    StringFile raw(e + extra);
    CHECK(CheckEnvelope(raw, nullptr).state == Verdict::kCorrupt);  // by its size, without the key
  }
}

TEST_CASE("ENC-8 the final chunk is an empty plaintext and a version-1 envelope is refused") {
  // The last 16 bytes are the tag of an empty plaintext under the final
  // nonce, computed here with EVP directly: no digest is in the file.
  const MasterKey k = KeyOf(8);
  const KeyStore ks = StoreOf(k);
  for (size_t n : {size_t{0}, size_t{1000}, kChunkBytes, kChunkBytes + 1}) {
    CAPTURE(n);
    const std::string p = Plain(n);
    const std::string e = Encrypt(p, k);
    REQUIRE(e.size() == kEncHeaderBytes + n + kTagBytes * DataChunks(n) + kTagBytes);
    EncHeader h;
    REQUIRE(DecodeEncHeader(e.substr(0, kEncHeaderBytes), &h).empty());
    auto fk = DeriveFileKey(k, h);
    REQUIRE(fk.ok());
    unsigned char nonce[12] = {0};
    nonce[10] = static_cast<unsigned char>(DataChunks(n));  // the index, big-endian (< 256 here)
    nonce[11] = 1;                                           // final
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    unsigned char tag[16];
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, fk->data(), nonce) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(e.data()), kEncHeaderBytes) == 1);
    REQUIRE(EVP_EncryptFinal_ex(ctx, tag, &len) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    CHECK(e.substr(e.size() - kTagBytes) == std::string(reinterpret_cast<const char*>(tag), 16));
    StringFile raw(e);
    CHECK(CheckEnvelope(raw, &ks).state == Verdict::kValid);
    // Version 1 (a 48-byte final chunk holding a digest): an unknown
    // version, with or without the key, even with its CRC made right.
    std::string v1 = e + std::string(32, 'd');
    v1[kOffVersion] = 1;
    const uint32_t crc = Crc32(v1.data(), kEncHeaderCrcOffset);
    for (int b = 0; b < 4; ++b) v1[kEncHeaderCrcOffset + b] = static_cast<char>(crc >> (8 * b));
    for (const KeyStore* keys : {&ks, static_cast<const KeyStore*>(nullptr)}) {
      StringFile old(v1);
      const Envelope env = CheckEnvelope(old, keys);
      CHECK(env.state == Verdict::kCorrupt);
      CHECK(env.detail.find("unknown version") != std::string::npos);
    }
  }
}

TEST_CASE("ENC-10 a key file of the wrong size or readable by others is refused") {
  TempDir t;
  const std::string good = t / "good.key";
  WriteFile(good, std::string(32, 'k'));
  REQUIRE(::chmod(good.c_str(), 0600) == 0);
  auto k = LoadKeyFile(good);
  REQUIRE(k.ok());
  CHECK(k->id == KeyIdOf(k->bytes));
  for (mode_t mode : {0640, 0604, 0644}) {
    REQUIRE(::chmod(good.c_str(), mode) == 0);
    auto r = LoadKeyFile(good);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kRefused);
    CHECK(r.status().hint().find("chmod 600") != std::string::npos);
  }
  for (size_t n : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
    const std::string bad = t / ("n" + std::to_string(n) + ".key");
    WriteFile(bad, std::string(n, 'k'));
    REQUIRE(::chmod(bad.c_str(), 0600) == 0);
    auto r = LoadKeyFile(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUsage);
  }
  CHECK(LoadKeyFile(t / "absent.key").status().code() == Code::kNotFound);
  // A symlink is followed to the operator's file (a Kubernetes secret
  // volume), its target's mode checked; a FIFO is 2 at once, never waited
  // on (a trial's FIFO hung six commands), a directory too.
  REQUIRE(::chmod(good.c_str(), 0600) == 0);
  std::filesystem::create_symlink(good, t / "link.key");
  auto linked = LoadKeyFile(t / "link.key");
  REQUIRE(linked.ok());
  CHECK(linked->id == k->id);
  REQUIRE(::mkfifo((t / "fifo.key").c_str(), 0600) == 0);
  REQUIRE(std::filesystem::create_directory(t / "dir.key"));
  for (const std::string& odd : {t / "fifo.key", t / "dir.key"}) {
    CAPTURE(odd);
    auto r = LoadKeyFile(odd);
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message() == "not a key file '" + odd + "': not a regular file");
  }
  REQUIRE(std::filesystem::create_directory(t / "keys"));
  std::filesystem::copy_file(good, t / "keys/a.key");
  REQUIRE(::mkfifo((t / "keys/b.key").c_str(), 0600) == 0);
  auto dir = KeyStore::LoadDir(t / "keys");
  CHECK(dir.status().code() == Code::kUsage);  // the FIFO among the keys: refused, not waited on
  CHECK(dir.status().message().find("b.key': not a regular file") != std::string::npos);
}

TEST_CASE("ENC-11 after rotation the old key still reads old files, a missing key is 5") {
  TempDir t;
  const MasterKey old_key = KeyOf(10), new_key = KeyOf(60);
  const std::string p1 = Plain(5000, 1), p2 = Plain(5000, 2);
  const std::string f1 = Encrypt(p1, old_key), f2 = Encrypt(p2, new_key);
  REQUIRE(PosixFs().MakeDir(t / "keys").ok());
  for (const MasterKey* k : {&old_key, &new_key}) {
    const std::string path = t / ("keys/" + KeyIdHex(k->id).substr(0, 8) + ".key");
    WriteFile(path, std::string(reinterpret_cast<const char*>(k->bytes.data()), 32));
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
  }
  WriteFile(t / "keys/README", "not a key");  // ignored: not *.key
  auto both = KeyStore::LoadDir(t / "keys");
  REQUIRE(both.ok());
  CHECK(*ReadAll(f1, &*both) == p1);
  CHECK(*ReadAll(f2, &*both) == p2);
  // The old key retired from the directory: its files are refused, never damage.
  const KeyStore only_new = StoreOf(new_key);
  Result<std::string> r = ReadAll(f1, &only_new);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRefused);
  CHECK(r.status().message().find(KeyIdHex(old_key.id)) != std::string::npos);
  CHECK_FALSE(r.status().hint().empty());
  CHECK(ReadAll(f1, nullptr).status().code() == Code::kRefused);
  CHECK(KeyStore::LoadDir(t / "absent").status().code() == Code::kNotFound);
}

TEST_CASE("ENC-13 a wrong key under the right key id is corrupt, nothing released") {
  const MasterKey right = KeyOf(20);
  MasterKey wrong = KeyOf(21);
  wrong.id = right.id;  // filed under the right id
  const KeyStore ks = StoreOf(wrong);
  const std::string e = Encrypt(Plain(100000), right);
  CHECK(JudgeBoth(e, &ks) == Verdict::kCorrupt);
  auto view = OpenDecrypting(std::make_unique<StringFile>(e), &ks);
  std::string buf(100, '\xAA');
  CHECK_FALSE(view->ReadAt(0, buf.data(), buf.size()).ok());
  CHECK(buf == std::string(100, '\xAA'));
}

namespace {

repl::ShipOptions EncryptedShip(const std::string& p, const std::string& out,
                                const EncryptionKey* key, uint64_t max_bytes) {
  repl::ShipOptions o;
  o.data_dir = p;
  o.target = out;
  o.max_segment_bytes = max_bytes;
  o.encryption = key;
  return o;
}

Status ApplyWith(const std::string& replica, const std::string& inbox, const KeyStore& keys,
                 repl::ApplyReport* rep = nullptr) {
  DecryptingFs fs(PosixFs(), &keys);
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  return repl::ApplyWal(fs, o, rep);
}

}  // namespace

TEST_CASE("ENC-12 ship-wal --encryption-key writes envelopes that apply-wal reads back, both algorithms, and a re-ship is recognised") {
  for (Algorithm alg : {Algorithm::kAes256Gcm, Algorithm::kChaCha20Poly1305}) {
    TempDir t;
    MakePrimary(t / "p", 60);
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
    const EncryptionKey key{KeyOf(30), alg};
    repl::ShipReport rep;
    REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 4000), &rep).ok());
    REQUIRE(rep.segments.size() > 2);
    for (const auto& s : rep.segments) {
      const std::string bytes = ReadFile(t / "out" / s.name());
      CHECK(bytes.substr(0, 8) == kEncMagic);
      CHECK(s.encrypted);
      CHECK(s.bytes == bytes.size());
    }
    const KeyStore ks = StoreOf(key.key);
    REQUIRE(ApplyWith(t / "r", t / "out", ks).ok());
    CheckSameHistory(t / "p", t / "r");
    // LOG-28: a later run passes the judged envelopes without opening them.
    REQUIRE(ApplyWith(t / "r", t / "out", ks).ok());  // records the memo (after a bootstrap)
    Write(t / "p", 5, 9, 3, 120);
    repl::ShipReport more;
    REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 4000), &more).ok());
    repl::ApplyReport next;
    REQUIRE(ApplyWith(t / "r", t / "out", ks, &next).ok());
    CHECK(next.previously_checked == rep.segments.size());
    CheckSameHistory(t / "p", t / "r");
    // LOG-4, ENC-8: a re-ship from position 0 finds the same plaintext under each name.
    std::filesystem::remove_all(t / "p/replication/shipped");  // lose the position
    repl::ShipReport again;
    REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 4000), &again).ok());
    // Every segment whose name the first runs published (the cut of the
    // last ones may differ: the WAL grew in between) is found identical.
    std::set<std::string> before;
    for (const auto& s : rep.segments) before.insert(s.name());
    for (const auto& s : more.segments) before.insert(s.name());
    size_t identical = 0;
    for (const auto& s : again.segments) {
      if (before.count(s.name())) {
        CHECK(s.already_there);
        ++identical;
      }
    }
    CHECK(identical + 2 >= before.size());
    // Without the key, apply-wal refuses (5) and does not halt.
    const KeyStore none;
    Status s = ApplyWith(t / "r2", t / "out", none);
    CHECK(s.code() == Code::kRefused);
  }
}

TEST_CASE("ENC-6 an encrypted segment cut anywhere is in transit for apply and verify") {
  TempDir t;
  MakePrimary(t / "p", 400);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const EncryptionKey key{KeyOf(40), Algorithm::kAes256Gcm};
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 1u << 30), &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  const std::string name = rep.segments[0].name();
  const std::string whole = ReadFile(t / "out" / name);
  REQUIRE(whole.size() > 2 * (kChunkBytes + kTagBytes));
  const KeyStore ks = StoreOf(key.key);
  std::vector<size_t> cuts = {3, 8, 60, kEncHeaderBytes};
  for (size_t at = kEncHeaderBytes; at < whole.size(); at += kChunkBytes + kTagBytes) {
    cuts.push_back(at);
    cuts.push_back(at + 1000);
  }
  cuts.push_back(whole.size() - kFinalChunkBytes);
  cuts.push_back(whole.size() - 1);
  DecryptingFs fs(PosixFs(), &ks);
  for (size_t cut : cuts) {
    if (cut >= whole.size()) continue;
    CAPTURE(cut);
    std::filesystem::remove_all(t / "in");
    REQUIRE(PosixFs().MakeDir(t / "in").ok());
    WriteFile(t / "in" / name, whole.substr(0, cut));
    std::filesystem::remove_all(t / "r");
    CHECK(ApplyWith(t / "r", t / "in", ks).code() == Code::kInTransit);
    auto v = repl::Verify(fs, t / "in" / name, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kInTransit);
    auto d = repl::Verify(fs, t / "in", {});
    REQUIRE(d.ok());
    CHECK(d->outcome() == Code::kInTransit);
  }
  // Whole: applied, and verify says so.
  WriteFile(t / "in" / name, whole);
  std::filesystem::remove_all(t / "r");
  CHECK(ApplyWith(t / "r", t / "in", ks).ok());
  auto v = repl::Verify(fs, t / "in" / name, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  // One flipped byte in the middle: corrupt for both, and apply-wal halts (LOG-12).
  std::string bad = whole;
  bad[whole.size() / 2] ^= 0x10;
  WriteFile(t / "in" / name, bad);
  std::filesystem::remove_all(t / "r");
  repl::ApplyReport ar;
  CHECK(ApplyWith(t / "r", t / "in", ks, &ar).code() == Code::kDamage);
  v = repl::Verify(fs, t / "in" / name, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);
}

// ENC-33, SEG-9: a copy that preallocated the file and writes it in order
// has zeros from its write head on. Until the final tag is written the file
// is in transit, by the envelope (with or without the key) and, when even
// the magic is still zero, by the segment inside; apply-wal waits (8) and
// does not halt, verify says 8, and the whole file is applied.
TEST_CASE("ENC-33 SEG-9 a preallocated encrypted file not yet written to its end is in transit, with or without the key") {
  const MasterKey k = KeyOf(33);
  const KeyStore ks = StoreOf(k);
  const size_t C = kChunkBytes + kTagBytes;
  const std::string e = Encrypt(Plain(2 * kChunkBytes + 500), k);
  std::vector<size_t> heads = {8, 50, kEncHeaderBytes, kEncHeaderBytes + 1, kEncHeaderBytes + C,
                               kEncHeaderBytes + C + 7, e.size() - kFinalChunkBytes};
  for (size_t head : heads) {
    CAPTURE(head);
    const std::string pre = e.substr(0, head) + std::string(e.size() - head, '\0');
    CHECK(JudgeBoth(pre, &ks) == Verdict::kInTransit);
    StringFile raw(pre);
    const Envelope without = CheckEnvelope(raw, nullptr);
    CHECK(without.state == Verdict::kInTransit);
    CHECK(without.detail.find("preallocated") != std::string::npos);
  }
  // Zeros that stop before the tag are damage.
  std::string holed = e;
  std::fill(holed.begin() + kEncHeaderBytes + 10, holed.end() - kFinalChunkBytes - 1, '\0');
  CHECK(JudgeBoth(holed, &ks) == Verdict::kCorrupt);
  // Zeros after a complete file: longer than its intact header says, which
  // no preallocated copy is (check 6), with or without the key.
  for (size_t extra : {size_t{16}, size_t{17}, size_t{4096}}) {
    CAPTURE(extra);
    const std::string longer = e + std::string(extra, '\0');
    CHECK(JudgeBoth(longer, &ks) == Verdict::kCorrupt);
    StringFile raw(longer);
    const Envelope without = CheckEnvelope(raw, nullptr);
    CHECK(without.state == Verdict::kCorrupt);
    CHECK(without.detail.find("bytes after the final chunk") == 0);
  }

  TempDir t;
  MakePrimary(t / "p", 400);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const EncryptionKey key{KeyOf(34), Algorithm::kChaCha20Poly1305};
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 1u << 30), &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  const std::string name = rep.segments[0].name();
  const std::string whole = ReadFile(t / "out" / name);
  const KeyStore ks2 = StoreOf(key.key);
  DecryptingFs fs(PosixFs(), &ks2);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  for (size_t head : {size_t{0}, size_t{4}, size_t{60}, kEncHeaderBytes + C, whole.size() - kFinalChunkBytes}) {
    CAPTURE(head);
    WriteFile(t / "in" / name, whole.substr(0, head) + std::string(whole.size() - head, '\0'));
    std::filesystem::remove_all(t / "r");
    const Status bootstrap = ApplyWith(t / "r", t / "in", ks2);
    CHECK(bootstrap.code() == Code::kInTransit);
    // The envelope's verdict, as a catch-up run gives it; not "0 of at
    // least 192 bytes present" (a trial), once the magic has arrived.
    if (head >= 8) CHECK(bootstrap.message().find("encrypted file: ") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(t / "r" / "replication" / "halt.json"));
    auto v = repl::Verify(fs, t / "in", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kInTransit);
  }
  // A complete segment with zeros appended: corrupt for apply and verify.
  WriteFile(t / "in" / name, whole + std::string(16, '\0'));
  std::filesystem::remove_all(t / "r");
  CHECK(ApplyWith(t / "r", t / "in", ks2).code() == Code::kDamage);
  auto longer = repl::Verify(fs, t / "in", {});
  REQUIRE(longer.ok());
  CHECK(longer->outcome() == Code::kDamage);
  WriteFile(t / "in" / name, whole);
  std::filesystem::remove_all(t / "r");
  CHECK(ApplyWith(t / "r", t / "in", ks2).ok());
}

TEST_CASE("ENC-12 ship-wal with encryption: ENOSPC at every step is 10 with a hint and a crash leaves no partial segment") {
  TempDir t;
  MakePrimary(t / "p0", 40);
  const EncryptionKey key{KeyOf(50), Algorithm::kAes256Gcm};
  const KeyStore ks = StoreOf(key.key);
  auto reset = [&] {
    CopyTree(t / "p0", t / "p");
    std::filesystem::remove_all(t / "out");
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
  };
  uint64_t total = 0;
  {
    reset();
    FaultyFs fs;
    REQUIRE(repl::ShipWal(fs, EncryptedShip(t / "p", t / "out", &key, 3000), nullptr).ok());
    total = fs.steps();
  }
  REQUIRE(total > 10);
  int faults = 0, crashes = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    {  // ENOSPC once at step k: done anyway, or 10 with a hint; a re-run converges.
      reset();
      FaultyFs fs;
      fs.FailOnceAt(k, ENOSPC);
      Status s = repl::ShipWal(fs, EncryptedShip(t / "p", t / "out", &key, 3000), nullptr);
      CAPTURE(s.ToString());
      if (!s.ok()) {
        CHECK(s.code() == Code::kIo);
        CHECK_FALSE(s.hint().empty());
      }
      REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 3000), nullptr).ok());
      std::filesystem::remove_all(t / "r");
      REQUIRE(ApplyWith(t / "r", t / "out", ks).ok());
      CheckSameHistory(t / "p", t / "r");
      ++faults;
    }
    {  // A crash at step k, then power loss: every segment under its name is whole.
      reset();
      FaultyFs fs;
      fs.CrashAt(k);
      (void)repl::ShipWal(fs, EncryptedShip(t / "p", t / "out", &key, 3000), nullptr);
      fs.PowerLoss();
      for (const std::string& name : Segments(t / "out")) {
        auto raw = PosixFs().OpenRead(t / "out" / name);
        REQUIRE(raw.ok());
        CHECK(CheckEnvelope(**raw, &ks).state == Verdict::kValid);
      }
      REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 3000), nullptr).ok());
      std::filesystem::remove_all(t / "r");
      REQUIRE(ApplyWith(t / "r", t / "out", ks).ok());
      CheckSameHistory(t / "p", t / "r");
      ++crashes;
    }
  }
  MESSAGE("ENC-12: " << faults << " ENOSPC runs, " << crashes << " crash runs");
}

TEST_CASE("ENC-9 verify without the key checks the framing only, and says what it did not check") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const EncryptionKey key{KeyOf(70), Algorithm::kAes256Gcm};
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), EncryptedShip(t / "p", t / "out", &key, 1u << 30), &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  const std::string path = t / "out" / rep.segments[0].name();
  const KeyStore none, ks = StoreOf(key.key);
  DecryptingFs keyless(PosixFs(), &none), keyed(PosixFs(), &ks);
  auto v = repl::Verify(keyless, path, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  REQUIRE(v->findings.size() == 1);
  CHECK(v->findings[0].kind == "not-checked");
  CHECK(v->findings[0].message.find("not checked: the chunks' tags and the plaintext's own format") !=
        std::string::npos);
  CHECK(v->findings[0].message.find(KeyIdHex(key.key.id)) != std::string::npos);
  CHECK(v->segments.empty());  // the segment inside was not read
  // The same for the directory, with progress on (OPS-7): the counting of
  // bytes read must not hide the envelope (it was "unreadable", 10).
  repl::VerifyOptions with_progress;
  uint64_t reported = 0;
  with_progress.progress = [&reported](uint64_t done, uint64_t) { reported = done; };
  for (const repl::VerifyOptions* o : {static_cast<const repl::VerifyOptions*>(&with_progress), static_cast<const repl::VerifyOptions*>(nullptr)}) {
    auto d = repl::Verify(keyless, t / "out", o ? *o : repl::VerifyOptions{});
    REQUIRE(d.ok());
    CHECK(d->outcome() == Code::kOk);
    REQUIRE(d->segments.size() == 1);
    CHECK(d->segments[0].state == "not-checked");
  }
  // With the key: everything, the segment inside included.
  v = repl::Verify(keyed, path, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  REQUIRE(v->segments.size() == 1);
  CHECK(v->segments[0].state == "valid");
  CHECK(v->findings.at(0).kind == "encrypted");
  // A flipped tag byte: the framing cannot see it, the key can.
  std::string bytes = ReadFile(path);
  bytes[bytes.size() - 1] ^= 1;
  WriteFile(path, bytes);
  v = repl::Verify(keyless, path, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  v = repl::Verify(keyed, path, {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);
  // Cut short or extended: the framing sees both.
  WriteFile(path, bytes.substr(0, 500));
  CHECK(repl::Verify(keyless, path, {})->outcome() == Code::kInTransit);
  WriteFile(path, bytes + "x");
  CHECK(repl::Verify(keyless, path, {})->outcome() == Code::kDamage);
}
