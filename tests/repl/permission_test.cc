// FM-137, FM-138: what a command does with a path this user may not read
// (10, never absence or damage) and with housekeeping it may not do after
// its work is done (a warning). The suite runs as root, which passes every
// mode bit, so permissions are modelled at the Fs seam (support/denied_fs.h);
// tests/cli/cli_permissions.sh runs the binaries as an unprivileged user.
// Also NODE-2 (replication/ without identity.json), a dangling symbolic
// link where a node file stands, and what verify says of the files status
// reads (the trust directory, shipped positions).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_util.h"
#include "engine/reference_node.h"
#include "history/history_file.h"
#include "node/layout.h"
#include "node/state.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/status.h"
#include "repl/verify.h"
#include "sign/signature_format.h"
#include "support/denied_fs.h"
#include "support/repl_fixture.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

Status Export(Fs& fs, const std::string& dir, const std::string& out) {
  repl::ExportOptions o;
  o.data_dir = dir;
  o.output = out;
  return repl::ExportSnapshot(fs, o, nullptr);
}

Status ApplyWith(Fs& fs, const std::string& replica, const std::string& inbox) {
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  return repl::ApplyWal(fs, o, nullptr);
}

bool Exists(const std::string& p) { return std::filesystem::exists(std::filesystem::symlink_status(p)); }

// A primary of 5 write sets shipped into t/out and applied to t/r.
void PrimaryAndReplica(const TempDir& t) {
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
}

// aerodb checkpoint of `dir`.
void Checkpoint(const std::string& dir) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  REQUIRE(n.ok());
  REQUIRE((*n)->Checkpoint().ok());
  REQUIRE((*n)->Close().ok());
}

bool HasControlChar(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("FM-137 a replication/ this user may not enter is 10, never a plain AeroDB directory or not a node") {
  TempDir t;
  PrimaryAndReplica(t);
  DeniedFs fs;
  fs.Deny(t / "p/replication");
  fs.Deny(t / "r/replication");
  CHECK(node::HasIdentity(fs, t / "p").status().code() == Code::kIo);
  // export: before, a node whose identity could not be looked at was
  // exported as an AeroDB directory, under the all-zero system id, exit 0.
  Status exported = Export(fs, t / "p", t / "a.tar");
  CHECK(exported.code() == Code::kIo);
  CHECK(exported.message().find("Permission denied") != std::string::npos);
  CHECK_FALSE(exported.hint().empty());
  CHECK_FALSE(Exists(t / "a.tar"));
  // apply-wal: before, "not empty and not a node" (5).
  Status applied = ApplyWith(fs, t / "r", t / "out");
  CHECK(applied.code() == Code::kIo);
  CHECK(applied.message().find("replication") != std::string::npos);
  // verify: the fault's own 10.
  auto v = repl::Verify(fs, t / "p", {});
  CHECK((v.ok() ? v->outcome() : v.status().code()) == Code::kIo);
}

TEST_CASE("FM-137 an unreadable base snapshot or storage file is 10, never damage") {
  TempDir t;
  MakePrimary(t / "p", 5);
  Checkpoint(t / "p");
  const std::string snap = t / "p/snapshots/00000000000000000005";
  REQUIRE(std::filesystem::is_directory(snap));
  {
    DeniedFs fs;
    fs.Deny(snap);
    // The node's open: before, "base snapshot missing", 1.
    auto st = repl::GetStatus(fs, t / "p", std::nullopt);
    REQUIRE_FALSE(st.ok());
    CHECK(st.status().code() == Code::kIo);
    auto v = repl::Verify(fs, t / "p", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kIo);
    for (const repl::Finding& f : v->findings) CHECK(f.severity != repl::Severity::kDamage);
  }
  for (const std::string& file : {snap + "/storage.dat", t / "p/data/documents.dat"}) {
    CAPTURE(file);
    DeniedFs fs;
    fs.DenyRead(file);
    auto v = repl::Verify(fs, t / "p", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kIo);  // before: 1, with no hint
    bool named = false;
    for (const repl::Finding& f : v->findings) {
      CHECK(f.severity != repl::Severity::kDamage);
      if (f.subject == file) named = !f.hint.empty();
    }
    CHECK(named);
  }
}

TEST_CASE("FM-137 status reports an unreadable replication/shipped/ as a problem (10)") {
  TempDir t;
  PrimaryAndReplica(t);
  DeniedFs fs;
  fs.Deny(t / "p/replication/shipped");
  auto st = repl::GetStatus(fs, t / "p", std::nullopt);
  REQUIRE(st.ok());
  REQUIRE(st->problems.size() == 1);
  CHECK(st->problems[0].code() == Code::kIo);
  CHECK(st->outcome() == Code::kIo);  // before: no position, no problem, 0
}

TEST_CASE("FM-138 install's exchange done, the old tree not removable: 0 with a warning") {
  TempDir t;
  PrimaryAndReplica(t);
  REQUIRE(Export(PosixFs(), t / "p", t / "a.tar").ok());
  WriteFile(t / "r/metadata/stray", "another user's file");
  DeniedFs fs;
  // After the exchange the old tree lies under the temp name.
  fs.DenyRead(t / ".r.install.tmp/metadata/stray");
  repl::InstallOptions o;
  o.data_dir = t / "r";
  o.archive = t / "a.tar";
  o.discard_existing = true;
  repl::InstallReport rep;
  Status s = repl::InstallSnapshot(fs, o, &rep);
  CHECK(s.ok());  // before: 10, though the new replica was in place
  CHECK(rep.cleanup_warning.code() == Code::kIo);
  CHECK(rep.cleanup_warning.message().find(".r.install.tmp") != std::string::npos);
  CHECK(rep.cleanup_warning.hint().find("installed") != std::string::npos);
  CHECK(StateOf(t / "r").applied_commit == 5);
  CHECK_FALSE(Exists(t / "r/metadata/stray"));
  CHECK(Exists(t / ".r.install.tmp/metadata/stray"));
}

TEST_CASE("FM-137 install refuses to swap past an old replica's lock it cannot look for") {
  TempDir t;
  PrimaryAndReplica(t);
  REQUIRE(Export(PosixFs(), t / "p", t / "a.tar").ok());
  DeniedFs fs;
  fs.DenyStat(t / "r/replication/lock");
  repl::InstallOptions o;
  o.data_dir = t / "r";
  o.archive = t / "a.tar";
  o.discard_existing = true;
  Status s = repl::InstallSnapshot(fs, o, nullptr);
  CHECK(s.code() == Code::kIo);
  CHECK(Exists(t / "r/replication/lock"));  // the old replica is still DIR
  CHECK_FALSE(Exists(t / ".r.install.tmp"));
}

TEST_CASE("FM-138 ship-wal publishes past another user's leftover temp in a sticky target") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const std::string left = t / "out/.00000001-0000000000000001-0000000000000005.seg.0123456789abcdef.tmp";
  WriteFile(left, "x");
  DeniedFs fs;
  fs.DenyRead(left);
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  repl::ShipReport rep;
  Status s = repl::ShipWal(fs, o, &rep);
  CHECK(s.ok());  // before: 10, nothing published
  CHECK(rep.left_temps_removed == 0);
  CHECK(Segments(t / "out").size() == 1);
  CHECK(Exists(left));
}

TEST_CASE("NODE-2 replication/ without identity.json is not an AeroDB directory: export and verify say 9") {
  TempDir t;
  MakePrimary(t / "p", 3);
  REQUIRE(PosixFs().Remove(t / "p/replication/identity.json").ok());
  CHECK(node::HasIdentity(PosixFs(), t / "p").status().code() == Code::kNotFound);
  // Before: exported as an AeroDB directory under the all-zero system id.
  CHECK(Export(PosixFs(), t / "p", t / "a.tar").code() == Code::kNotFound);
  CHECK_FALSE(Exists(t / "a.tar"));
  auto v = repl::Verify(PosixFs(), t / "p", {});
  CHECK((v.ok() ? v->outcome() : v.status().code()) == Code::kNotFound);
  // An AeroDB directory (no replication/ at all) is still one.
  std::filesystem::remove_all(t / "p/replication");
  CHECK(*node::HasIdentity(PosixFs(), t / "p") == false);
}

TEST_CASE("FM-137 a node file behind a dangling symbolic link is 10, never absence") {
  TempDir t;
  MakePrimary(t / "p", 3);
  // halt.json: before, the node read as not halted (0).
  REQUIRE(::symlink("/nonexistent/halt", (t / "p/replication/halt.json").c_str()) == 0);
  auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  CHECK((st.ok() ? st->outcome() : st.status().code()) == Code::kIo);
  REQUIRE(PosixFs().Remove(t / "p/replication/halt.json").ok());
  // identity.json: before, verify seeded the chain from the zero system id
  // and said 0, and export wrote an archive under it.
  REQUIRE(::rename((t / "p/replication/identity.json").c_str(), (t / "id.json").c_str()) == 0);
  REQUIRE(::symlink("/nonexistent/identity", (t / "p/replication/identity.json").c_str()) == 0);
  Result<FileInfo> info = PosixFs().Stat(t / "p/replication/identity.json");
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == Code::kIo);
  CHECK(info.status().message().find("symbolic link") != std::string::npos);
  CHECK(Export(PosixFs(), t / "p", t / "a.tar").code() == Code::kIo);
  auto v = repl::Verify(PosixFs(), t / "p", {});
  CHECK((v.ok() ? v->outcome() : v.status().code()) == Code::kIo);
}

TEST_CASE("SIG-15 a trust directory replaced by a file or a dangling link is a problem, never not required") {
  TempDir t;
  PrimaryAndReplica(t);
  const std::string trust = t / "r" / std::string(sign::kNodeTrustDir);
  for (int shape = 0; shape < 2; ++shape) {
    CAPTURE(shape);
    std::filesystem::remove_all(trust);
    if (shape == 0) {
      WriteFile(trust, "x");
    } else {
      REQUIRE(::symlink("/nonexistent/keys", trust.c_str()) == 0);
    }
    auto st = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
    REQUIRE(st.ok());
    CHECK_FALSE(st->problems.empty());  // before: "signatures not required", 0
    CHECK(st->outcome() != Code::kOk);
    CHECK_FALSE(Apply(t / "r", t / "out").ok());  // before: unsigned write sets applied
    auto v = repl::Verify(PosixFs(), t / "r", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == st->outcome());
  }
}

TEST_CASE("SIG-4 ARC-4 verify reports a bad trust entry (2) and a damaged shipped position (1) as status does") {
  TempDir t;
  PrimaryAndReplica(t);
  REQUIRE(PosixFs().MakeDir(t / "r/replication/trusted-keys").ok());
  WriteFile(t / "r/replication/trusted-keys/a.pem", "not a key");
  auto st = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(st.ok());
  CHECK(st->outcome() == Code::kUsage);
  auto v = repl::Verify(PosixFs(), t / "r", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kUsage);  // before: 0
  // A shipped position that does not parse: status and ship-wal say 1.
  std::vector<std::string> shipped;
  for (const auto& e : std::filesystem::directory_iterator(t / "p/replication/shipped")) {
    if (e.path().extension() == ".json") shipped.push_back(e.path());
  }
  REQUIRE(shipped.size() == 1);
  WriteFile(shipped[0], "{\"format\":1");
  st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE(st.ok());
  CHECK(st->outcome() == Code::kDamage);
  v = repl::Verify(PosixFs(), t / "p", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);  // before: 0
}

TEST_CASE("OPS-4 a halt.json detail with control characters is escaped in every problem") {
  TempDir t;
  MakePrimary(t / "p", 2);
  node::HaltReason h;
  h.code = "corrupt";
  h.subject = "s";
  h.detail = std::string("x\x1b[2J\nhint: forged\0y", 20);
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", h).ok());
  auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE(st.ok());
  REQUIRE(st->health.code() == Code::kHalted);
  CHECK_FALSE(HasControlChar(st->health.message()));  // before: the ESC, the newline, the NUL raw
  CHECK(st->health.message().find("\\n") != std::string::npos);
  CHECK(st->health.message().find("\\x00y") != std::string::npos);
}

TEST_CASE("FM-132 a history copy that is a FIFO or a directory is 10, never damage") {
  TempDir t;
  MakePrimary(t / "p", 2);
  REQUIRE(PosixFs().MakeDir(t / "p/replication/history").ok());
  const std::string copy = t / "p/replication/history/00000002.history";
  for (int shape = 0; shape < 2; ++shape) {
    CAPTURE(shape);
    std::filesystem::remove_all(copy);
    REQUIRE((shape == 0 ? ::mkfifo(copy.c_str(), 0600) : ::mkdir(copy.c_str(), 0700)) == 0);
    auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
    CHECK((st.ok() ? st->outcome() : st.status().code()) == Code::kIo);  // before: 1
  }
}

TEST_CASE("FM-137 verify of a file it may not open is that fault, never a report of a 0-byte log") {
  TempDir t;
  MakePrimary(t / "p", 3);
  REQUIRE(Export(PosixFs(), t / "p", t / "a.tar").ok());
  DeniedFs fs;
  fs.DenyRead(t / "a.tar");
  auto v = repl::Verify(fs, t / "a.tar", {});
  REQUIRE_FALSE(v.ok());  // before: a "wal-file" report of 0 bytes beside the 10
  CHECK(v.status().code() == Code::kIo);
}

TEST_CASE("FM-137 an init that cannot clear another user's leftover temp node removes its lock file") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / ".n.init.tmp").ok());
  WriteFile(t / ".n.init.tmp/stray", "root's");
  DeniedFs fs;
  fs.Deny(t / ".n.init.tmp");
  Status s = node::Node::Init(fs, t / "n");
  CHECK(s.code() == Code::kIo);
  CHECK_FALSE(Exists(t / ".n.init.lock"));  // before: left behind
  CHECK_FALSE(Exists(t / "n"));
}

namespace {

// Rewrites `dir`'s copy of epoch 2 with another branch_digest, its checksum
// made again: a valid file whose claim contradicts the node's own log.
void ForgeBranchDigest(const std::string& dir) {
  const std::string path = dir + "/replication/history/00000002.history";
  auto id = node::LoadIdentity(PosixFs(), dir);
  REQUIRE(id.ok());
  auto h = history::DecodeHistoryFile(ReadFile(path), 2, id->system_id, path);
  REQUIRE(h.ok());
  h->branch_digest = history::Digest{};
  h->branch_digest[0] = 1;
  WriteFile(path, history::EncodeHistoryFile(*h));
}

}  // namespace

TEST_CASE("RECOV-2 a node's history copy its own log contradicts is damage (1) for verify, apply-wal and ship-wal, never diverged") {
  TempDir t;
  MakeFailover(t.path(), {30, 10, true});
  REQUIRE(Apply(t / "r2", t / "arch").ok());  // r2 follows epoch 2 (branch 30) to 40
  REQUIRE(StateOf(t / "r2").applied_commit == 40);
  ForgeBranchDigest(t / "r2");
  auto v = repl::Verify(PosixFs(), t / "r2", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);  // before: 0
  Status applied = Apply(t / "r2", t / "arch");
  CHECK(applied.code() == Code::kDamage);  // before: 4, "epoch 2 was claimed twice", and a halt
  CHECK(applied.message().find("its branch_digest is not this node's") != std::string::npos);
  CHECK_FALSE(Exists(t / "r2/replication/halt.json"));
  // The primary of epoch 2 with the same forged copy publishes nothing.
  ForgeBranchDigest(t / "r");
  REQUIRE(PosixFs().MakeDir(t / "fresh").ok());
  Status shipped = Ship(t / "r", t / "fresh");
  CHECK(shipped.code() == Code::kDamage);  // before: the copy published, then 4
  CHECK_FALSE(Exists(t / "fresh/00000002.history"));
}

TEST_CASE("FM-137 a checkpoint marker it may not read, or a link to nothing, is 10, never damage") {
  TempDir t;
  MakePrimary(t / "p", 5);
  Checkpoint(t / "p");
  DeniedFs fs;
  fs.DenyRead(t / "p/checkpoint.json");
  auto st = repl::GetStatus(fs, t / "p", std::nullopt);
  REQUIRE_FALSE(st.ok());
  CHECK(st.status().code() == Code::kIo);  // before: 1, "checkpoint marker unreadable"
  std::filesystem::remove(t / "p/checkpoint.json");
  REQUIRE(::symlink("/nonexistent/cp", (t / "p/checkpoint.json").c_str()) == 0);
  st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE_FALSE(st.ok());
  CHECK(st.status().code() == Code::kIo);
}

TEST_CASE("OPS-4 a hint that quotes a path stays on its line") {
  const Status s(Code::kUsage, Problem("unprotected signing key", "k\nhint: forged", "mode 0644"),
                 "chmod 600 k\nhint: forged");
  const std::string text = s.ToString();
  CHECK(text.find("\nhint: forged") == std::string::npos);  // before: a second, forged hint line
  CHECK(text.find("hint: chmod 600 k\\nhint: forged") != std::string::npos);
}

TEST_CASE("FM-137 status --from an inbox with a segment it may not read reports it (10), as apply-wal") {
  TempDir t;
  PrimaryAndReplica(t);
  Write(t / "p", 3, 7);
  REQUIRE(Ship(t / "p", t / "out").ok());
  std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() == 2);
  DeniedFs fs;
  fs.DenyRead(t / "out" / segs[1]);
  CHECK(ApplyWith(fs, t / "r", t / "out").code() == Code::kIo);
  auto st = repl::GetStatus(fs, t / "r", std::string(t / "out"));
  REQUIRE(st.ok());
  CHECK(st->outcome() == Code::kIo);  // before: "no complete segment", 0
}
