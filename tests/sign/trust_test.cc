// The trust directory (specs/REPLICATION_SIGNING.md SIG-4, SIG-11).
#include <doctest/doctest.h>

#include <filesystem>

#include "sign/signature_format.h"
#include "sign/trust.h"
#include "support/sign_fixture.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

TEST_CASE("SIG-4 a trust directory: keys, retirements, and every malformed file is 2") {
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  TempDir t;
  Fs& fs = PosixFs();
  REQUIRE(fs.MakeDir(t / "keys").ok());
  const KeyFiles a = MakeKey(t / "keys", "a");
  const KeyFiles b = MakeKey(t.path(), "b");
  fsys::remove(a.priv);  // a trust directory holds public keys only
  WriteFile(t / "keys/README", "ignored\n");
  WriteFile(t / "keys/.hidden.pem", "ignored\n");
  auto set = sign::LoadTrustDir(fs, t / "keys");
  REQUIRE(set.ok());
  CHECK(set->size() == 1);
  // The union with the node's own directory (DATA/replication/trusted-keys).
  REQUIRE(fs.MakeDir(t / "node").ok());
  REQUIRE(fs.MakeDir(t / "node/replication").ok());
  REQUIRE(fs.MakeDir(t / "node/replication/trusted-keys").ok());
  fsys::copy(b.pub, t / "node/replication/trusted-keys/b.pem");
  auto both = sign::LoadTrustSet(fs, t / "keys", t / "node");
  REQUIRE(both.ok());
  CHECK(both->size() == 2);
  auto own = sign::LoadTrustSet(fs, "", t / "node");  // no flag: the node's keys still count
  REQUIRE(own.ok());
  CHECK(own->size() == 1);
  auto none = sign::LoadTrustSet(fs, "", t / "nothing");
  REQUIRE(none.ok());
  CHECK(none->empty());
  // Malformed: each one is 2, naming the file.
  auto refused = [&](const std::string& file, const std::string& bytes) {
    WriteFile(t / "keys" / file, bytes);
    auto r = sign::LoadTrustSet(fs, t / "keys", "");
    CHECK_MESSAGE(r.status().code() == Code::kUsage, file);
    CHECK_MESSAGE(r.status().message().find(t / "keys" / file) != std::string::npos, r.status().message());
    fsys::remove(t / "keys" / file);
  };
  refused("priv.pem", ReadFile(b.priv));  // a private key in the trust directory
  refused("junk.pem", "not a key\n");
  refused("0000000000000000.retired", "3\n");  // no such key
  auto a_pub = sign::LoadTrustDir(fs, t / "keys");
  const std::string id = a_pub->KeyIds().front();
  refused(id + ".retired", "three\n");
  refused(id + ".retired", "0\n");
  refused(id + ".retired", "3");
  refused("ABC.retired", "3\n");
  auto missing = sign::LoadTrustSet(fs, t / "nope", "");
  CHECK(missing.status().code() == Code::kUsage);
  REQUIRE(fs.MakeDir(t / "empty").ok());
  auto empty = sign::LoadTrustSet(fs, t / "empty", "");
  CHECK(empty.status().code() == Code::kUsage);
  CHECK(empty.status().message().find("no trusted keys") == 0);
}

TEST_CASE("SIG-11 a retired key verifies files of earlier epochs and is refused from its epoch on") {
  SignSetup f;
  if (!f.Ready()) return;
  Fs& fs = PosixFs();
  auto set = sign::LoadTrustDir(fs, f.trust);
  REQUIRE(set.ok());
  const std::string id = set->KeyIds().front();
  CHECK_FALSE(set->Find(id)->retired_from.has_value());
  WriteFile(f.trust / (id + ".retired"), "3\n");
  set = sign::LoadTrustDir(fs, f.trust);
  REQUIRE(set.ok());
  REQUIRE(set->Find(id)->retired_from.has_value());
  CHECK(*set->Find(id)->retired_from == 3);
  // Two directories: the earlier retirement wins.
  sign::TrustSet merged = *set;
  sign::TrustedKey k = *set->Find(id);
  k.retired_from = 2;
  merged.Add(k);
  CHECK(*merged.Find(id)->retired_from == 2);
}
