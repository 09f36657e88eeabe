#include <doctest/doctest.h>

#include "support/test_util.h"
#include "wal/wal_scan.h"

using namespace aero;
using namespace aero::wal;
using namespace aero::testing;

namespace {
ScanResult Scan(const std::string& bytes, ScanOptions opt = {}) {
  StringFile f(bytes);
  return WalScanner(&f, opt).Run();
}
}  // namespace

TEST_CASE("REC-10 write sets: data records then a commit record") {
  WalBuilder b;
  b.WriteSets(1, 3, 2);
  std::vector<WriteSet> sets;
  StringFile f(b.bytes());
  ScanResult r = WalScanner(&f, {}).Run({}, [&](const WriteSet& ws) {
    sets.push_back(ws);
    return true;
  });
  REQUIRE(sets.size() == 3);
  CHECK(r.write_sets == 3);
  CHECK(r.data_records == 6);
  CHECK(r.commit_records == 3);
  CHECK(sets[1].commit_id == 2);
  CHECK(sets[1].start_offset == b.offsets()[3]);
  CHECK(sets[1].end_offset == b.offsets()[6]);
  CHECK(sets[1].records == 3);
  CHECK(sets[1].first_sequence == 4);
  CHECK(sets[1].last_sequence == 6);
  CHECK(r.committed_end == b.bytes().size());
  CHECK(r.tail_records == 0);
}

TEST_CASE("REC-10 records after the last commit are the uncommitted tail") {
  WalBuilder b;
  b.WriteSets(1, 2).Insert("users", "late", "{}").Insert("users", "later", "{}");
  ScanResult r = Scan(b.bytes());
  CHECK(r.write_sets == 2);
  CHECK(r.last_commit == 2);
  CHECK(r.tail_records == 2);
  CHECK(r.committed_end == b.offsets()[6]);
  CHECK(r.tail_bytes == b.bytes().size() - b.offsets()[6]);
}

TEST_CASE("REC-10 a torn tail counts as tail bytes, not as a write set") {
  WalBuilder b;
  b.WriteSets(1, 2);
  std::string torn = b.bytes().substr(0, b.bytes().size() - 3);
  ScanResult r = Scan(torn);
  CHECK(r.write_sets == 1);
  CHECK(r.stop.kind == StopKind::kTornTail);
  CHECK(r.tail_records == 2);  // the intact data records of set 2
  CHECK(r.tail_bytes == torn.size() - b.offsets()[3]);
}

TEST_CASE("REC-9 a commit id that skips is a commit-order finding") {
  WalBuilder b;
  b.WriteSets(1, 2).WriteSets(4, 1);
  ScanResult r = Scan(b.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "commit-order");
  CHECK(r.findings[0].detail == "commit 4 where 3 was expected");
  CHECK(r.findings[0].offset == b.offsets()[8]);
}

TEST_CASE("REC-9 the first commit must follow a known base") {
  WalBuilder b;
  b.WriteSets(5, 2);
  ScanOptions opt;
  opt.base_commit = 3;
  ScanResult r = Scan(b.bytes(), opt);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].detail == "commit 5 where 4 was expected");
  opt.base_commit = 4;
  CHECK(Scan(b.bytes(), opt).findings.empty());
}

TEST_CASE("REC-8 a sequence jump is a finding, a restart at 1 on a boundary is not") {
  WalBuilder a;
  a.WriteSets(1, 1);
  WalBuilder restart(1);
  restart.WriteSets(2, 1);
  CHECK(Scan(a.bytes() + restart.bytes()).findings.empty());

  WalBuilder jump(10);
  jump.WriteSets(2, 1);
  ScanResult r = Scan(a.bytes() + jump.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "sequence");
  CHECK(r.findings[0].detail == "sequence 10 follows 3");
}

TEST_CASE("REC-8 a restart at 1 inside a write set is a finding") {
  WalBuilder a;
  a.Insert("c", "x", "{}");
  WalBuilder b(1);
  b.Commit(1);
  ScanResult r = Scan(a.bytes() + b.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].detail == "sequence 1 follows 1");
}

TEST_CASE("REC-8 sequence 0 is invalid") {
  WalBuilder b(0);
  b.Commit(1);
  ScanResult r = Scan(b.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].detail == "sequence number 0 is invalid");
}

TEST_CASE("REC-8 REC-9 2^64-1 is no sequence and no CommitId: neither has a successor") {
  const uint64_t kTop = UINT64_MAX;
  WalBuilder seq(kTop - 1);
  seq.Insert("c", "x", "{}").Commit(1);  // sequences 2^64-2, 2^64-1
  ScanResult r = Scan(seq.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "sequence");
  CHECK(r.findings[0].offset == seq.offsets()[1]);
  WalBuilder below(kTop - 2);
  below.Insert("c", "x", "{}").Commit(1);  // the largest, 2^64-2, is valid
  CHECK(Scan(below.bytes()).findings.empty());

  WalBuilder commit;
  commit.Insert("c", "x", "{}").Commit(kTop);
  r = Scan(commit.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "commit-order");
  CHECK(r.findings[0].detail.find("the largest CommitId is 2^64-2") != std::string::npos);
  WalBuilder largest;
  largest.Insert("c", "x", "{}").Commit(kTop - 1);
  CHECK(Scan(largest.bytes()).findings.empty());
  // No cascade: what follows 2^64-1 is not held to a wrapped "0 expected".
  WalBuilder after;
  after.Commit(kTop).Commit(7);
  r = Scan(after.bytes());
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].detail.find("the largest CommitId is 2^64-2") != std::string::npos);
}

TEST_CASE("HIST-2 digest chain: scanning equals hashing write set bytes") {
  WalBuilder b;
  b.WriteSets(1, 2);
  history::SystemId id;
  id.bytes[0] = 7;
  ScanOptions opt;
  opt.base_commit = 0;
  opt.base_digest = history::SeedDigest(id);
  ScanResult r = Scan(b.bytes(), opt);
  history::DigestChain c;
  c.Begin(history::SeedDigest(id));
  c.Update(b.bytes().substr(0, b.offsets()[3]));
  history::Digest h1 = c.Finish();
  c.Begin(h1);
  c.Update(b.bytes().substr(b.offsets()[3]));
  CHECK(r.position.commit == 2);
  REQUIRE(r.position.digest);
  CHECK(*r.position.digest == c.Finish());
}

TEST_CASE("HIST-4 unknown base: digest only when the first commit is 1") {
  ScanOptions opt;
  opt.base_digest = history::SeedDigest({});
  CHECK(Scan(WalBuilder().WriteSets(1, 2).bytes(), opt).position.digest.has_value());
  CHECK_FALSE(Scan(WalBuilder().WriteSets(7, 2).bytes(), opt).position.digest.has_value());
}

TEST_CASE("scan can stop early at a write set") {
  WalBuilder b;
  b.WriteSets(1, 5);
  StringFile f(b.bytes());
  ScanResult r = WalScanner(&f, {}).Run({}, [](const WriteSet& ws) { return ws.commit_id < 2; });
  CHECK(r.stopped_early);
  CHECK(r.last_commit == 2);
}
