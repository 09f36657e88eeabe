#include <doctest/doctest.h>

#include "node/state.h"
#include "node/store.h"
#include "repl/verify.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

std::string MakeNode(const TempDir& t, int commits) {
  const std::string dir = t / "db";
  REQUIRE(node::Node::Init(PosixFs(), dir).ok());
  auto n = node::Node::Open(PosixFs(), dir, node::Access::kWrite);
  REQUIRE(n.ok());
  for (int i = 0; i < commits; ++i) {
    REQUIRE((*n)->Commit({{node::Op::Kind::kPut, "c", "k" + std::to_string(i), "{}"}}).ok());
  }
  REQUIRE((*n)->Close().ok());
  return dir;
}

int Count(const repl::VerifyReport& r, const std::string& kind) {
  int n = 0;
  for (auto& f : r.findings) n += f.kind == kind;
  return n;
}

}  // namespace

TEST_CASE("verify data dir: summary of a healthy node") {
  TempDir t;
  const std::string dir = MakeNode(t, 5);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->kind == "data-dir");
  CHECK(r->outcome() == Code::kOk);
  CHECK(r->findings.empty());
  REQUIRE(r->wal);
  CHECK(r->wal->records == 10);
  CHECK(r->wal->write_sets == 5);
  CHECK(r->wal->first_commit == 1);
  CHECK(r->wal->last_commit == 5);
  CHECK(r->wal->first_sequence == 1);
  CHECK(r->wal->last_sequence == 10);
  auto state = node::LoadState(PosixFs(), dir, *node::LoadIdentity(PosixFs(), dir));
  CHECK(r->wal->digest == state->applied_digest);
}

TEST_CASE("verify data dir: a flipped byte is damage with its offset") {
  TempDir t;
  const std::string dir = MakeNode(t, 5);
  std::string wal = ReadFile(dir + "/wal/wal.log");
  const size_t third = wal.size() / 5 * 2;  // every write set has the same size here
  FlipBitInFile(dir + "/wal/wal.log", third + 14, 0);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kDamage);
  REQUIRE(Count(*r, "corrupt") == 1);
  for (auto& f : r->findings) {
    if (f.kind == "corrupt") CHECK(f.offset == third);
  }
  // The log now ends before what state.json acknowledges: reported too.
  CHECK(Count(*r, "state") == 1);
}

TEST_CASE("verify data dir: a digest that disagrees with state.json is damage") {
  TempDir t;
  const std::string dir = MakeNode(t, 2);
  auto s = node::LoadState(PosixFs(), dir, *node::LoadIdentity(PosixFs(), dir));
  s->applied_digest[0] ^= 1;
  REQUIRE(node::SaveState(PosixFs(), dir, *s).ok());
  auto r = repl::Verify(PosixFs(), dir, {});
  CHECK(Count(*r, "digest") == 1);
  CHECK(r->outcome() == Code::kDamage);
}

TEST_CASE("verify data dir: a damaged checkpoint snapshot fails its AeroDB checksum") {
  TempDir t;
  const std::string dir = MakeNode(t, 3);
  {
    auto n = node::Node::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  FlipBitInFile(dir + "/snapshots/00000000000000000003/storage.dat", 12, 0);
  auto r = repl::Verify(PosixFs(), dir, {});
  CHECK(Count(*r, "checksum") == 1);
  CHECK(r->outcome() == Code::kDamage);
}

TEST_CASE("verify WAL file: torn tail is a notice, exit ok") {
  TempDir t;
  WalBuilder b;
  b.WriteSets(1, 3);
  WriteFile(t / "wal.log", b.bytes().substr(0, b.bytes().size() - 5));
  auto r = repl::Verify(PosixFs(), t / "wal.log", {});
  CHECK(r->outcome() == Code::kOk);
  CHECK(Count(*r, "torn-tail") == 1);
  CHECK(r->wal->write_sets == 2);
}

TEST_CASE("verify WAL file: --system-id seeds the digest (HIST-4)") {
  TempDir t;
  WriteFile(t / "wal.log", WalBuilder().WriteSets(1, 2).bytes());
  repl::VerifyOptions opt;
  auto zero = repl::Verify(PosixFs(), t / "wal.log", opt);
  CHECK(zero->wal->digest_from_zero_system_id);
  opt.system_id_hex = "00112233445566778899aabbccddeeff";
  auto seeded = repl::Verify(PosixFs(), t / "wal.log", opt);
  CHECK_FALSE(seeded->wal->digest_from_zero_system_id);
  CHECK(zero->wal->digest != seeded->wal->digest);
}

TEST_CASE("verify: absent path is kNotFound; a plain directory is a usage error") {
  TempDir t;
  CHECK(repl::Verify(PosixFs(), t / "absent", {}).status().code() == Code::kNotFound);
  CHECK(repl::Verify(PosixFs(), t.path(), {}).status().code() == Code::kUsage);
}
