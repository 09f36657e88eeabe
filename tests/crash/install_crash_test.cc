// Crash safety of snapshot install and export (SNAP-10, MODEL-10): a crash at
// every durable step, then power loss: the target is either absent (install
// again) or a complete replica; never a half-installed one. With
// --discard-existing over a replica, after a process kill or a power loss
// at every step, the target is the whole old replica or the whole new one,
// never absent. An export crash never leaves a file under the archive's name.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <vector>

#include "repl/export.h"
#include "engine/reference_node.h"
#include "repl/install.h"
#include "snapshot/archive_reader.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {
void PrimaryWithBase(const TempDir& t) {
  MakePrimary(t / "p", 25);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 8, 3);
}
}  // namespace

TEST_CASE("crash: snapshot install at every step leaves nothing or a whole replica") {
  TempDir t;
  PrimaryWithBase(t);
  // A zstd archive (members from the stream, in order) and a plain one whose
  // members are all read and written at their offsets on two workers at
  // once (SNAP-6), so a crash lands while two member files are half written.
  for (bool plain : {false, true}) {
    CAPTURE(plain);
    repl::ExportOptions eo;
    eo.data_dir = t / "p";
    eo.output = t / (plain ? "a.tar" : "a.tar.zst");
    eo.zstd = !plain;
    REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
    const uint64_t read_at = plain ? 1 : snapshot::kReadAtMinBytes;
    const std::string prefix = plain ? "plain-" : "zstd-";
    uint64_t total = 0;
    {
      FaultyFs fs;
      repl::InstallOptions o{t / (prefix + "count"), eo.output, false, read_at};
      REQUIRE(repl::InstallSnapshot(fs, o, nullptr).ok());
      total = fs.steps();
    }
    MESSAGE("install crash points exercised (" << std::string(plain ? "plain" : "zstd")
                                                << "): " << total);
    const node::NodeState want = StateOf(t / "p");
    snapshot::Manifest manifest;
    {
      auto f = PosixFs().OpenRead(eo.output);
      REQUIRE(f.ok());
      const snapshot::ArchiveCheck c = snapshot::ReadArchive(**f);
      REQUIRE(c.state == snapshot::ArchiveState::kValid);
      manifest = *c.manifest;
    }
    for (uint64_t k = 1; k <= total; ++k) {
      CAPTURE(k);
      const std::string dir = t / (prefix + "r" + std::to_string(k));
      FaultyFs fs;
      fs.CrashAt(k);
      repl::InstallOptions o{dir, eo.output, false, read_at};
      const bool acked = repl::InstallSnapshot(fs, o, nullptr).ok();
      fs.PowerLoss();
      if (FileExists(dir)) {
        auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kRead);
        REQUIRE(n.ok());  // complete, or it would not be there
        CHECK((*n)->state().applied_commit == want.applied_commit);
        CHECK((*n)->state().applied_digest == want.applied_digest);
        for (const snapshot::Member& mem : manifest.members) {  // every byte, synced
          CAPTURE(mem.path);
          // The WAL (no member hash, SNAP-15): the exported node's bytes.
          const std::string want_sha = ToHex(
              mem.sha256 ? *mem.sha256 : Sha256::Of(ReadFile(t / "p" / mem.path)));
          CHECK(ToHex(Sha256::Of(ReadFile(dir + "/" + mem.path))) == want_sha);
        }
      } else {
        CHECK_FALSE(acked);  // an acknowledged install survives
        REQUIRE(repl::InstallSnapshot(PosixFs(), o, nullptr).ok());  // and a re-run converges
        CHECK(StateOf(dir).applied_commit == want.applied_commit);
      }
    }
  }
}

TEST_CASE("crash: snapshot export at every step never leaves a partial archive under its name") {
  TempDir t;
  PrimaryWithBase(t);
  uint64_t total = 0;
  {
    FaultyFs fs;
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = t / "count.tar.zst";
    REQUIRE(repl::ExportSnapshot(fs, o, nullptr).ok());
    total = fs.steps();
  }
  MESSAGE("export crash points exercised: " << total);
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    FaultyFs fs;
    fs.CrashAt(k);
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = t / ("a" + std::to_string(k) + ".tar.zst");
    const bool acked = repl::ExportSnapshot(fs, o, nullptr).ok();
    fs.PowerLoss();
    if (FileExists(o.output)) {
      auto f = PosixFs().OpenRead(o.output);
      CHECK(snapshot::ReadArchive(**f).state == snapshot::ArchiveState::kValid);
    } else {
      CHECK_FALSE(acked);
    }
  }
}

namespace {

// Every file and directory under `dir`, relative path -> bytes ("/" for a
// directory): two trees are the same replica exactly when these are equal.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fsys::recursive_directory_iterator(dir)) {
    const std::string rel = fsys::relative(e.path(), dir).string();
    out[rel] = e.is_directory() ? "/" : ReadFile(e.path().string());
  }
  return out;
}

// What lies beside `dir` under its hidden names (.NAME.*): temp trees, locks.
std::vector<std::string> Leftovers(const std::string& dir) {
  std::vector<std::string> out;
  const std::string prefix = "." + BaseName(dir) + ".";
  for (const auto& e : fsys::directory_iterator(DirName(dir))) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

}  // namespace

TEST_CASE("crash SNAP-10 FM-37 FM-38: install --discard-existing at every step leaves the whole old replica or the whole new one") {
  TempDir t;
  MakePrimary(t / "p", 25);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  repl::ExportOptions eo;
  eo.data_dir = t / "p";
  eo.output = t / "old.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());  // boundary 25
  Write(t / "p", 8, 3);
  eo.output = t / "new.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());  // boundary 33
  auto install = [&](Fs& fs, const std::string& dir, const std::string& archive, bool discard) {
    repl::InstallOptions o{dir, archive, discard};
    return repl::InstallSnapshot(fs, o, nullptr);
  };
  REQUIRE(install(PosixFs(), t / "ref-old", t / "old.tar.zst", false).ok());
  REQUIRE(install(PosixFs(), t / "ref-new", t / "new.tar.zst", false).ok());
  const auto old_tree = Tree(t / "ref-old");
  const auto new_tree = Tree(t / "ref-new");
  REQUIRE(old_tree != new_tree);
  uint64_t total = 0;
  {
    REQUIRE(install(PosixFs(), t / "count", t / "old.tar.zst", false).ok());
    FaultyFs fs;
    REQUIRE(install(fs, t / "count", t / "new.tar.zst", true).ok());
    total = fs.steps();
    CHECK(Tree(t / "count") == new_tree);
    CHECK(Leftovers(t / "count").empty());
  }
  MESSAGE("install --discard-existing crash points exercised: " << total
                                                               << " (each after a process kill and after a power loss)");
  for (bool power_loss : {false, true}) {
    for (uint64_t k = 1; k <= total; ++k) {
      CAPTURE(power_loss);
      CAPTURE(k);
      const std::string dir = t / ((power_loss ? "pl" : "kill") + std::to_string(k));
      REQUIRE(install(PosixFs(), dir, t / "old.tar.zst", false).ok());
      FaultyFs fs;
      fs.CrashAt(k);
      const bool acked = install(fs, dir, t / "new.tar.zst", true).ok();
      if (power_loss) {
        fs.PowerLoss();
      } else {
        fs.ProcessRestart();  // killed: nothing is rolled back
      }
      // Never neither, never a mix: DIR is one of the two replicas, whole.
      REQUIRE(FileExists(dir));
      const auto tree = Tree(dir);
      CHECK((tree == old_tree || tree == new_tree));
      if (acked) CHECK(tree == new_tree);  // an acknowledged install survives
      // A re-run with the same command completes and cleans up after itself.
      REQUIRE(install(PosixFs(), dir, t / "new.tar.zst", true).ok());
      CHECK(Tree(dir) == new_tree);
      CHECK(Leftovers(dir).empty());
    }
  }
  // A transient EIO at every step, then a power loss: the same. The fsync of
  // the parent after the swap failing once left 10, "nothing acknowledged
  // was lost", and the old tree deleted though the swap was not durable.
  int not_durable = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("eio" + std::to_string(k));
    REQUIRE(install(PosixFs(), dir, t / "old.tar.zst", false).ok());
    FaultyFs fs;
    fs.FailOnceAt(k, EIO);
    const Status s = install(fs, dir, t / "new.tar.zst", true);
    if (!s.ok()) {
      CHECK(s.code() == Code::kIo);
      CHECK_FALSE(s.hint().empty());
    }
    if (s.message().rfind("installed, not yet durable", 0) == 0) {
      ++not_durable;
      CHECK(s.hint().find("run sync") != std::string::npos);
      CHECK(Tree(dir) == new_tree);  // the swap is done,
      CHECK(Tree(JoinPath(DirName(dir), "." + BaseName(dir) + ".install.tmp")) == old_tree);  // the old kept whole
    }
    fs.PowerLoss();
    REQUIRE(FileExists(dir));
    const auto tree = Tree(dir);
    CHECK((tree == old_tree || tree == new_tree));
    REQUIRE(install(PosixFs(), dir, t / "new.tar.zst", true).ok());
    CHECK(Tree(dir) == new_tree);
    CHECK(Leftovers(dir).empty());
  }
  CHECK(not_durable == 1);  // the parent's fsync after the swap
}
