// check-history, prune and rejoin over an S3 archive
// (specs/REPLICATION_OBJECT_STORE.md OBJ-12, OBJ-14, OBJ-15) against the
// in-repo mock, which checks every request's SigV4 signature: the same
// findings and codes as over a directory holding the same files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "archive/open_archive.h"
#include "archive/s3_archive.h"
#include "repl/check_history.h"
#include "repl/export.h"
#include "repl/prune.h"
#include "repl/rejoin.h"
#include "s3/s3_time.h"
#include "s3/s3_url.h"
#include "support/repl_fixture.h"
#include "support/s3_env.h"
#include "support/s3_mock.h"
#include "support/test_util.h"

using namespace aero;
namespace stdfs = std::filesystem;

namespace {


std::unique_ptr<archive::Archive> S3HistoryOpen(const std::string& loc) {
  auto a = archive::OpenArchive(PosixFs(), loc);
  REQUIRE(a.ok());
  return std::move(a).value();
}

// Every regular file of `dir` published into the archive at `loc`.
void S3HistoryUpload(const std::string& dir, const std::string& loc) {
  auto a = S3HistoryOpen(loc);
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name[0] == '.') continue;
    const std::string tmp = a->TempPath("." + name + ".up");
    stdfs::copy_file(e.path(), tmp, stdfs::copy_options::overwrite_existing);
    REQUIRE(a->PublishExclusive(tmp, name).ok());
  }
}

void S3HistoryExport(const std::string& node, const std::string& path) {
  repl::ExportOptions eo;
  eo.data_dir = node;
  eo.output = path;
  eo.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
}

repl::PruneReport S3HistoryPrune(const std::string& arch, bool dry_run, uint64_t stale_hours = 24) {
  repl::PruneOptions o;
  o.archive = arch;
  o.keep_snapshots = 1;
  o.dry_run = dry_run;
  o.stale_upload_hours = stale_hours;
  repl::PruneReport rep;
  Status s = repl::Prune(PosixFs(), o, &rep);
  CAPTURE(s.ToString());
  REQUIRE(s.ok());
  return rep;
}

// Begins a multipart upload of `key` (never completed) and returns its id.
std::string S3HistoryBeginUpload(archive::S3Archive& a, const std::string& key) {
  s3::S3Request r;
  r.method = "POST";
  r.key = key;
  r.query = {{"uploads", ""}};
  auto resp = a.client().Perform(r);
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  const size_t b = resp->body.find("<UploadId>") + 10;
  return resp->body.substr(b, resp->body.find("</UploadId>") - b);
}

#define S3HISTORY_REQUIRE_MOCK(m)                                         \
  if (!(m).started()) {                                                   \
    MESSAGE("SKIP: the S3 mock did not start (/usr/bin/python3 absent)"); \
    return;                                                               \
  }

}  // namespace

TEST_CASE("OBJ-14 the store's times parse, and nothing else does") {
  CHECK(s3::ParseIso8601("1970-01-01T00:00:00.000Z") == 0);
  CHECK(s3::ParseIso8601("2026-12-05T22:03:26Z") == 1796508206);
  CHECK(s3::ParseHttpDate("Sat, 05 Dec 2026 22:03:26 GMT") == 1796508206);
  CHECK(s3::ParseHttpDate("Sat, 05 Dec 2026 22:03:26 GMT").value() -
            s3::ParseIso8601("2026-12-04T22:03:26.123Z").value() == 86400);
  for (const char* bad : {"", "2026-12-05 22:03:26Z", "2026-13-05T22:03:26Z", "2026-12-05T22:03:26", "2026-12-05T22:03:26.Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(s3::ParseIso8601(bad).has_value());
  }
  for (const char* bad : {"", "Sat, 05 Dex 2026 22:03:26 GMT", "Sat, 05 Dec 2026 22:03:26 UTC", "05 Dec 2026 22:03:26"}) {
    CAPTURE(bad);
    CHECK_FALSE(s3::ParseHttpDate(bad).has_value());
  }
}

TEST_CASE("OBJ-12 check-history, prune and rejoin read an s3 archive as they read a directory") {
  testing::S3Mock m;
  S3HISTORY_REQUIRE_MOCK(m);
  testing::ScopedS3Env env(m);
  testing::TempDir t;

  SUBCASE("check-history: an s3 archive side is the directory side") {
    testing::MakePrimary(t / "p", 40);
    REQUIRE(PosixFs().MakeDir(t / "arch").ok());
    REQUIRE(testing::ShipInto(t / "p", t / "arch").ok());
    S3HistoryUpload(t / "arch", "s3://bucket/ch");
    testing::Write(t / "p", 5, 9, 3, 120);  // p is now 5 commits ahead of both archives
    for (const std::string& side : {std::string(t / "arch"), std::string("s3://bucket/ch")}) {
      CAPTURE(side);
      auto r = repl::CheckHistory(PosixFs(), {repl::HistorySide::Kind::kArchive, side},
                                  {repl::HistorySide::Kind::kNode, t / "p"});
      REQUIRE(r.ok());
      CHECK(r->relation == repl::Relation::kBehind);
      CHECK(r->commits == 5);
      CHECK(r->a.last_commit == 40);
      CHECK_FALSE(r->signatures_checked);
    }
    // A snapshot file is local: s3:// there is still refused (OBJ-12).
    auto snap = repl::CheckHistory(PosixFs(), {repl::HistorySide::Kind::kSnapshot, "s3://bucket/ch/x.tar"},
                                   {repl::HistorySide::Kind::kNode, t / "p"});
    CHECK(snap.status().code() == Code::kUsage);
  }

  SUBCASE("prune: the same plan and removals, and no lock left in the bucket (OBJ-15)") {
    testing::MakePrimary(t / "p", 30);
    REQUIRE(PosixFs().MakeDir(t / "arch").ok());
    REQUIRE(testing::ShipInto(t / "p", t / "arch").ok());
    S3HistoryExport(t / "p", t / "arch/snap-30.tar");
    testing::Write(t / "p", 30, 2, 3, 120);
    REQUIRE(testing::ShipInto(t / "p", t / "arch").ok());
    S3HistoryExport(t / "p", t / "arch/snap-60.tar");
    testing::Write(t / "p", 10, 3, 3, 120);
    REQUIRE(testing::ShipInto(t / "p", t / "arch").ok());
    S3HistoryUpload(t / "arch", "s3://bucket/pr");
    const repl::PruneReport dir_dry = S3HistoryPrune(t / "arch", true);
    const repl::PruneReport s3_dry = S3HistoryPrune("s3://bucket/pr", true);
    REQUIRE_FALSE(dir_dry.plan.empty());
    CHECK(s3_dry.plan == dir_dry.plan);
    CHECK(s3_dry.cut == dir_dry.cut);
    const repl::PruneReport dir_run = S3HistoryPrune(t / "arch", false);
    const repl::PruneReport s3_run = S3HistoryPrune("s3://bucket/pr", false);
    CHECK(s3_run.removed == dir_run.removed);
    CHECK(s3_run.removed == s3_dry.plan);
    auto a = S3HistoryOpen("s3://bucket/pr");
    auto left = a->List();
    REQUIRE(left.ok());
    std::vector<std::string> names;
    for (const auto& e : *left) names.push_back(e.name);
    std::vector<std::string> local;
    for (const auto& e : stdfs::directory_iterator(std::string(t / "arch"))) {
      if (e.path().filename().string()[0] != '.') local.push_back(e.path().filename().string());
    }
    std::sort(local.begin(), local.end());
    CHECK(names == local);  // what is left is what is left in the directory, and no .prune.lock
    CHECK(m.Stats()["bad_signature"] == 0);
  }

  SUBCASE("rejoin: the claim archive in a bucket") {
    testing::MakeFailover(t.path());
    S3HistoryUpload(t / "arch", "s3://bucket/claims");
    testing::CopyTree(t / "p", t / "p2");
    repl::RejoinReport dir_rep, s3_rep;
    REQUIRE(repl::Rejoin(PosixFs(), {t / "p", t / "arch"}, &dir_rep).ok());
    Status s = repl::Rejoin(PosixFs(), {t / "p2", "s3://bucket/claims"}, &s3_rep);
    CAPTURE(s.ToString());
    REQUIRE(s.ok());
    CHECK(s3_rep.branch_commit == dir_rep.branch_commit);
    CHECK(s3_rep.lineage_epoch == 2);
    CHECK(testing::StateOf(t / "p2").role == node::Role::kReplica);
    // Rejoined, it follows epoch 2 from the bucket.
    REQUIRE(testing::Apply(t / "p2", "s3://bucket/claims").ok());
    testing::CheckSameHistory(t / "p2", t / "r");
  }
}

TEST_CASE("OBJ-14 prune aborts the uploads the store's clock says are stale, keeps younger ones, and --dry-run aborts none") {
  testing::S3Mock m;
  S3HISTORY_REQUIRE_MOCK(m);
  testing::ScopedS3Env env(m);
  testing::TempDir t;
  const std::string arch = "s3://bucket/up";
  testing::MakePrimary(t / "p", 10);
  REQUIRE(testing::ShipInto(t / "p", arch).ok());
  auto opened = S3HistoryOpen(arch);
  auto* a = dynamic_cast<archive::S3Archive*>(opened.get());
  REQUIRE(a != nullptr);
  const std::string old1 = S3HistoryBeginUpload(*a, "up/00000001-0000000000000011-0000000000000020.seg");
  const std::string old2 = S3HistoryBeginUpload(*a, "up/snap-99.tar");
  m.Control({{"age_uploads", 25 * 3600}});  // by the store's clock: 25 h ago
  const std::string young = S3HistoryBeginUpload(*a, "up/00000001-0000000000000021-0000000000000030.seg");
  (void)S3HistoryBeginUpload(*a, "other/x.seg");  // another prefix: never listed
  m.Control({{"uploads_page_size", 1}});          // page after page

  const repl::PruneReport dry = S3HistoryPrune(arch, true);
  REQUIRE(dry.uploads.size() == 3);
  CHECK(!dry.store_date.empty());
  int to_abort = 0;
  for (const auto& u : dry.uploads) {
    CAPTURE(u.key);
    CHECK_FALSE(u.aborted);
    if (u.upload_id == young) {
      CHECK(u.action == "keep");
      CHECK(u.age_seconds < 3600);
    } else {
      CHECK(u.action == "abort");
      CHECK(u.age_seconds >= 25 * 3600);
      ++to_abort;
    }
  }
  CHECK(to_abort == 2);
  auto still = a->ListUploadsDated();
  REQUIRE(still.ok());
  CHECK(still->uploads.size() == 3);  // RET-12: --dry-run aborts nothing

  const repl::PruneReport run = S3HistoryPrune(arch, false);
  REQUIRE(run.uploads.size() == 3);
  for (const auto& u : run.uploads) CHECK(u.aborted == (u.upload_id != young));
  auto left = a->ListUploadsDated();
  REQUIRE(left.ok());
  REQUIRE(left->uploads.size() == 1);
  CHECK(left->uploads[0].upload_id == young);
  CHECK(old1 != old2);

  // 0 hours: every upload under the prefix, the young one too.
  const repl::PruneReport all = S3HistoryPrune(arch, false, 0);
  REQUIRE(all.uploads.size() == 1);
  CHECK(all.uploads[0].aborted);
  left = a->ListUploadsDated();
  REQUIRE(left.ok());
  CHECK(left->uploads.empty());
  CHECK(m.Stats()["bad_signature"] == 0);
  CHECK(m.Stats()["upload_pages"] >= 4);
}
