// The trust directory (specs/REPLICATION_SIGNING.md SIG-4, SIG-11).
#include <doctest/doctest.h>

#include <filesystem>

#include "sign/signature_format.h"
#include "sign/trust.h"
#include "support/forwarding_fs.h"
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

namespace {
// Every write of a file whose name ends in `suffix` fails (a full disk).
class FailWritesFs : public testing::ForwardingFs {
 public:
  explicit FailWritesFs(std::string suffix) : suffix_(std::move(suffix)) {}
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    if (p.size() >= suffix_.size() && p.compare(p.size() - suffix_.size(), suffix_.size(), suffix_) == 0) {
      return Status(Code::kIo, "cannot write '" + p + "': No space left on device", "free some space");
    }
    return ForwardingFs::OpenWrite(p, m);
  }

 private:
  std::string suffix_;
};
}  // namespace

// SIG-23 (SIG-22's writer too): what a node keeps is the key as parsed, a
// retirement goes before its key, and a symlinked trust directory is not
// written through. From a review of the change.
TEST_CASE("SIG-23 KeepTrustSet: the key re-encoded, the retirement first, never through a symlink") {
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  TempDir t;
  Fs& fs = PosixFs();
  REQUIRE(fs.MakeDir(t / "flag").ok());
  const KeyFiles a = MakeKey(t.path(), "a");
  // A flag file that holds the private key block too: it loads as the
  // public key, and the private block must never reach a replica.
  WriteFile(t / "flag/a.pem", ReadFile(a.priv) + ReadFile(a.pub));
  auto flag = sign::LoadTrustDir(fs, t / "flag");
  REQUIRE(flag.ok());
  REQUIRE(flag->size() == 1);
  const std::string id = flag->KeyIds()[0];
  WriteFile(t / "flag" / (id + ".retired"), "3\n");
  flag = sign::LoadTrustDir(fs, t / "flag");
  REQUIRE(flag.ok());
  const std::string node = t / "node", dir = t / "node/replication/trusted-keys";
  REQUIRE(fs.MakeDir(node).ok());
  REQUIRE(fs.MakeDir(node + "/replication").ok());
  // The key's write fails after the retirement's: the key is not trusted
  // (an orphan retirement refuses, 2), never trusted at epochs >= 3.
  FailWritesFs full(".pem.tmp");
  CHECK(sign::KeepTrustSet(full, node, *flag).code() == Code::kIo);
  CHECK(fsys::exists(dir + "/" + id + ".retired"));
  CHECK_FALSE(fsys::exists(dir + "/" + id + ".pem"));
  CHECK(sign::LoadTrustSet(fs, "", node).status().code() == Code::kUsage);
  // The re-run finishes it.
  REQUIRE(sign::KeepTrustSet(fs, node, *flag).ok());
  auto kept = sign::LoadTrustSet(fs, "", node);
  REQUIRE(kept.ok());
  REQUIRE(kept->Find(id));
  CHECK(kept->Find(id)->retired_from == std::optional<uint32_t>(3));
  const std::string pem = ReadFile(dir + "/" + id + ".pem");
  CHECK(pem.find("PRIVATE") == std::string::npos);
  CHECK(pem == ReadFile(a.pub));  // as 'openssl pkey -pubout' writes it
  // A symlinked trust directory is refused (2), its target unchanged.
  fsys::remove_all(dir);
  REQUIRE(fs.MakeDir(t / "shared").ok());
  fsys::create_directory_symlink(t / "shared", dir);
  CHECK(sign::KeepTrustSet(fs, node, *flag).code() == Code::kUsage);
  CHECK(fsys::is_empty(t / "shared"));
}
