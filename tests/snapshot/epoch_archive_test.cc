// Epochs in snapshot archives (SNAP-16, FM-62): an archive of an epoch-2
// node carries its history files and its lineage, and install makes a
// replica that follows it.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "history/history_file.h"
#include "repl/check_history.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/promote.h"
#include "repl/verify.h"
#include "snapshot/manifest.h"
#include "support/archive_builder.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// A failover (r the primary of epoch 2 at 40) and r's archive.
void EpochTwoArchive(const TempDir& t) {
  MakeFailover(t.path());
  repl::ExportOptions eo;
  eo.data_dir = t / "r";
  eo.output = t / "s.tar";
  eo.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
}

Status InstallTo(const std::string& archive, const std::string& dir) {
  repl::InstallOptions io;
  io.archive = archive;
  io.data_dir = dir;
  return repl::InstallSnapshot(PosixFs(), io, nullptr);
}

// The archive rebuilt with its manifest changed by `edit` (the checksum
// made again) and its members changed by `members`.
void Rebuild(const std::string& from, const std::string& to,
             const std::function<void(nlohmann::json&)>& edit,
             const std::function<void(std::vector<TarEntry>&)>& members = {}) {
  std::vector<TarEntry> entries = ReadTar(from);
  nlohmann::json j = nlohmann::json::parse(entries[0].data);
  j.erase("manifest_sha256");
  if (members) members(entries);
  edit(j);
  j["member_count"] = entries.size() - 1;
  uint64_t total = 0;
  for (size_t i = 1; i < entries.size(); ++i) total += entries[i].data.size();
  j["total_bytes"] = total;
  j["manifest_sha256"] = ToHex(Sha256::Of([&] { nlohmann::json b = j; b.erase("manifest_sha256"); return b.dump(); }()));
  entries[0].data = j.dump() + "\n";
  WriteTar(to, entries, false);
}

}  // namespace

TEST_CASE("SNAP-16 FM-62 an archive of an epoch-2 node carries its lineage, install makes a replica of epoch 2 that follows it") {
  TempDir t;
  EpochTwoArchive(t);
  const std::vector<TarEntry> entries = ReadTar(t / "s.tar");
  const nlohmann::json manifest = nlohmann::json::parse(entries[0].data);
  CHECK(manifest["epoch"] == 2);
  CHECK(manifest["lineage"].dump() == R"([{"branch_commit":0,"epoch":1},{"branch_commit":30,"epoch":2}])");
  bool carried = false;
  for (const TarEntry& e : entries) {
    if (e.path == "replication/history/00000002.history") {
      carried = true;
      CHECK(e.data == ReadFile(t / "arch/00000002.history"));
    }
  }
  CHECK(carried);
  auto v = repl::Verify(PosixFs(), t / "s.tar", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  REQUIRE(InstallTo(t / "s.tar", t / "r9").ok());
  const node::NodeState st = StateOf(t / "r9");
  CHECK(st.epoch == 2);
  CHECK(st.role == node::Role::kReplica);
  CHECK(ReadFile(t / "r9/replication/history/00000002.history") == ReadFile(t / "arch/00000002.history"));
  // It follows the new primary from the archive's boundary.
  Write(t / "r", 5, 6);
  REQUIRE(ShipInto(t / "r", t / "arch").ok());
  REQUIRE(Apply(t / "r9", t / "arch").ok());
  CheckSameHistory(t / "r", t / "r9");
  // check-history takes the archive as one side.
  auto rel = repl::CheckHistory(PosixFs(), {repl::HistorySide::Kind::kSnapshot, t / "s.tar"},
                                {repl::HistorySide::Kind::kNode, t / "r"});
  REQUIRE(rel.ok());
  CHECK(rel->relation == repl::Relation::kBehind);
}

TEST_CASE("SNAP-16 a history member missing, extra or disagreeing with the manifest is damage (1)") {
  TempDir t;
  EpochTwoArchive(t);
  auto outcome = [&](const std::string& path) {
    auto v = repl::Verify(PosixFs(), path, {});
    REQUIRE(v.ok());
    const Code verified = v->outcome();
    fsys::remove_all(t / "x");
    const Status installed = InstallTo(path, t / "x");
    CHECK(installed.code() == verified);  // one verdict (ARC-3, SNAP-7)
    CHECK_FALSE(fsys::exists(t / "x/replication/state.json"));
    return verified;
  };
  // The history member removed.
  Rebuild(t / "s.tar", t / "a.tar", [](nlohmann::json& j) {
    auto& ms = j["members"];
    for (size_t i = 0; i < ms.size(); ++i) {
      if (ms[i]["path"] == "replication/history/00000002.history") ms.erase(i);
    }
  }, [](std::vector<TarEntry>& e) {
    e.erase(std::remove_if(e.begin(), e.end(), [](const TarEntry& x) { return x.path == "replication/history/00000002.history"; }), e.end());
  });
  CHECK(outcome(t / "a.tar") == Code::kDamage);
  // The lineage of the manifest not the history file's.
  Rebuild(t / "s.tar", t / "b.tar", [](nlohmann::json& j) {
    j["lineage"] = nlohmann::json::parse(R"([{"branch_commit":0,"epoch":1},{"branch_commit":29,"epoch":2}])");
  });
  CHECK(outcome(t / "b.tar") == Code::kDamage);
  // An epoch-1 manifest that carries a history member.
  Rebuild(t / "s.tar", t / "c.tar", [](nlohmann::json& j) {
    j["epoch"] = 1;
    j["lineage"] = nlohmann::json::array();
  });
  CHECK(outcome(t / "c.tar") == Code::kDamage);
  // A history member whose bytes are another claim (its SHA-256 in the
  // manifest made to match): the lineage agrees, the claimant differs;
  // valid, so the archive verifies, but a path under replication/ other
  // than a history file never does.
  Rebuild(t / "s.tar", t / "d.tar", [](nlohmann::json& j) {
    auto& ms = j["members"];
    nlohmann::json extra = {{"path", "replication/state.json"}, {"sha256", ToHex(Sha256::Of("{}"))}, {"size", 2}, {"type", "file"}};
    ms.push_back(extra);
  }, [](std::vector<TarEntry>& e) { e.push_back(TarEntry("replication/state.json", "{}")); });
  CHECK(outcome(t / "d.tar") == Code::kDamage);
}
