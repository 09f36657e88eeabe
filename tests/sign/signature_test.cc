// Ed25519 statements and sidecars (formats/signature.md SIG-1..SIG-3;
// specs/REPLICATION_SIGNING.md SIG-6..SIG-8, SIG-12): the RFC 8032 vector
// through our code, interop with the openssl command line, canonical
// statements, and every tamper refused.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "archive/archive.h"
#include "common/sha256.h"
#include "sign/ed25519.h"
#include "sign/judge.h"
#include "sign/signature_format.h"
#include "sign/statement.h"
#include "sign/trust.h"
#include "support/sign_fixture.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

template <size_t N>
std::array<uint8_t, N> Hex(std::string_view h) {
  std::array<uint8_t, N> a{};
  REQUIRE(FromHex(h, a.data(), N));
  return a;
}

sign::Statement Example() {
  sign::Statement s;
  s.kind = sign::Kind::kSegment;
  s.name = "00000001-0000000000000001-0000000000000003.seg";
  s.size = 1234;
  s.sha256 = Hex<32>("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  s.chain = Hex<32>("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
  s.epoch = 1;
  s.key_id = "0123456789abcdef";
  return s;
}

sign::SigningKey SeedKey(uint8_t fill) {
  sign::RawKey seed{};
  seed.fill(fill);
  auto k = sign::SigningKey::FromSeed(seed);
  REQUIRE(k.ok());
  return *k;
}

sign::TrustSet Trust(std::initializer_list<const sign::SigningKey*> keys) {
  sign::TrustSet t;
  for (const sign::SigningKey* k : keys) t.Add({k->public_key(), "test", std::nullopt});
  return t;
}

}  // namespace

TEST_CASE("SIG-1 RFC 8032 section 7.1 TEST 1 through our code") {
  const auto seed = Hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const auto pub = Hex<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto want = Hex<64>(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  auto key = sign::SigningKey::FromSeed(seed);
  REQUIRE(key.ok());
  auto sig = key->Sign("");
  REQUIRE(sig.ok());
  CHECK(ToHex(*sig) == ToHex(want));
  auto pk = sign::PublicKey::FromRaw(pub);
  REQUIRE(pk.ok());
  CHECK(pk->Verify("", want));
  CHECK(key->public_key().Der() == pk->Der());
  CHECK(pk->Der().size() == 44);
  // One bit anywhere in the signature, or a message that is not empty: refused.
  for (size_t i = 0; i < want.size() * 8; ++i) {
    sign::Signature bad = want;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    CHECK_FALSE(pk->Verify("", bad));
  }
  CHECK_FALSE(pk->Verify(std::string(1, '\0'), want));
}

TEST_CASE("SIG-1 the worked example, byte for byte, and only canonical statements decode") {
  const std::string bytes = sign::EncodeStatement(Example());
  CHECK(bytes.size() == 272);
  CHECK(bytes ==
        "aerodb-repl-signature-v1\nkind segment\nname 00000001-0000000000000001-0000000000000003.seg\n"
        "size 1234\nsha256 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
        "chain ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\nepoch 1\n"
        "key 0123456789abcdef\n");
  auto back = sign::DecodeStatement(bytes);
  REQUIRE(back.ok());
  CHECK(*back == Example());
  auto refused = [&](const std::string& from, const std::string& to) {
    std::string b = bytes;
    const size_t at = b.find(from);
    REQUIRE(at != std::string::npos);
    b.replace(at, from.size(), to);
    CHECK_MESSAGE(!sign::DecodeStatement(b).ok(), from << " -> " << to);
  };
  refused("size 1234", "size 01234");
  refused("size 1234", "size +1234");
  refused("size 1234", "size  1234");
  refused("sha256 0011", "sha256 0A11");
  refused("epoch 1", "epoch 0");
  refused("epoch 1", "epoch 4294967296");
  refused("epoch 1", "epoch 2");  // the name is of epoch 1
  refused("kind segment", "kind history");  // the name binds the kind
  refused("name 0000", "name a/0000");
  refused("key 0123456789abcdef", "key 0123456789abcde");
  refused("aerodb-repl-signature-v1", "aerodb-repl-signature-v2");
  refused("key 0123456789abcdef\n", "key 0123456789abcdef\nextra 1\n");
  refused("key 0123456789abcdef\n", "key 0123456789abcdef");
  refused("kind segment\nname", "name");
  // A history statement: EEEEEEEE.history of its epoch.
  sign::Statement h = Example();
  h.kind = sign::Kind::kHistory;
  h.name = "00000002.history";
  h.epoch = 2;
  CHECK(sign::DecodeStatement(sign::EncodeStatement(h)).ok());
  h.name = "00000003.history";
  CHECK_FALSE(sign::DecodeStatement(sign::EncodeStatement(h)).ok());
}

TEST_CASE("SIG-1 SIG-2 interop: openssl pkeyutl verifies our statement and our code verifies openssl's signature") {
  SignSetup f;
  if (!f.Ready()) return;
  const TempDir& t = f.t;
  const KeyFiles& k = f.a;
  auto key = sign::LoadSigningKey(k.priv);
  REQUIRE(key.ok());
  sign::Statement s = Example();
  s.key_id = key->public_key().key_id();
  const std::string stmt = sign::EncodeStatement(s);
  auto sig = key->Sign(stmt);
  REQUIRE(sig.ok());
  WriteFile(t / "stmt", stmt);
  WriteFile(t / "ours.sig", std::string(reinterpret_cast<const char*>(sig->data()), sig->size()));
  CHECK(Sh("openssl pkeyutl -verify -pubin -inkey '" + k.pub + "' -rawin -in '" + (t / "stmt") +
           "' -sigfile '" + (t / "ours.sig") + "' >/dev/null 2>&1") == 0);
  // openssl's signature of the same bytes: the same 64 bytes (deterministic), and ours verifies it.
  REQUIRE(Sh("openssl pkeyutl -sign -inkey '" + k.priv + "' -rawin -in '" + (t / "stmt") + "' -out '" +
             (t / "theirs.sig") + "' 2>/dev/null") == 0);
  const std::string theirs = ReadFile(t / "theirs.sig");
  REQUIRE(theirs.size() == 64);
  sign::Signature ts{};
  std::copy(theirs.begin(), theirs.end(), ts.begin());
  CHECK(ts == *sig);
  auto pub = sign::PublicKey::FromPem(ReadFile(k.pub), k.pub);
  REQUIRE(pub.ok());
  CHECK(pub->Verify(stmt, ts));
  // A tampered statement fails openssl's check too.
  std::string other = stmt;
  other[other.find("size 1234") + 5] = '2';
  WriteFile(t / "stmt2", other);
  CHECK(Sh("openssl pkeyutl -verify -pubin -inkey '" + k.pub + "' -rawin -in '" + (t / "stmt2") +
           "' -sigfile '" + (t / "ours.sig") + "' >/dev/null 2>&1") != 0);
  // The sidecar holds the statement, then the signature in hex.
  const std::string side = sign::EncodeSidecar(s, *sig);
  CHECK(side == stmt + "signature " + ToHex(*sig) + "\n");
  sign::DecodedSidecar d = sign::DecodeSidecar(side);
  REQUIRE(d.state == sign::SidecarState::kComplete);
  CHECK(d.sidecar.statement == s);
  CHECK(d.sidecar.statement_bytes == stmt);
}

TEST_CASE("SIG-3 the key id is the first 16 hex of the SHA-256 of the public key's DER, as openssl computes it") {
  SignSetup f;
  if (!f.Ready()) return;
  const TempDir& t = f.t;
  const KeyFiles& k = f.a;
  REQUIRE(Sh("openssl pkey -pubin -in '" + k.pub + "' -outform DER -out '" + (t / "pub.der") + "' 2>/dev/null") == 0);
  const std::string want = ToHex(Sha256::Of(ReadFile(t / "pub.der"))).substr(0, 16);
  auto pub = sign::PublicKey::FromPem(ReadFile(k.pub), k.pub);
  REQUIRE(pub.ok());
  CHECK(pub->key_id() == want);
  auto priv = sign::LoadSigningKey(k.priv);
  REQUIRE(priv.ok());
  CHECK(priv->public_key().key_id() == want);
  // A private key is not a public key, and an RSA key is not Ed25519.
  CHECK(sign::PublicKey::FromPem(ReadFile(k.priv), k.priv).status().code() == Code::kUsage);
  REQUIRE(Sh("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out '" + (t / "ec.key") +
             "' 2>/dev/null") == 0);
  ::chmod((t / "ec.key").c_str(), 0600);
  auto ec = sign::LoadSigningKey(t / "ec.key");
  CHECK(ec.status().code() == Code::kUsage);
  CHECK(ec.status().message().find("not an Ed25519 key") == 0);
}

TEST_CASE("SIG-12 a private key readable by group or others is refused with a hint") {
  SignSetup f;
  if (!f.Ready()) return;
  const TempDir& t = f.t;
  const KeyFiles& k = f.a;
  for (mode_t m : {0640, 0604, 0660, 0644, 0602, 0610}) {
    REQUIRE(::chmod(k.priv.c_str(), m) == 0);
    auto r = sign::LoadSigningKey(k.priv);
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message().find("unprotected signing key '" + k.priv + "'") == 0);
    CHECK(r.status().hint() == "chmod 600 " + k.priv);
  }
  for (mode_t m : {0600, 0400}) {
    REQUIRE(::chmod(k.priv.c_str(), m) == 0);
    CHECK(sign::LoadSigningKey(k.priv).ok());
  }
  CHECK(sign::LoadSigningKey(t / "missing.key").status().code() == Code::kNotFound);
  CHECK(sign::LoadSigningKey(t.path()).status().code() == Code::kUsage);  // a directory
}

TEST_CASE("SIG-6 every cut of a sidecar is in transit, no sidecar is in transit") {
  const sign::SigningKey key = SeedKey(7);
  sign::Statement s = Example();
  auto side = sign::SignStatement(key, s);
  REQUIRE(side.ok());
  for (size_t n = 0; n < side->size(); ++n) {
    sign::DecodedSidecar d = sign::DecodeSidecar(side->substr(0, n));
    CHECK_MESSAGE(d.state == sign::SidecarState::kInTransit, "cut at " << n << ": " << d.detail);
  }
  CHECK(sign::DecodeSidecar(*side).state == sign::SidecarState::kComplete);
  CHECK(sign::DecodeSidecar(*side + "x").state == sign::SidecarState::kMalformed);
  CHECK(sign::DecodeSidecar(*side + "\n").state == sign::SidecarState::kMalformed);
  CHECK(sign::DecodeSidecar("garbage").state == sign::SidecarState::kMalformed);
  CHECK(sign::DecodeSidecar(std::string(2000, 'a')).state == sign::SidecarState::kMalformed);
  // SEG-9: a copy that preallocated the file, written up to any point.
  for (size_t n = 0; n < side->size(); ++n) {
    sign::DecodedSidecar d = sign::DecodeSidecar(side->substr(0, n) + std::string(side->size() - n, '\0'));
    CHECK_MESSAGE(d.state == sign::SidecarState::kInTransit, "preallocated, written to " << n << ": " << d.detail);
  }
  // A complete sidecar followed by NULs is padding: malformed.
  CHECK(sign::DecodeSidecar(*side + std::string(64, '\0')).state == sign::SidecarState::kMalformed);
  // Through the judge: absent = unsigned (8), a cut = in transit (8), never refused.
  TempDir t;
  Fs& fs = PosixFs();
  archive::PosixArchive a(fs, t.path());
  s.key_id = key.public_key().key_id();
  const sign::TrustSet trust = Trust({&key});
  sign::Judgement j = sign::JudgeSidecar(a, s.name, s.kind, trust);
  CHECK(j.outcome == sign::Outcome::kUnsigned);
  CHECK(j.ToStatus().code() == Code::kInTransit);
  CHECK(j.ToStatus().message().find("signature in transit '" + (t / s.name) + ".sig': not here yet") == 0);
  WriteFile(t / (s.name + ".sig"), side->substr(0, 100));
  CHECK(sign::JudgeSidecar(a, s.name, s.kind, trust).outcome == sign::Outcome::kInTransit);
  WriteFile(t / (s.name + ".sig"), *side);
  CHECK(sign::JudgeSignature(a, s, trust).ok());
}

TEST_CASE("SIG-7 tampering with any field of the statement or the signature fails verification") {
  const sign::SigningKey key = SeedKey(7);
  sign::Statement s = Example();
  s.key_id = key.public_key().key_id();
  auto side = sign::SignStatement(key, s);
  REQUIRE(side.ok());
  const std::string stmt = sign::EncodeStatement(s);
  sign::DecodedSidecar good = sign::DecodeSidecar(*side);
  REQUIRE(good.state == sign::SidecarState::kComplete);
  // Every single-bit flip of the statement bytes: the signature does not verify.
  int flips = 0;
  for (size_t i = 0; i < stmt.size() * 8; ++i) {
    std::string b = stmt;
    FlipBit(&b, i / 8, static_cast<int>(i % 8));
    CHECK_FALSE(key.public_key().Verify(b, good.sidecar.signature));
    ++flips;
  }
  CHECK(flips == 272 * 8);
  // Each field of a sidecar changed to another well-formed value: refused.
  TempDir t;
  Fs& fs = PosixFs();
  archive::PosixArchive a(fs, t.path());
  const sign::TrustSet trust = Trust({&key});
  struct Case {
    const char* field;
    std::string from, to;
  };
  const std::string sig_hex = side->substr(side->rfind("signature ") + 10, 128);
  std::string flipped_sig = sig_hex;
  flipped_sig[0] = flipped_sig[0] == '0' ? '1' : '0';
  const std::vector<Case> cases = {
      {"domain", "aerodb-repl-signature-v1", "aerodb-repl-signature-v9"},
      {"kind", "kind segment", "kind snapshot"},
      {"name", "0000000000000003.seg", "0000000000000004.seg"},
      {"size", "size 1234", "size 1235"},
      {"sha256", "sha256 00112233", "sha256 10112233"},
      {"chain", "chain ffeeddcc", "chain efeeddcc"},
      {"epoch", "epoch 1", "epoch 2"},
      {"key", "key " + s.key_id, "key 0000000000000000"},
      {"signature", sig_hex, flipped_sig},
  };
  int refused = 0;
  for (const Case& c : cases) {
    std::string b = *side;
    const size_t at = b.find(c.from);
    REQUIRE(at != std::string::npos);
    b.replace(at, c.from.size(), c.to);
    WriteFile(t / (s.name + ".sig"), b);
    sign::Judgement j = sign::JudgeSignature(a, s, trust);
    CHECK_MESSAGE(!j.ok(), c.field);
    CHECK_MESSAGE(j.outcome != sign::Outcome::kInTransit, c.field);
    refused += !j.ok();
  }
  CHECK(refused == 9);
  // The file differs from the statement in each field: a bad signature (1).
  WriteFile(t / (s.name + ".sig"), *side);
  REQUIRE(sign::JudgeSignature(a, s, trust).ok());
  int mismatched = 0;
  for (int field = 0; field < 6; ++field) {
    sign::Statement facts = s;
    switch (field) {
      case 0: facts.kind = sign::Kind::kHistory; break;
      case 1:  // the sidecar of one file copied beside another
        facts.name = "00000001-0000000000000001-0000000000000004.seg";
        WriteFile(t / (facts.name + ".sig"), *side);
        break;
      case 2: facts.size = 1235; break;
      case 3: facts.sha256[31] ^= 1; break;
      case 4: facts.chain[0] ^= 0x80; break;
      case 5: facts.epoch = 2; break;
    }
    sign::Judgement j = sign::JudgeSignature(a, facts, trust);
    CHECK_MESSAGE(j.outcome == sign::Outcome::kBadSignature, "field " << field << ": " << j.detail);
    CHECK(j.ToStatus().code() == Code::kDamage);
    mismatched += j.outcome == sign::Outcome::kBadSignature;
  }
  CHECK(mismatched == 6);
  // A segment shorter than signed is the segment's own check's business; a
  // snapshot or history file shorter than signed is still arriving.
  sign::Statement h = s;
  h.kind = sign::Kind::kHistory;
  h.name = "00000002.history";
  h.epoch = 2;
  auto hside = sign::SignStatement(key, h);
  REQUIRE(hside.ok());
  WriteFile(t / "00000002.history.sig", *hside);
  sign::Statement short_h = h;
  short_h.size = 10;
  CHECK(sign::JudgeSignature(a, short_h, trust).outcome == sign::Outcome::kInTransit);
}

TEST_CASE("SIG-8 a wrong key, an unknown key and a retired key are refused") {
  const sign::SigningKey a_key = SeedKey(1), b_key = SeedKey(2);
  TempDir t;
  Fs& fs = PosixFs();
  archive::PosixArchive a(fs, t.path());
  sign::Statement s = Example();
  // Unknown key: signed by b, only a trusted: 5.
  auto by_b = sign::SignStatement(b_key, s);
  REQUIRE(by_b.ok());
  WriteFile(t / (s.name + ".sig"), *by_b);
  sign::Judgement j = sign::JudgeSidecar(a, s.name, s.kind, Trust({&a_key}));
  CHECK(j.outcome == sign::Outcome::kUnknownKey);
  CHECK(j.ToStatus().code() == Code::kRefused);
  CHECK(j.ToStatus().message() == "unknown signing key '" + (t / s.name) + ".sig': key " +
                                      b_key.public_key().key_id() + " is not trusted");
  // Wrong key: signed by b but naming a's key id: the signature does not verify (1).
  s.key_id = a_key.public_key().key_id();
  const std::string stmt = sign::EncodeStatement(s);
  auto forged = b_key.Sign(stmt);
  REQUIRE(forged.ok());
  WriteFile(t / (s.name + ".sig"), sign::EncodeSidecar(s, *forged));
  j = sign::JudgeSidecar(a, s.name, s.kind, Trust({&a_key}));
  CHECK(j.outcome == sign::Outcome::kBadSignature);
  CHECK(j.ToStatus().code() == Code::kDamage);
  // Retired: a retired from epoch 2 verifies epoch 1, refuses epoch 2 and later.
  sign::TrustSet retired;
  retired.Add({a_key.public_key(), "a.pem", 2});
  for (uint32_t epoch : {1u, 2u, 3u}) {
    sign::Statement e = Example();
    e.epoch = epoch;
    e.name = "0000000" + std::to_string(epoch) + "-0000000000000001-0000000000000003.seg";
    auto side = sign::SignStatement(a_key, e);
    REQUIRE(side.ok());
    WriteFile(t / (e.name + ".sig"), *side);
    sign::Judgement r = sign::JudgeSidecar(a, e.name, e.kind, retired);
    if (epoch < 2) {
      CHECK(r.ok());
    } else {
      CHECK(r.outcome == sign::Outcome::kRetiredKey);
      CHECK(r.ToStatus().code() == Code::kRefused);
      CHECK(r.ToStatus().message().find("retired signing key") == 0);
    }
  }
}
