// apply-wal in required-signature mode (specs/REPLICATION_SIGNING.md
// SIG-5..SIG-10; FM-90..FM-94): signed files are applied, every other file
// is refused with its own outcome, and none of them halts the replica.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"
#include "node/layout.h"
#include "repl/rejoin.h"
#include "repl/verify.h"
#include "support/sign_repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

TEST_CASE("SIG-5 a replica with trusted keys applies signed segments and refuses an unsigned one without halting") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  Fs& fs = PosixFs();
  MakePrimary(t / "p", 30);
  REQUIRE(fs.MakeDir(t / "out").ok());
  REQUIRE(fs.MakeDir(t / "in").ok());
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  // FM-90: the segments arrive first, their sidecars later: in transit (8), nothing applied.
  Deliver(t / "out", t / "in", /*sidecars=*/false);
  Status s = ApplyTrusting(t / "r", t / "in", k.trust);
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("signature in transit '") == 0);
  CHECK_FALSE(fsys::exists(t / "r"));  // a bootstrap that applied nothing creates nothing
  Deliver(t / "out", t / "in");
  REQUIRE(ApplyTrusting(t / "r", t / "in", k.trust).ok());
  CHECK(StateOf(t / "r").applied_commit == 30);
  // An unsigned continuation: 8, never applied, not halted.
  Write(t / "p", 10, 9);
  REQUIRE(ShipInto(t / "p", t / "out").ok());
  Deliver(t / "out", t / "in");
  s = ApplyTrusting(t / "r", t / "in", k.trust);
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("signature in transit '" + (t / "in")) == 0);
  CHECK(s.message().find("published unsigned") != std::string::npos);
  CHECK(StateOf(t / "r").applied_commit == 30);
  CHECK_FALSE(Halted(t / "r"));
  // The node's own trust directory, which the flag filled (SIG-23): no
  // flag, still required.
  REQUIRE(fsys::is_directory(t / "r/replication/trusted-keys"));
  CHECK(Apply(t / "r", t / "in").code() == Code::kInTransit);
  CHECK(StateOf(t / "r").applied_commit == 30);
  // The primary signs what it shipped unsigned on its next signing run; the replica goes on.
  fsys::remove_all(t / "p/replication/shipped");
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  Deliver(t / "out", t / "in");
  REQUIRE(Apply(t / "r", t / "in").ok());
  CHECK(StateOf(t / "r").applied_commit == 40);
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("SIG-7 SIG-8 a forged continuation by an attacker without a trusted key is refused, never applied, never halting") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  Fs& fs = PosixFs();
  MakePrimary(t / "p", 30);
  REQUIRE(fs.MakeDir(t / "out").ok());
  REQUIRE(fs.MakeDir(t / "in").ok());
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  Deliver(t / "out", t / "in");
  REQUIRE(ApplyTrusting(t / "r", t / "in", k.trust).ok());
  // The attacker holds every file: a copy of the primary's data, so the
  // forgery chains correctly from commit 30. No private key of a.
  fsys::copy(t / "p", t / "evil", fsys::copy_options::recursive);
  fsys::remove_all(t / "evil/replication/shipped");
  Write(t / "evil", 5, 666);
  REQUIRE(fs.MakeDir(t / "forged").ok());
  REQUIRE(ShipInto(t / "evil", t / "forged").ok());
  // The real primary's continuation, signed.
  Write(t / "p", 5, 7);
  REQUIRE(fs.MakeDir(t / "real").ok());
  fsys::copy(t / "out", t / "real", fsys::copy_options::recursive);
  REQUIRE(ShipSigned(t / "p", t / "real", k.a.priv).ok());
  std::vector<std::string> fnames;
  for (const std::string& n : SortedNames(Segments(t / "forged"))) {
    if (!FileExists(t / "in" / n)) fnames.push_back(n);
  }
  REQUIRE(!fnames.empty());
  const std::string next = fnames.front();
  REQUIRE(FileExists(t / "real" / next));  // the same name: the same commit range
  const uint64_t applied = StateOf(t / "r").applied_commit;
  auto attempt = [&](const std::string& sidecar_bytes) {
    fsys::copy(t / "forged" / next, t / "in" / next, fsys::copy_options::overwrite_existing);
    if (sidecar_bytes.empty()) fsys::remove(t / "in" / (next + ".sig"));
    else WriteFile(t / "in" / (next + ".sig"), sidecar_bytes);
    Status s = ApplyTrusting(t / "r", t / "in", k.trust);
    CHECK(StateOf(t / "r").applied_commit == applied);
    CHECK_FALSE(Halted(t / "r"));
    return s;
  };
  // 1. No sidecar: in transit (8).
  CHECK(attempt("").code() == Code::kInTransit);
  // 2. The real segment's sidecar beside the forged bytes: bad signature (1).
  Status s = attempt(ReadFile(t / "real" / (next + ".sig")));
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("bad signature '" + (t / "in" / next) + ".sig': the file is not the one signed") == 0);
  // 3. Signed with the attacker's own key: unknown key (5).
  {
    repl::ShipOptions o;
    fsys::remove_all(t / "evil/replication/shipped");
    REQUIRE(fs.MakeDir(t / "forged2").ok());
    REQUIRE(ShipSigned(t / "evil", t / "forged2", k.evil.priv).ok());
  }
  s = attempt(ReadFile(t / "forged2" / (next + ".sig")));
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("unknown signing key") == 0);
  // 4. A damaged copy of the real segment with its real sidecar: 1, not a halt (SIG-7).
  fsys::copy(t / "real" / next, t / "in" / next, fsys::copy_options::overwrite_existing);
  WriteFile(t / "in" / (next + ".sig"), ReadFile(t / "real" / (next + ".sig")));
  FlipBitInFile(t / "in" / next, 300, 3);
  s = ApplyTrusting(t / "r", t / "in", k.trust);
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("bad signature") == 0);
  CHECK(StateOf(t / "r").applied_commit == applied);
  CHECK_FALSE(Halted(t / "r"));
  // An honest re-copy: the replica goes on, on the real history.
  fsys::remove(t / "in" / next);
  fsys::remove(t / "in" / (next + ".sig"));
  Deliver(t / "real", t / "in");
  REQUIRE(ApplyTrusting(t / "r", t / "in", k.trust).ok());
  CheckSameHistory(t / "p", t / "r");
  // Without trusted keys the same forgery is applied: integrity is not authenticity.
  fsys::copy(t / "out", t / "in2", fsys::copy_options::recursive);
  fsys::copy(t / "forged" / next, t / "in2" / next);
  REQUIRE(Apply(t / "r2", t / "in2").ok());
  CHECK(StateOf(t / "r2").applied_commit > 30);
}

TEST_CASE("SIG-10 a forged epoch claim is refused without halting, a signed one is followed") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  Fs& fs = PosixFs();
  MakePrimary(t / "p", 30);
  REQUIRE(fs.MakeDir(t / "arch").ok());
  REQUIRE(ShipSigned(t / "p", t / "arch", k.a.priv, /*claim_archive=*/true).ok());
  REQUIRE(ApplyTrusting(t / "r", t / "arch", k.trust).ok());
  REQUIRE(ApplyTrusting(t / "r2", t / "arch", k.trust).ok());
  // The attacker promotes a copy of a replica locally: a valid history file
  // for epoch 2, of this system, branching at the replica's commit.
  MakePromotedCopy(t / "p", t / "evil");
  const std::string claim = "00000002.history";
  const std::string forged = ReadFile(t / "evil/replication/history" / claim);
  auto attempt = [&](const std::string& sidecar) {
    WriteFile(t / "arch" / claim, forged);
    if (sidecar.empty()) fsys::remove(t / "arch" / (claim + ".sig"));
    else WriteFile(t / "arch" / (claim + ".sig"), sidecar);
    Status s = ApplyTrusting(t / "r", t / "arch", k.trust);
    CHECK(StateOf(t / "r").epoch == 1);
    CHECK(StateOf(t / "r").applied_commit == 30);
    CHECK_FALSE(Halted(t / "r"));
    return s;
  };
  Status s = attempt("");
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("signature in transit '" + (t / "arch" / claim) + ".sig'") == 0);
  // Signed by the attacker's key: the evil node ships it with its own key.
  REQUIRE(fs.MakeDir(t / "evil_out").ok());
  REQUIRE(ShipSigned(t / "evil", t / "evil_out", k.evil.priv).ok());
  s = attempt(ReadFile(t / "evil_out" / (claim + ".sig")));
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("unknown signing key") == 0);
  // A signed statement of a trusted key, but of another file: 1.
  const std::string seg0 = SortedNames(Segments(t / "arch")).front();
  s = attempt(ReadFile(t / "arch" / (seg0 + ".sig")));
  CHECK(s.code() == Code::kDamage);
  // promote with trusted keys reads no unsigned claim: the forged one is
  // in transit (8) for it, and nothing is written.
  {
    WriteFile(t / "arch" / claim, forged);
    fsys::remove(t / "arch" / (claim + ".sig"));
    repl::PromoteOptions forged_po;
    forged_po.data_dir = t / "r2";
    forged_po.archive = t / "arch";
    forged_po.trusted_keys = k.trust;
    Status refused = repl::Promote(PosixFs(), forged_po, nullptr);
    CHECK(refused.code() == Code::kInTransit);
    CHECK(refused.message().find("signature in transit '" + (t / "arch" / claim) + ".sig'") == 0);
    CHECK(StateOf(t / "r2").role == node::Role::kReplica);
    CHECK_FALSE(StateOf(t / "r2").promoting.has_value());
  }
  // A real failover: r2 promotes against the claim archive, signs and ships;
  // r follows the signed claim.
  fsys::remove(t / "arch" / claim);
  fsys::remove(t / "arch" / (claim + ".sig"));
  repl::PromoteOptions po;
  po.data_dir = t / "r2";
  po.archive = t / "arch";
  po.signing_key = k.a.priv;
  po.trusted_keys = k.trust;
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  REQUIRE(FileExists(t / "arch" / (claim + ".sig")));  // promote --signing-key signs its claim
  REQUIRE(ApplyTrusting(t / "r", t / "arch", k.trust).ok());
  // A claim whose signature has not arrived: in transit, not followed, not halted.
  const std::string claim_sig = ReadFile(t / "arch" / (claim + ".sig"));
  fsys::remove(t / "arch" / (claim + ".sig"));
  CHECK(ApplyTrusting(t / "r", t / "arch", k.trust).code() == Code::kInTransit);
  CHECK_FALSE(Halted(t / "r"));
  WriteFile(t / "arch" / (claim + ".sig"), claim_sig);
  Write(t / "r2", 10, 5);
  REQUIRE(ShipSigned(t / "r2", t / "arch", k.a.priv).ok());
  REQUIRE(ApplyTrusting(t / "r", t / "arch", k.trust).ok());
  CHECK(StateOf(t / "r").epoch == 2);
  CheckSameHistory(t / "r2", t / "r");
}

TEST_CASE("SIG-13 verify of a directory with trusted keys gives apply-wal's outcome") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  Fs& fs = PosixFs();
  MakePrimary(t / "p", 30);
  REQUIRE(fs.MakeDir(t / "in").ok());
  REQUIRE(ShipSigned(t / "p", t / "in", k.a.priv).ok());
  const std::vector<std::string> segs = SortedNames(Segments(t / "in"));
  REQUIRE(segs.size() >= 3);
  repl::VerifyOptions vo;
  vo.trusted_keys = k.trust;
  auto all_signed = repl::Verify(fs, t / "in", vo);
  REQUIRE(all_signed.ok());
  CHECK(all_signed->outcome() == Code::kOk);
  auto kinds = [](const repl::VerifyReport& r) {
    std::string out;
    for (const repl::Finding& f : r.findings) out += f.kind + " ";
    return out;
  };
  // The sidecar of the second segment is another segment's: 1, as apply-wal.
  WriteFile(t / "in" / (segs[1] + ".sig"), ReadFile(t / "in" / (segs[0] + ".sig")));
  auto bad = repl::Verify(fs, t / "in", vo);
  REQUIRE(bad.ok());
  CHECK(bad->outcome() == Code::kDamage);
  CHECK(kinds(*bad) == "bad-signature ");
  CHECK(ApplyTrusting(t / "r", t / "in", k.trust).code() == Code::kDamage);
  // Without it, the first problem is the missing sidecar: 8, as apply-wal.
  fsys::remove(t / "in" / (segs[1] + ".sig"));
  auto missing = repl::Verify(fs, t / "in", vo);
  REQUIRE(missing.ok());
  CHECK(missing->outcome() == Code::kInTransit);
  CHECK(kinds(*missing) == "unsigned ");
  CHECK(ApplyTrusting(t / "r", t / "in", k.trust).code() == Code::kInTransit);
  // No trusted keys: no signature is checked.
  auto plain = repl::Verify(fs, t / "in", {});
  REQUIRE(plain.ok());
  CHECK(plain->outcome() == Code::kOk);
}

// SIG-23: the flag's keys join the replica's own trust directory, at a
// bootstrap (inside its temp tree) and on a replica that had none, so a
// run without the flag still refuses what the flag refused. An operator
// trial swapped two sidecars after dropping the flag, and apply-wal
// applied both segments.
TEST_CASE("SIG-23 a replica given --trusted-keys keeps them: a run without the flag still refuses a bad signature") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() >= 4);
  for (const bool bootstrap : {true, false}) {
    CAPTURE(bootstrap);
    fsys::remove_all(t / "r");
    fsys::remove_all(t / "in");
    fsys::copy(t / "out", t / "in", fsys::copy_options::recursive);
    repl::ApplyOptions o;
    o.data_dir = t / "r";
    o.inbox = t / "in";
    o.until = 5;
    if (bootstrap) {
      o.trusted_keys = k.trust;
      REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
    } else {
      REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());  // no keys yet
      CHECK_FALSE(fsys::exists(t / "r/replication/trusted-keys"));
      o.until = 6;
      o.trusted_keys = k.trust;
      REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
    }
    // One file, KEYID.pem, the key's PEM bytes; no temp file left.
    std::vector<std::string> kept;
    for (const auto& e : fsys::directory_iterator(t / "r/replication/trusted-keys")) {
      kept.push_back(e.path().filename().string());
    }
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].size() == 16 + 4);
    CHECK(ReadFile(t / "r/replication/trusted-keys" / kept[0]) == ReadFile(k.a.pub));
    // The sidecars of two segments past the replica's position, swapped.
    const std::string x = t / "in" / (segs[2] + ".sig"), y = t / "in" / (segs[3] + ".sig");
    const std::string bx = ReadFile(x);
    WriteFile(x, ReadFile(y));
    WriteFile(y, bx);
    const uint64_t before = StateOf(t / "r").applied_commit;
    Status s = Apply(t / "r", t / "in");  // no flag
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("bad signature '") == 0);
    CHECK(StateOf(t / "r").applied_commit < 30);
    CHECK(StateOf(t / "r").applied_commit >= before);
    CHECK_FALSE(Halted(t / "r"));
  }
}

TEST_CASE("SIG-7 in required mode a damaged encrypted segment is a bad signature (1), never a halt") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  crypto::EncryptionKey key;
  for (size_t i = 0; i < key.key.bytes.size(); ++i) key.key.bytes[i] = static_cast<uint8_t>(7 * i + 1);
  key.key.id = crypto::KeyIdOf(key.key.bytes);
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipOptions so;
  so.data_dir = t / "p";
  so.target = t / "out";
  so.max_segment_bytes = 3000;
  so.signing_key = k.a.priv;
  so.encryption = &key;
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() >= 2);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  for (const std::string& n : {segs[0], segs[1]}) {
    fsys::copy_file(t / "out" / n, t / "in" / n);
    fsys::copy_file(t / "out" / (n + ".sig"), t / "in" / (n + ".sig"));
  }
  std::string bytes = ReadFile(t / "in" / segs[1]);
  bytes[200] = static_cast<char>(bytes[200] ^ 1);  // a chunk's ciphertext: its tag fails
  WriteFile(t / "in" / segs[1], bytes);
  crypto::DecryptingFs fs(PosixFs(), &keys);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "in";
  o.trusted_keys = k.trust;
  Status s = repl::ApplyWal(fs, o, nullptr);
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("bad signature") == 0);  // before: "corrupt segment", and a halt
  CHECK_FALSE(Halted(t / "r"));
  fsys::copy_file(t / "out" / segs[1], t / "in" / segs[1], fsys::copy_options::overwrite_existing);
  CHECK(repl::ApplyWal(fs, o, nullptr).ok());  // an honest copy goes on
}

TEST_CASE("SIG-10 an unsigned epoch claim neither fences a primary in required mode nor rejoins it") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "p/replication/trusted-keys").ok());
  for (const auto& e : fsys::directory_iterator(k.trust)) {
    fsys::copy_file(e.path(), t / "p/replication/trusted-keys" / e.path().filename().string());
  }
  REQUIRE(PosixFs().MakeDir(t / "arc").ok());
  REQUIRE(ShipSigned(t / "p", t / "arc", k.a.priv, /*claim_archive=*/true).ok());
  // Anyone who can write the archive: a replica of it promoted, unsigned.
  REQUIRE(Apply(t / "evil", t / "arc").ok());
  repl::PromoteOptions po;
  po.data_dir = t / "evil";
  po.archive = t / "arc";
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  REQUIRE(fsys::exists(t / "arc/00000002.history"));
  Write(t / "p", 2, 3);
  Status s = ShipSigned(t / "p", t / "arc", k.a.priv);
  CHECK(s.code() == Code::kInTransit);  // before: 5, fenced for good on an unsigned claim
  CHECK(s.message().find("signature in transit") == 0);
  CHECK_FALSE(StateOf(t / "p").fenced.has_value());
  repl::RejoinOptions ro;
  ro.data_dir = t / "p";
  ro.archive = t / "arc";
  CHECK(repl::Rejoin(PosixFs(), ro, nullptr).code() == Code::kInTransit);  // before: demoted
  CHECK(StateOf(t / "p").role == node::Role::kPrimary);
}

TEST_CASE("SIG-5 LOG-6 in required mode an applied segment copied again without its signature yet is passed over, never a stall") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  Fs& fs = PosixFs();
  MakePrimary(t / "p", 30);
  REQUIRE(fs.MakeDir(t / "out").ok());
  REQUIRE(fs.MakeDir(t / "in").ok());
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  Deliver(t / "out", t / "in");
  REQUIRE(ApplyTrusting(t / "r", t / "in", k.trust).ok());
  // An rsync re-delivering an applied segment died in it, before its sidecar.
  std::vector<std::string> names;
  for (const auto& e : fsys::directory_iterator(t / "in")) {
    if (e.path().extension() == ".seg") names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(!names.empty());
  const std::string old = t / "in" / names.front();
  const std::string full = ReadFile(old);
  WriteFile(old, full.substr(0, full.size() / 2));
  fsys::remove(old + ".sig");
  Write(t / "p", 10, 9);
  REQUIRE(ShipSigned(t / "p", t / "out", k.a.priv).ok());
  for (const auto& e : fsys::directory_iterator(t / "out")) {  // only the new files
    const std::string to = t / "in" / e.path().filename().string();
    if (!fsys::exists(to) && e.path().filename() != names.front() + ".sig") fsys::copy(e.path(), to);
  }
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "in";
  repl::ApplyReport rep;
  REQUIRE(repl::ApplyWal(fs, o, &rep).ok());
  CHECK(StateOf(t / "r").applied_commit == 40);
  bool passed = false;
  for (const auto& seg : rep.segments) passed |= seg.name() == names.front() && seg.outcome == "in-transit";
  CHECK(passed);
  CHECK_FALSE(Halted(t / "r"));
}
