// specs/REPLICATION_OPERATIONS.md: progress as counted bytes (OPS-7), the
// last-success record (OPS-9), and status --metrics (OPS-10..OPS-12).
#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "node/last_success.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/metrics.h"
#include "repl/status.h"
#include "repl/verify.h"
#include "segment/segment.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {

using Reports = std::vector<std::pair<uint64_t, uint64_t>>;

ProgressFn Into(Reports* r) {
  return [r](uint64_t done, uint64_t total) { r->emplace_back(done, total); };
}

// OPS-7: done <= total, never going back, counting on the way (some report
// strictly between 0 and the total), and the last report complete.
void CheckCounted(const Reports& r, uint64_t want_total) {
  REQUIRE(!r.empty());
  uint64_t prev = 0;
  bool between = false;
  for (const auto& [done, total] : r) {
    CHECK(total == want_total);
    CHECK(done <= total);
    CHECK(done >= prev);
    between |= done > 0 && done < total;
    prev = done;
  }
  CHECK(between);
  CHECK(r.back().first == want_total);
}

uint64_t SizeOf(const std::string& path) { return std::filesystem::file_size(path); }

// The sample lines of a metrics text: "name{labels}" -> value.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

}  // namespace

TEST_CASE("OPS-7 ship-wal and apply-wal report counted bytes up to the total, and the same report without a callback") {
  TempDir t;
  MakePrimary(t / "p", 300);
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  Reports shipped;
  repl::ShipOptions so;
  so.data_dir = t / "p";
  so.target = t / "a";
  so.max_segment_bytes = 4000;
  so.progress = Into(&shipped);
  repl::ShipReport with, without;
  REQUIRE(repl::ShipWal(PosixFs(), so, &with).ok());
  CheckCounted(shipped, StateOf(t / "p").applied_wal_offset);  // the WAL bytes shipped
  so.target = t / "b";
  so.progress = nullptr;
  REQUIRE(repl::ShipWal(PosixFs(), so, &without).ok());
  REQUIRE(with.segments.size() == without.segments.size());
  CHECK(with.segments.size() > 3);
  for (size_t i = 0; i < with.segments.size(); ++i) CHECK(with.segments[i].name() == without.segments[i].name());
  CHECK(with.shipped_commit == without.shipped_commit);

  uint64_t inbox_bytes = 0;
  for (const std::string& n : Segments(t / "a")) inbox_bytes += SizeOf(t / "a" / n);
  Reports applied;
  repl::ApplyOptions ao;
  ao.data_dir = t / "r1";
  ao.inbox = t / "a";
  ao.progress = Into(&applied);
  repl::ApplyReport r1, r2;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, &r1).ok());
  CheckCounted(applied, inbox_bytes);  // the segment files taken
  CHECK(applied.front().first == 0);
  ao.data_dir = t / "r2";
  ao.progress = nullptr;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, &r2).ok());
  CHECK(r1.applied_commit == 300);
  CHECK(r2.applied_commit == r1.applied_commit);
  CHECK(r1.segments.size() == r2.segments.size());
}

TEST_CASE("OPS-7 install and verify of an archive report the archive's bytes") {
  TempDir t;
  MakePrimary(t / "p", 120);
  repl::ExportOptions eo;
  eo.data_dir = t / "p";
  eo.output = t / "snap.tar.zst";
  Reports exported;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr, Into(&exported)).ok());
  REQUIRE(!exported.empty());
  CHECK(exported.back().first == exported.back().second);
  const uint64_t size = SizeOf(eo.output);

  Reports installed;
  repl::InstallOptions io;
  io.data_dir = t / "r";
  io.archive = eo.output;
  io.progress = Into(&installed);
  REQUIRE(repl::InstallSnapshot(PosixFs(), io, nullptr).ok());
  CheckCounted(installed, size);  // one pass verifies and extracts (SNAP-10)
  CHECK(StateOf(t / "r").applied_commit == 120);

  Reports verified;
  repl::VerifyOptions vo;
  vo.progress = Into(&verified);
  auto v = repl::Verify(PosixFs(), eo.output, vo);
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  CheckCounted(verified, size);
}

TEST_CASE("OPS-9 the last success record round-trips, and a damaged one is left out") {
  TempDir t;
  MakePrimary(t / "p", 3);
  CHECK_FALSE(node::LoadLastSuccess(PosixFs(), t / "p", "ship-wal").has_value());
  REQUIRE(node::SaveLastSuccess(PosixFs(), t / "p", {"ship-wal", 1764950000, 3, "/srv/out"}).ok());
  auto got = node::LoadLastSuccess(PosixFs(), t / "p", "ship-wal");
  REQUIRE(got.has_value());
  CHECK(got->unix_seconds == 1764950000);
  CHECK(got->commit == 3);
  CHECK(got->dir == "/srv/out");
  CHECK(node::LastSuccessPath(t / "p", "ship-wal") == t / "p/replication/last-success/ship-wal.json");
  CHECK_FALSE(node::LoadLastSuccess(PosixFs(), t / "p", "apply-wal").has_value());
  auto all = repl::CollectLastSuccess(PosixFs(), t / "p");
  REQUIRE(all.size() == 1);
  CHECK(all[0].command == "ship-wal");
  // Damaged: not JSON, a wrong type, another command's record.
  for (const std::string& bad :
       {std::string("{not json"), std::string(R"({"format":1,"command":"ship-wal","unix_seconds":"x","commit":3,"dir":"d"})"),
        std::string(R"({"format":1,"command":"apply-wal","unix_seconds":1,"commit":3,"dir":"d"})")}) {
    CAPTURE(bad);
    WriteFile(node::LastSuccessPath(t / "p", "ship-wal"), bad);
    CHECK_FALSE(node::LoadLastSuccess(PosixFs(), t / "p", "ship-wal").has_value());
    CHECK(repl::CollectLastSuccess(PosixFs(), t / "p").empty());
  }
}

TEST_CASE("OPS-10 the metrics of a replica with an inbox: values as status reports them") {
  TempDir t;
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(ShipInto(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());
  Write(t / "p", 25, 2);
  REQUIRE(ShipInto(t / "p", t / "in").ok());  // 25 commits in new segments, not applied
  auto st = repl::GetStatus(PosixFs(), t / "r", std::string(t / "in"));
  REQUIRE(st.ok());
  uint64_t above = 0;
  for (const std::string& n : Segments(t / "in")) {
    auto info = segment::ParseSegmentName(n);
    REQUIRE(info.has_value());
    if (info->last_commit > 40) ++above;
  }
  REQUIRE(above > 0);
  REQUIRE(node::SaveLastSuccess(PosixFs(), t / "r", {"apply-wal", 1764950001, 40, t / "in"}).ok());
  repl::MetricsInput in;
  in.data_dir = t / "r";
  in.inbox = std::string(t / "in");
  in.status = &*st;
  in.last_success = repl::CollectLastSuccess(PosixFs(), t / "r");
  const std::string text = repl::RenderMetrics(in);
  const auto s = Samples(text);
  const std::string d = "data_dir=\"" + t / "r" + "\"";
  const std::string di = d + ",inbox=\"" + t / "in" + "\"";
  CHECK(s.at("aerodb_repl_applied_commit{" + d + "}") == "40");
  CHECK(s.at("aerodb_repl_epoch{" + d + "}") == "1");
  CHECK(s.at("aerodb_repl_lag_commits{" + di + "}") == "25");
  CHECK(s.at("aerodb_repl_segments_pending{" + di + "}") == std::to_string(above));
  CHECK(s.at("aerodb_repl_segments_incomplete{" + di + "}") == "0");
  CHECK(s.at("aerodb_repl_halted{" + d + "}") == "0");
  CHECK(s.at("aerodb_repl_fenced{" + d + "}") == "0");
  CHECK(s.at("aerodb_repl_node_info{" + d + ",role=\"replica\",system_id=\"" +
             st->identity.system_id.ToHex() + "\"}") == "1");
  CHECK(s.at("aerodb_repl_last_success_timestamp_seconds{" + d + ",command=\"apply-wal\"}") ==
        "1764950001");
  CHECK(s.count("aerodb_repl_last_success_timestamp_seconds{" + d + ",command=\"ship-wal\"}") == 0);

  // Halted: 1, as status reports it.
  REQUIRE(node::SaveHalt(PosixFs(), t / "r", {"corrupt", "x", "y", 1}).ok());
  auto halted = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(halted.ok());
  in.status = &*halted;
  in.inbox.reset();
  const auto h = Samples(repl::RenderMetrics(in));
  CHECK(h.at("aerodb_repl_halted{" + d + "}") == "1");
  CHECK(h.count("aerodb_repl_lag_commits{" + di + "}") == 0);  // no --from, no lag

  // The primary: one shipped target, its commit and lag.
  auto p = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE(p.ok());
  repl::MetricsInput pin;
  pin.data_dir = t / "p";
  pin.status = &*p;
  const auto ps = Samples(repl::RenderMetrics(pin));
  const std::string real_in = std::filesystem::canonical(t / "in").string();
  CHECK(ps.at("aerodb_repl_shipped_commit{data_dir=\"" + t / "p" + "\",target=\"" + real_in + "\"}") == "65");
  CHECK(ps.at("aerodb_repl_ship_lag_commits{data_dir=\"" + t / "p" + "\",target=\"" + real_in + "\"}") == "0");
}

TEST_CASE("OPS-12 label values are escaped and each metric has one HELP and one TYPE") {
  TempDir t;
  MakePrimary(t / "p", 2);
  auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE(st.ok());
  repl::MetricsInput in;
  in.data_dir = "a\\b\"c\nd";
  in.status = &*st;
  const std::string text = repl::RenderMetrics(in);
  CHECK(text.find("aerodb_repl_epoch{data_dir=\"a\\\\b\\\"c\\nd\"} 1\n") != std::string::npos);
  // OPS-4: a byte of no UTF-8 sequence is the text \xff, the file stays UTF-8.
  in.data_dir = "lat\xff";
  CHECK(repl::RenderMetrics(in).find("aerodb_repl_epoch{data_dir=\"lat\\\\xff\"} 1\n") != std::string::npos);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  std::istringstream lines(text);
  std::string line, current;
  std::set<std::string> helped, typed;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    CHECK(!line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.insert(current).second);  // once
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      CHECK(line == "# TYPE " + current + " gauge");
      CHECK(typed.insert(current).second);
      continue;
    }
    // A sample of the metric whose HELP and TYPE came just before.
    CHECK(line.rfind(current + "{", 0) == 0);
    CHECK(current.rfind("aerodb_repl_", 0) == 0);
  }
  CHECK(helped == typed);
  CHECK(helped.size() >= 7);
}

TEST_CASE("OPS-11 a failed metrics write leaves the previous file intact") {
  TempDir t;
  const std::string path = t / "node.prom";
  const std::string old_text = "# HELP aerodb_repl_epoch old\n# TYPE aerodb_repl_epoch gauge\naerodb_repl_epoch 1\n";
  const std::string new_text = std::string(5000, '#') + "\n";  // appended in one piece, torn at a crash
  uint64_t steps = 0;
  {
    WriteFile(path, old_text);
    FaultyFs fs;
    REQUIRE(repl::WriteMetrics(fs, path, new_text).ok());
    steps = fs.steps();
    CHECK(ReadFile(path) == new_text);
  }
  REQUIRE(steps >= 4);  // open, append, fsync, rename, fsync of the directory
  int kept_old = 0;
  for (uint64_t k = 1; k <= steps; ++k) {
    for (bool crash : {true, false}) {
      CAPTURE(k);
      CAPTURE(crash);
      WriteFile(path, old_text);
      FaultyFs fs;
      if (crash) {
        fs.CrashAt(k);
      } else {
        fs.FailOnceAt(k, ENOSPC);
      }
      const Status s = repl::WriteMetrics(fs, path, new_text);
      if (crash) fs.PowerLoss();
      const std::string now = ReadFile(path);
      // Never a torn file: the previous one, or (a failure after the rename) the new one whole.
      CHECK((now == old_text || now == new_text));
      if (!s.ok()) {
        CHECK(s.message().rfind("metrics not written '" + path + "': ", 0) == 0);
        CHECK(!s.hint().empty());
        CHECK(s.code() == Code::kIo);  // a fault is 10, never 70
        if (now == old_text) ++kept_old;
      }
    }
  }
  CHECK(kept_old >= 4);
  // No directory: 9, nothing written.
  CHECK(repl::WriteMetrics(PosixFs(), t / "no/such.prom", new_text).code() == Code::kNotFound);
}

TEST_CASE("NODE-13 status --metrics inside a node's data directory is 2, beside it is fine") {
  TempDir t;
  MakePrimary(t / "p", 2);
  for (const std::string& inside : {t / "p/m.prom", t / "p/metadata/schemas/node.prom", t / "p/replication/m.prom"}) {
    CAPTURE(inside);
    Status s = repl::CheckMetricsPath(t / "p", inside);
    CHECK(s.code() == Code::kUsage);
    CHECK(s.message().find("refusing to write '" + inside + "'") != std::string::npos);
  }
  CHECK(repl::CheckMetricsPath(t / "p", t / "m.prom").ok());
}
