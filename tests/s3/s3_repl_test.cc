// ship-wal, apply-wal and promote's parts of issue 16 that go through the
// commands' library against the in-repo mock (tests/support/s3_mock.py):
// signatures on an s3:// archive (SIG-30), the object-store options
// (OBJ-30) and apply-wal --report-to s3:// (OBJ-31).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <atomic>
#include <chrono>
#include <thread>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/registration.h"
#include "archive/segment_catalog.h"
#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"
#include "node/shipped_position.h"
#include "repl/export.h"
#include "repl/follow.h"
#include "repl/register.h"
#include "repl/verify.h"
#include "s3/s3_config.h"
#include "support/s3_env.h"
#include "support/s3_mock.h"
#include "support/sign_repl_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {


#define S3_REPL_REQUIRE_MOCK(m)                                           \
  if (!(m).started()) {                                                   \
    MESSAGE("SKIP: the S3 mock did not start (/usr/bin/python3 absent)"); \
    return;                                                               \
  }

// The names of the segments of `location` from CommitId `first` on.
std::vector<std::string> S3ReplSegmentsFrom(archive::Archive& a, uint64_t first) {
  Result<archive::Catalog> c = archive::SegmentCatalog(a).List();
  REQUIRE(c.ok());
  std::vector<std::string> out;
  for (const archive::CatalogSegment& s : c->segments) {
    if (s.info.first_commit >= first) out.push_back(s.name());
  }
  return out;
}

// Every segment name of `a` (its catalog reads headers through the view, so
// list the names as stored).
std::vector<std::string> S3ReplSegmentsFromRaw(archive::Archive& a) {
  Result<std::vector<archive::ArchiveEntry>> l = a.List();
  REQUIRE(l.ok());
  std::vector<std::string> out;
  for (const archive::ArchiveEntry& e : *l) {
    if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".seg") == 0) out.push_back(e.name);
  }
  return out;
}

}  // namespace

TEST_CASE("SIG-30 signed segments shipped to an s3 archive are applied with trusted keys, forged and unsigned ones refused as in a directory") {
  SignSetup k;
  if (!k.Ready()) return;
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  const TempDir& t = k.t;
  const std::string arch = "s3://bucket/signed";
  MakePrimary(t / "p", 30);
  REQUIRE(ShipSigned(t / "p", arch, k.a.priv).ok());
  Result<std::unique_ptr<archive::Archive>> a = archive::OpenArchive(PosixFs(), arch);
  REQUIRE(a.ok());
  for (const std::string& n : S3ReplSegmentsFrom(**a, 1)) {  // SIG-9 through the archive
    CHECK((*a)->OpenRead(n + ".sig").ok());
  }
  REQUIRE(ApplyTrusting(t / "r", arch, k.trust).ok());
  CHECK(StateOf(t / "r").applied_commit == 30);
  // A forgery by a holder of every file and the store's credentials, signed
  // with a key no replica trusts: unknown key (5), nothing applied, no halt.
  CopyTree(t / "p", t / "evil");
  Write(t / "evil", 5, 666);
  REQUIRE(ShipSigned(t / "evil", arch, k.evil.priv).ok());
  const std::vector<std::string> forged = S3ReplSegmentsFrom(**a, 31);
  REQUIRE(!forged.empty());
  Status s = ApplyTrusting(t / "r", arch, k.trust);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("unknown signing key '" + arch + "/" + forged.front() + ".sig'") == 0);
  CHECK(StateOf(t / "r").applied_commit == 30);
  CHECK_FALSE(Halted(t / "r"));
  // Its sidecar gone: unsigned is in transit (8), still nothing applied.
  for (const std::string& n : forged) REQUIRE((*a)->Remove(n + ".sig").ok());
  s = ApplyTrusting(t / "r", arch, k.trust);
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("signature in transit '" + arch + "/" + forged.front() + ".sig'") == 0);
  CHECK(StateOf(t / "r").applied_commit == 30);
  CHECK_FALSE(Halted(t / "r"));
  // Without trusted keys the same forgery would be applied (integrity is not authenticity).
  CHECK(Apply(t / "r2", arch).ok());
  CHECK(StateOf(t / "r2").applied_commit == 35);
  // The forgery removed and the real continuation shipped, signed: the replica goes on.
  for (const std::string& n : forged) REQUIRE((*a)->Remove(n).ok());
  Write(t / "p", 5, 7);
  REQUIRE(ShipSigned(t / "p", arch, k.a.priv).ok());
  REQUIRE(ApplyTrusting(t / "r", arch, k.trust).ok());
  CHECK(StateOf(t / "r").applied_commit == 35);
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("SIG-30 promote with trusted keys reads no unsigned claim of an s3 archive, and signs its own") {
  SignSetup k;
  if (!k.Ready()) return;
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  const TempDir& t = k.t;
  const std::string arch = "s3://bucket/claims";
  MakePrimary(t / "p", 10);
  REQUIRE(ShipSigned(t / "p", arch, k.a.priv, /*claim_archive=*/true).ok());
  REQUIRE(ApplyTrusting(t / "r", arch, k.trust).ok());
  REQUIRE(ApplyTrusting(t / "r2", arch, k.trust).ok());
  // An unsigned claim of epoch 2 put there by someone without a key.
  CopyTree(t / "r2", t / "thief");
  repl::PromoteOptions o;
  o.data_dir = t / "thief";
  o.archive = arch;
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  o.data_dir = t / "r";
  o.trusted_keys = k.trust;
  o.signing_key = k.a.priv;
  Status s = repl::Promote(PosixFs(), o, nullptr);
  CHECK(s.code() == Code::kInTransit);  // SIG-10: unsigned, read as not arrived, never followed
  CHECK(s.message().find("signature in transit '" + arch + "/00000002.history") == 0);
  CHECK(StateOf(t / "r").role == node::Role::kReplica);
  // The forged claim removed: promote claims epoch 2 and signs it in the archive.
  Result<std::unique_ptr<archive::Archive>> a = archive::OpenArchive(PosixFs(), arch);
  REQUIRE(a.ok());
  REQUIRE((*a)->Remove("00000002.history").ok());
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  CHECK(StateOf(t / "r").epoch == 2);
  CHECK((*a)->OpenRead("00000002.history.sig").ok());
}

TEST_CASE("OBJ-30 a flag beats the environment, which beats the config file") {
  TempDir t;
  ScopedS3Env env;
  env.ForMock(nullptr, nullptr);
  const std::string file = t / "s3.json";
  WriteFile(file, R"({"endpoint": "http://config:1", "region": "config-region", "path_style": false})");
  env.Set("AERODB_S3_CONFIG", file.c_str());
  Result<s3::S3Config> c = s3::LoadS3Config();
  REQUIRE(c.ok());
  CHECK(c->endpoint == "http://config:1");
  CHECK(c->region == "config-region");
  CHECK_FALSE(c->path_style);
  env.Set("AERODB_S3_ENDPOINT", "http://env:2");
  env.Set("AERODB_S3_REGION", "env-region");
  c = s3::LoadS3Config();
  REQUIRE(c.ok());
  CHECK(c->endpoint == "http://env:2");
  CHECK(c->region == "env-region");
  CHECK_FALSE(c->path_style);  // the config's, still
  s3::SetS3Flags({"https://flag:3", "flag-region", true});
  c = s3::LoadS3Config();
  REQUIRE(c.ok());
  CHECK(c->endpoint == "https://flag:3");
  CHECK(c->region == "flag-region");
  CHECK(c->path_style);
  // One setting given as a flag leaves the others to the environment.
  s3::SetS3Flags({"", "flag-region", false});
  c = s3::LoadS3Config();
  REQUIRE(c.ok());
  CHECK(c->endpoint == "http://env:2");
  CHECK(c->region == "flag-region");
  // Not an http(s) URL: 2, naming the option; the secret is in no message.
  s3::SetS3Flags({"ftp://flag:3", "", false});
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("'--s3-endpoint'") != std::string::npos);
  CHECK(c.status().ToString().find(S3Mock::kSecret) == std::string::npos);
}

TEST_CASE("OBJ-31 apply-wal --report-to an s3 archive writes the registration with one PUT, another replica's name is 5") {
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  TempDir t;
  MakePrimary(t / "p", 12);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(ShipInto(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());
  REQUIRE(Apply(t / "r2", t / "in").ok());
  const std::string arch = "s3://bucket/ret";
  repl::RegisterOptions o;
  o.data_dir = t / "r";
  o.archive = arch;
  o.name = "east";
  const int puts_before = m.Stats()["methods"].value("PUT", 0);
  archive::Registration reg;
  REQUIRE(repl::RegisterReplica(PosixFs(), o, &reg).ok());
  CHECK(m.Stats()["methods"].value("PUT", 0) == puts_before + 1);  // one unconditional PUT (OBJ-11)
  Result<std::unique_ptr<archive::Archive>> a = archive::OpenArchive(PosixFs(), arch);
  REQUIRE(a.ok());
  Result<std::string> bytes = archive::ReadArchiveFile(**a, "replica-east.json", archive::kMaxRegistrationBytes);
  REQUIRE(bytes.ok());
  Result<archive::Registration> back = archive::DecodeRegistration(*bytes, "east", arch);
  REQUIRE(back.ok());
  CHECK(back->applied_commit == 12);
  // The same replica again: replaced (ARC-5: it owns the name).
  Write(t / "p", 3, 2);
  REQUIRE(ShipInto(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());
  REQUIRE(repl::RegisterReplica(PosixFs(), o, &reg).ok());
  CHECK(reg.applied_commit == 15);
  bytes = archive::ReadArchiveFile(**a, "replica-east.json", archive::kMaxRegistrationBytes);
  REQUIRE(bytes.ok());
  CHECK(archive::DecodeRegistration(*bytes, "east", arch)->applied_commit == 15);
  // Another replica under the name: 5, the registration unchanged (RET-3).
  o.data_dir = t / "r2";
  Status s = repl::RegisterReplica(PosixFs(), o, nullptr);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("registration of another replica '" + arch + "/replica-east.json'") == 0);
  CHECK(archive::DecodeRegistration(*archive::ReadArchiveFile(**a, "replica-east.json", archive::kMaxRegistrationBytes),
                                    "east", arch)->applied_commit == 15);
  // No such bucket: 9.
  o.data_dir = t / "r";
  o.archive = "s3://nobucket/ret";
  CHECK(repl::RegisterReplica(PosixFs(), o, nullptr).code() == Code::kNotFound);
}

TEST_CASE("ENC-32 encrypted segments in an object store are applied and recognised on a re-ship by their plaintext, refused without the key") {
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  TempDir t;
  const std::string arch = "s3://bucket/encrypted";
  crypto::EncryptionKey key;
  for (size_t i = 0; i < key.key.bytes.size(); ++i) key.key.bytes[i] = static_cast<uint8_t>(7 + 5 * i);
  key.key.id = crypto::KeyIdOf(key.key.bytes);
  key.key.path = "s3enc.key";
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 30);
  repl::ShipOptions so;
  so.data_dir = t / "p";
  so.target = arch;
  so.max_segment_bytes = 3000;
  so.encryption = &key;
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  // The objects are envelopes as stored (nothing was uploaded in plaintext).
  Result<std::unique_ptr<archive::Archive>> raw = archive::OpenArchive(PosixFs(), arch);
  REQUIRE(raw.ok());
  const std::vector<std::string> names = S3ReplSegmentsFromRaw(**raw);
  REQUIRE(names.size() > 1);
  for (const std::string& n : names) {
    Result<std::unique_ptr<ReadableFile>> f = (*raw)->OpenRead(n);
    REQUIRE(f.ok());
    Result<bool> env_magic = crypto::IsEnvelope(**f);
    REQUIRE(env_magic.ok());
    CHECK(*env_magic);
  }
  // With the key, the replica applies from the store exactly as from a directory.
  crypto::DecryptingFs with_key(PosixFs(), &keys);
  repl::ApplyOptions ao;
  ao.data_dir = t / "r";
  ao.inbox = arch;
  REQUIRE(repl::ApplyWal(with_key, ao, nullptr).ok());
  CHECK(StateOf(t / "r").applied_commit == 30);
  CheckSameHistory(t / "p", t / "r");
  // ENC-8 through the store: a re-ship from a lost position recognises every
  // segment by its plaintext (a fresh encryption would differ byte for byte).
  std::filesystem::remove_all(t / "p" + "/replication/shipped");
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), so, &rep).ok());
  REQUIRE(!rep.segments.empty());
  for (const repl::ShippedSegment& s : rep.segments) CHECK(s.already_there);
  // Without the key: refused (5) by ENC-11, never judged damaged, no halt.
  crypto::KeyStore none;
  crypto::DecryptingFs no_key(PosixFs(), &none);
  ao.data_dir = t / "r2";
  Status s = repl::ApplyWal(no_key, ao, nullptr);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("no key for encrypted file") != std::string::npos);
  CHECK_FALSE(FileExists(t / "r2" + "/replication/halt.json"));
}

TEST_CASE("OBJ-2 an AERODB_S3_CONFIG that is a FIFO, a device or over 64 KiB is refused at once") {
  TempDir t;
  ScopedS3Env env;
  env.ForMock(nullptr, nullptr);
  const std::string fifo = t / "fifo.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  env.Set("AERODB_S3_CONFIG", fifo.c_str());
  Result<s3::S3Config> c = s3::LoadS3Config();  // before: waited for a writer for ever
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kIo);
  env.Set("AERODB_S3_CONFIG", "/dev/zero");  // before: read until memory ran out
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kIo);
  const std::string big = t / "big.json";
  WriteFile(big, "{\"region\":\"" + std::string(70 * 1024, 'r') + "\"}");
  env.Set("AERODB_S3_CONFIG", big.c_str());
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("larger than") != std::string::npos);
}

TEST_CASE("OBJ-30 an endpoint from the environment or the config file is held to the flag's rule") {
  TempDir t;
  ScopedS3Env env;
  env.ForMock(nullptr, nullptr);
  s3::SetS3Flags({"", "", false});
  env.Set("AERODB_S3_ENDPOINT", "ftp://env:2");
  Result<s3::S3Config> c = s3::LoadS3Config();  // before: five connection attempts, then 10
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  env.Set("AERODB_S3_ENDPOINT", nullptr);
  const std::string file = t / "s3.json";
  WriteFile(file, R"({"endpoint": "ftp://config:1"})");
  env.Set("AERODB_S3_CONFIG", file.c_str());
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
}

TEST_CASE("OBJ-30 an endpoint with no host or a bad port is 2 before any request") {
  TempDir t;
  ScopedS3Env env;
  env.ForMock(nullptr, nullptr);
  // Before: each was tried five times, then 10 with a hint about the store's health.
  for (const char* bad : {"http://", "http://:80", "http:///x", "http://a:x", "http://a b", "http://a\nb",
                          "http://a:", "http://a:0", "http://a:65536", "http://a:123456", "https://[]:1",
                          "http://[::1", "http://[::1]x", "http://user@host:1", "http://a/x\r\nX-Injected: yes",
                          "http://a\t", "HTTP://a"}) {
    CAPTURE(bad);
    s3::SetS3Flags({bad, "", false});
    Result<s3::S3Config> c = s3::LoadS3Config();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kUsage);
    CHECK(c.status().message().find("'--s3-endpoint'") != std::string::npos);
    CHECK(c.status().message().find('\n') == std::string::npos);  // escaped: one line
    CHECK(c.status().ToString().find("hint: give the store's URL") != std::string::npos);
    s3::SetS3Flags({"", "", false});
    env.Set("AERODB_S3_ENDPOINT", bad);
    c = s3::LoadS3Config();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kUsage);
    CHECK(c.status().message().find("'AERODB_S3_ENDPOINT'") != std::string::npos);
    env.Set("AERODB_S3_ENDPOINT", nullptr);
  }
  const std::string file = t / "s3.json";
  WriteFile(file, R"({"endpoint": "http://:80"})");
  env.Set("AERODB_S3_CONFIG", file.c_str());
  Result<s3::S3Config> c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("invalid s3 config '" + file + "': 'endpoint'") == 0);
  CHECK(c.status().message().find("no host") != std::string::npos);
  env.Set("AERODB_S3_CONFIG", nullptr);
  for (const char* good : {"http://127.0.0.1:7480", "https://s3.example.com", "http://[::1]:9000/base",
                           "http://minio_1:9000/", "https://a:65535", "http://a:1"}) {
    CAPTURE(good);
    s3::SetS3Flags({good, "", false});
    c = s3::LoadS3Config();
    CHECK(c.ok());
  }
}

TEST_CASE("OBJ-32 a control character in the region or a credential is 2 naming the setting and never the secret") {
  TempDir t;
  ScopedS3Env env;
  env.ForMock(nullptr, nullptr);
  const std::string inject = "eu-1\r\nX-Injected: yes";
  // The region: from the option, the environment, the config file.
  s3::SetS3Flags({"", inject, false});
  Result<s3::S3Config> c = s3::LoadS3Config();  // before: sent as an extra header
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("invalid value '--s3-region'") == 0);
  CHECK(c.status().message().find('\n') == std::string::npos);
  CHECK(c.status().ToString().find("hint: ") != std::string::npos);
  s3::SetS3Flags({"", "", false});
  for (const char* bad : {"eu-1\r\nX-Injected: yes", "eu 1", "eu/1", "eu_1", "eu-1\x7f"}) {
    CAPTURE(bad);
    env.Set("AERODB_S3_REGION", bad);
    c = s3::LoadS3Config();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kUsage);
    CHECK(c.status().message().find("invalid value 'AERODB_S3_REGION'") == 0);
  }
  env.Set("AERODB_S3_REGION", "us-east-1");
  CHECK(s3::LoadS3Config().ok());
  env.Set("AERODB_S3_REGION", nullptr);
  const std::string file = t / "s3.json";
  WriteFile(file, R"({"region": "eu-1\r\nX-Injected: yes"})");
  env.Set("AERODB_S3_CONFIG", file.c_str());
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("invalid s3 config '" + file + "': 'region'") == 0);
  WriteFile(file, R"({"region": ""})");
  CHECK(s3::LoadS3Config().status().code() == Code::kUsage);
  env.Set("AERODB_S3_CONFIG", nullptr);
  // The credentials, from the environment: named, their value never shown.
  const std::string secret_bad = std::string(S3Mock::kSecret) + "\r\nX-Injected: yes";
  for (const char* var : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    CAPTURE(var);
    env.ForMock(nullptr, nullptr);
    env.Set(var, secret_bad.c_str());
    c = s3::LoadS3Config();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kUsage);
    CHECK(c.status().message().find(std::string("invalid value '") + var + "'") == 0);
    CHECK(c.status().ToString().find("X-Injected") == std::string::npos);
    CHECK(c.status().ToString().find(S3Mock::kSecret) == std::string::npos);
    CHECK(c.status().ToString().find("hint: ") != std::string::npos);
  }
  env.ForMock(nullptr, nullptr);
  env.Set("AWS_SESSION_TOKEN", "token\x01");
  CHECK(s3::LoadS3Config().status().code() == Code::kUsage);
  env.Set("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEB0aDK+/=");
  CHECK(s3::LoadS3Config().ok());
  // From the config file: the key is named, not the value.
  env.Set("AWS_ACCESS_KEY_ID", nullptr);
  env.Set("AWS_SECRET_ACCESS_KEY", nullptr);
  env.Set("AWS_SESSION_TOKEN", nullptr);
  WriteFile(file, R"({"access_key_id": "AK", "secret_access_key": "s3cr3t", "session_token": "tok\nX-Injected: yes"})");
  env.Set("AERODB_S3_CONFIG", file.c_str());
  c = s3::LoadS3Config();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUsage);
  CHECK(c.status().message().find("invalid s3 config '" + file + "': 'session_token'") == 0);
  CHECK(c.status().ToString().find("X-Injected") == std::string::npos);
}

TEST_CASE("OBJ-12 SIG-13 verify of an s3 archive with trusted keys judges signatures as apply-wal does") {
  SignSetup k;
  if (!k.Ready()) return;
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  const TempDir& t = k.t;
  const std::string arch = "s3://bucket/unsigned";
  MakePrimary(t / "p", 10);
  REQUIRE(Ship(t / "p", arch).ok());  // unsigned
  repl::VerifyOptions vo;
  vo.trusted_keys = k.trust;
  Result<repl::VerifyReport> v = repl::Verify(PosixFs(), arch, vo);
  REQUIRE(v.ok());
  const Status applied = ApplyTrusting(t / "r", arch, k.trust);
  CHECK(applied.code() == Code::kInTransit);  // a missing sidecar
  CHECK(v->outcome() == applied.code());      // before: verify said 0
  vo.trusted_keys = t / "nowhere";
  CHECK_FALSE(repl::Verify(PosixFs(), arch, vo).ok());  // before: 0
}

TEST_CASE("OBJ-12 FOLLOW-2 apply-wal --follow from an s3 archive polls it and applies what arrives") {
  S3Mock m;
  S3_REPL_REQUIRE_MOCK(m);
  ScopedS3Env env;
  env.ForMock(&m, nullptr);
  TempDir t;
  const std::string arch = "s3://bucket/follow";
  MakePrimary(t / "p", 10);
  REQUIRE(Ship(t / "p", arch).ok());
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = arch;
  repl::FollowOptions f;
  f.poll_interval_ms = 20;
  repl::StopToken token;
  std::atomic<uint64_t> applied{0};
  Status result;
  std::thread follower([&] {
    result = repl::FollowApply(PosixFs(), o, f, token, [&](const Status& s, const repl::ApplyReport& rep) {
      applied = rep.applied_commit;
      return s;
    });
  });
  auto until = [&](uint64_t c) {
    for (int i = 0; i < 1000 && applied.load() < c; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return applied.load() >= c;
  };
  CHECK(until(10));  // before: 9 at once, "inbox not found"
  Write(t / "p", 5, 2);
  REQUIRE(Ship(t / "p", arch).ok());
  CHECK(until(15));  // found by polling the listing
  token.RequestStop();
  follower.join();
  CHECK(result.ok());
}

TEST_CASE("OBJ-20 LOG-2 an export URL ending in '/' is 2, and the same bucket in another store is another target") {
  S3Mock m, other;
  S3_REPL_REQUIRE_MOCK(m);
  S3_REPL_REQUIRE_MOCK(other);
  TempDir t;
  MakePrimary(t / "p", 5);
  {
    ScopedS3Env env;
    env.ForMock(&m, nullptr);
    repl::ExportOptions eo;
    eo.data_dir = t / "p";
    eo.output = "s3://bucket/snaps/";
    CHECK(repl::ExportSnapshot(PosixFs(), eo, nullptr).code() == Code::kUsage);  // before: object "snaps"
    REQUIRE(Ship(t / "p", "s3://bucket/mig").ok());
  }
  ScopedS3Env env;
  env.ForMock(&other, nullptr);
  repl::ShipReport rep;
  REQUIRE(Ship(t / "p", "s3://bucket/mig", 16u << 20, false, &rep).ok());
  CHECK(rep.segments.size() == 1);  // before: "nothing to ship", the new store left empty
  CHECK(Apply(t / "r", "s3://bucket/mig").ok());
  CHECK(StateOf(t / "r").applied_commit == 5);
  // A position saved under the URL alone (before the key held the
  // endpoint) is moved to the new key, never left behind beside it.
  std::vector<std::filesystem::path> positions;
  for (const auto& e : std::filesystem::directory_iterator(t / "p/replication/shipped")) {
    if (e.path().extension() == ".json") positions.push_back(e.path());
  }
  REQUIRE(positions.size() == 2);
  for (const auto& p : positions) std::filesystem::remove(p);
  Write(t / "p", 2, 9);
  REQUIRE(Ship(t / "p", "s3://bucket/mig").ok());
  const std::string old_key = node::ShippedPositionPath(t / "p", "s3://bucket/mig");
  std::filesystem::rename(node::ShippedPositionPath(t / "p", other.endpoint() + " s3://bucket/mig"), old_key);
  Write(t / "p", 1, 10);
  rep = repl::ShipReport{};
  REQUIRE(Ship(t / "p", "s3://bucket/mig", 16u << 20, false, &rep).ok());
  CHECK(rep.from_commit == 7);  // resumed from the old key's position, not re-shipped from the base
  CHECK_FALSE(std::filesystem::exists(old_key));
}
