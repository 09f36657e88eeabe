// snapshot export and install with the archive in an object store
// (specs/REPLICATION_OBJECT_STORE.md OBJ-20), against the in-repo mock
// (tests/support/s3_mock.py): export stages locally and publishes
// exclusively, install reads the object twice in ranged GETs; signed and
// encrypted archives work as in a directory.
#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>

#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "repl/export.h"
#include "repl/install.h"
#include "sign/ed25519.h"
#include "support/repl_fixture.h"
#include "support/s3_env.h"
#include "support/s3_mock.h"
#include "support/sign_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {


}  // namespace

TEST_CASE("OBJ-20 snapshot export to s3 and install from s3: the replica equals the primary, a taken name is 5") {
  S3Mock m;
  if (!m.started()) {
    MESSAGE("SKIP: the S3 mock did not start (/usr/bin/python3 absent)");
    return;
  }
  ScopedS3Env env(m);
  TempDir t;
  MakePrimary(t / "p", 40);
  const std::string url = "s3://bucket/snaps/s.tar.zst";
  repl::ExportOptions eo;
  eo.data_dir = t / "p";
  eo.output = url;
  repl::ExportReport rep;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, &rep).ok());
  CHECK(rep.output == url);
  // The name is never overwritten: refused before the node is read (5).
  Status again = repl::ExportSnapshot(PosixFs(), eo, nullptr);
  CHECK(again.code() == Code::kRefused);
  CHECK(again.message() == "refusing to overwrite '" + url + "': the object exists");
  // A URL without an object name: 2.
  eo.output = "s3://bucket";
  CHECK(repl::ExportSnapshot(PosixFs(), eo, nullptr).code() == Code::kUsage);

  repl::InstallOptions io;
  io.data_dir = t / "r";
  io.archive = url;
  const Status installed = repl::InstallSnapshot(PosixFs(), io, nullptr);
  CAPTURE(installed.ToString());
  REQUIRE(installed.ok());
  CheckSameHistory(t / "p", t / "r");
  CHECK(StateOf(t / "r").applied_commit == 40);
  // A missing object: 9, nothing created.
  io.data_dir = t / "r2";
  io.archive = "s3://bucket/snaps/none.tar.zst";
  CHECK(repl::InstallSnapshot(PosixFs(), io, nullptr).code() == Code::kNotFound);
  CHECK_FALSE(FileExists(t / "r2"));
  const nlohmann::json stats = m.Stats();
  CHECK(stats["bad_signature"] == 0);
  CHECK(stats["bad_payload"] == 0);
}

TEST_CASE("OBJ-20 SIG-21 a signed and encrypted archive in s3 installs with trusted keys and the key, an unsigned one is 8") {
  S3Mock m;
  if (!m.started()) {
    MESSAGE("SKIP: the S3 mock did not start (/usr/bin/python3 absent)");
    return;
  }
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  ScopedS3Env env(m);
  TempDir t;
  MakePrimary(t / "p", 25);
  const KeyFiles kf = MakeKey(t.path(), "a");
  REQUIRE(PosixFs().MakeDir(t / "trust").ok());
  std::filesystem::copy(kf.pub, t / "trust/a.pem");
  Result<sign::SigningKey> sk = sign::LoadSigningKey(kf.priv);
  REQUIRE(sk.ok());
  crypto::MasterKey mk;
  for (size_t i = 0; i < mk.bytes.size(); ++i) mk.bytes[i] = static_cast<uint8_t>(7 * i + 1);
  mk.id = crypto::KeyIdOf(mk.bytes);
  const crypto::EncryptionKey ek{mk, crypto::Algorithm::kAes256Gcm};
  crypto::KeyStore ks;
  ks.Add(mk);

  repl::ExportOptions eo;
  eo.data_dir = t / "p";
  eo.output = "s3://bucket/se/s.tar.zst";
  eo.signing = &*sk;
  eo.encryption = &ek;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  eo.output = "s3://bucket/se/u.tar.zst";
  eo.signing = nullptr;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());

  crypto::DecryptingFs dfs(PosixFs(), &ks);
  repl::InstallOptions io;
  io.data_dir = t / "u";
  io.archive = "s3://bucket/se/u.tar.zst";
  io.trusted_keys = t / "trust";
  Status s = repl::InstallSnapshot(dfs, io, nullptr);
  CHECK(s.code() == Code::kInTransit);  // no sidecar: in transit (SIG-6)
  CHECK_FALSE(FileExists(t / "u"));
  io.data_dir = t / "r";
  io.archive = "s3://bucket/se/s.tar.zst";
  crypto::KeyStore no_keys;
  crypto::DecryptingFs keyless(PosixFs(), &no_keys);  // ENC-32: the object seen through the Fs
  // the envelope without its key: 5, nothing created
  CHECK(repl::InstallSnapshot(keyless, io, nullptr).code() == Code::kRefused);
  CHECK_FALSE(FileExists(t / "r"));
  REQUIRE(repl::InstallSnapshot(dfs, io, nullptr).ok());
  CheckSameHistory(t / "p", t / "r");
  CHECK(FileExists(t / "r/replication/trusted-keys"));
}
