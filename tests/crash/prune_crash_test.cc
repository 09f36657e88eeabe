// prune under a crash or a transient fault at every durable step
// (specs/REPLICATION_RETENTION.md RET-10, RET-11; FM-70, FM-71): what is left
// is a prefix of the plan, `verify` accepts the archive, a replica installed
// from the kept snapshot applies from it, and a re-run converges.
#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "archive/registration.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/prune.h"
#include "repl/register.h"
#include "repl/verify.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {

void ExportInto(const std::string& node, const std::string& path) {
  repl::ExportOptions eo;
  eo.data_dir = node;
  eo.output = path;
  eo.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
}

// snap-30.tar and snap-60.tar beside segments of commits 1..90.
void MakeArchive(const std::string& root) {
  MakePrimary(root + "/p", 30);
  REQUIRE(PosixFs().MakeDir(root + "/arch").ok());
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
  ExportInto(root + "/p", root + "/arch/snap-30.tar");
  Write(root + "/p", 30, 2, 3, 120);
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
  ExportInto(root + "/p", root + "/arch/snap-60.tar");
  Write(root + "/p", 30, 3, 3, 120);
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
}

Status PruneWith(Fs& fs, const std::string& arch) {
  repl::PruneOptions o;
  o.archive = arch;
  o.keep_snapshots = 1;
  return repl::Prune(fs, o, nullptr);
}

// The names readers see (hidden leftovers such as a lock file are not).
std::set<std::string> Visible(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename();
    if (n[0] != '.') out.insert(n);
  }
  return out;
}

// RET-10: the files gone are exactly the first j entries of the plan.
void CheckPrefixRemoved(const std::set<std::string>& before, const std::set<std::string>& now,
                        const std::vector<std::string>& plan) {
  size_t j = 0;
  while (j < plan.size() && !now.count(plan[j])) ++j;
  for (size_t i = j; i < plan.size(); ++i) CHECK(now.count(plan[i]));
  std::set<std::string> gone;
  for (const auto& n : before) {
    if (!now.count(n)) gone.insert(n);
  }
  CHECK(gone == std::set<std::string>(plan.begin(), plan.begin() + static_cast<long>(j)));
}

struct Fixture {
  TempDir t;
  std::string tpl, arch;
  std::vector<std::string> plan;
  std::set<std::string> before, after;
  Fixture() {
    REQUIRE(PosixFs().MakeDir(t / "tpl").ok());
    MakeArchive(t / "tpl");
    tpl = t / "tpl/arch";
    arch = t / "arch";
    before = Visible(tpl);
    CopyTree(tpl, arch);
    repl::PruneOptions o;
    o.archive = arch;
    o.keep_snapshots = 1;
    repl::PruneReport rep;
    REQUIRE(repl::Prune(PosixFs(), o, &rep).ok());
    plan = rep.plan;
    REQUIRE(plan.size() >= 4);
    after = Visible(arch);
  }
};

}  // namespace

TEST_CASE("crash RET-10: prune at every step, then power loss: verify accepts the archive, a replica applies from the kept snapshot, and the re-run converges") {
  Fixture f;
  uint64_t total = 0;
  {
    CopyTree(f.tpl, f.arch);
    FaultyFs fs;
    REQUIRE(PruneWith(fs, f.arch).ok());
    total = fs.steps();
    fs.PowerLoss();  // an acknowledged prune is durable: every removal stays
    CHECK(Visible(f.arch) == f.after);
  }
  MESSAGE("prune crash points exercised: " << total);
  REQUIRE(total >= 2 * f.plan.size());
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(f.tpl, f.arch);
    {
      FaultyFs fs;
      fs.CrashAt(k);
      (void)PruneWith(fs, f.arch);
      fs.PowerLoss();
    }
    CheckPrefixRemoved(f.before, Visible(f.arch), f.plan);
    auto v = repl::Verify(PosixFs(), f.arch, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kOk);
    CHECK(FileExists(f.arch + "/snap-60.tar"));
    const std::string r = f.t / "r";
    std::filesystem::remove_all(r);
    repl::InstallOptions io;
    io.data_dir = r;
    io.archive = f.arch + "/snap-60.tar";
    REQUIRE(repl::InstallSnapshot(PosixFs(), io, nullptr).ok());
    REQUIRE(Apply(r, f.arch).ok());
    CHECK(StateOf(r).applied_commit == 90);
    REQUIRE(PruneWith(PosixFs(), f.arch).ok());  // the re-run converges
    CHECK(Visible(f.arch) == f.after);
  }
}

TEST_CASE("fault RET-11: prune with ENOSPC or EIO at every step is 10 with a hint, and a re-run converges") {
  Fixture f;
  uint64_t total = 0;
  {
    CopyTree(f.tpl, f.arch);
    FaultyFs fs;
    REQUIRE(PruneWith(fs, f.arch).ok());
    total = fs.steps();
  }
  uint64_t failed_runs = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(f.tpl, f.arch);
    Status s;
    {
      FaultyFs fs;
      fs.FailOnceAt(k, k % 2 ? ENOSPC : EIO);
      s = PruneWith(fs, f.arch);
      CAPTURE(s.ToString());
      CHECK(fs.failed());
      if (!s.ok()) {
        ++failed_runs;
        CHECK(s.code() == Code::kIo);
        CHECK_FALSE(s.hint().empty());
      }
    }
    CheckPrefixRemoved(f.before, Visible(f.arch), f.plan);
    REQUIRE(PruneWith(PosixFs(), f.arch).ok());
    CHECK(Visible(f.arch) == f.after);
  }
  CHECK(failed_runs > 0);
}

TEST_CASE("crash RET-3: a registration at every step, then power loss: the old one or the new one, whole") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  REQUIRE(ShipInto(t / "p", t / "arch").ok());
  repl::ApplyOptions ao;
  ao.data_dir = t / "r";
  ao.inbox = t / "arch";
  ao.until = 10;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, nullptr).ok());
  const uint64_t old_commit = StateOf(t / "r").applied_commit;
  repl::RegisterOptions ro;
  ro.data_dir = t / "r";
  ro.archive = t / "arch";
  ro.name = "r";
  REQUIRE(repl::RegisterReplica(PosixFs(), ro, nullptr).ok());
  const std::string old_bytes = ReadFile(t / "arch/replica-r.json");
  REQUIRE(Apply(t / "r", t / "arch").ok());
  REQUIRE(StateOf(t / "r").applied_commit == 30);
  uint64_t total = 0;
  {
    FaultyFs fs;
    REQUIRE(repl::RegisterReplica(fs, ro, nullptr).ok());
    total = fs.steps();
    fs.PowerLoss();  // acknowledged: durable
    auto r = archive::DecodeRegistration(ReadFile(t / "arch/replica-r.json"), "r", "f");
    REQUIRE(r.ok());
    CHECK(r->applied_commit == 30);
  }
  REQUIRE(total >= 4);  // temp write, fsync, replace, directory fsync
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    WriteFile(t / "arch/replica-r.json", old_bytes);
    REQUIRE(PosixFs().SyncDir(t / "arch").ok());
    {
      FaultyFs fs;
      fs.CrashAt(k);
      (void)repl::RegisterReplica(fs, ro, nullptr);
      fs.PowerLoss();
    }
    auto r = archive::DecodeRegistration(ReadFile(t / "arch/replica-r.json"), "r", "f");
    REQUIRE(r.ok());
    CHECK((r->applied_commit == old_commit || r->applied_commit == 30));
    REQUIRE(repl::RegisterReplica(PosixFs(), ro, nullptr).ok());  // a re-run converges
    CHECK(archive::DecodeRegistration(ReadFile(t / "arch/replica-r.json"), "r", "f")->applied_commit == 30);
  }
}
