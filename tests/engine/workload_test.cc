#include <doctest/doctest.h>

#include "engine/workload.h"
#include "wal/record_format.h"
#include "wal/record_reader.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::node;
using namespace aero::engine;
using namespace aero::testing;

TEST_CASE("workload: the same seed writes the same WAL bytes") {
  TempDir t;
  WorkloadOptions opt;
  opt.write_sets = 200;
  opt.records_per_set = 3;
  opt.body_bytes = 100;
  opt.seed = 42;
  std::string wal[2];
  WorkloadReport rep[2];
  for (int i = 0; i < 2; ++i) {
    const std::string dir = t / ("db" + std::to_string(i));
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
    REQUIRE(n.ok());
    auto r = RunWorkload(**n, opt);
    REQUIRE(r.ok());
    rep[i] = *r;
    wal[i] = ReadFile(dir + "/wal/wal.log");
  }
  CHECK(wal[0] == wal[1]);
  CHECK(rep[0].write_sets == 200);
  CHECK(rep[0].last_commit == 200);
  CHECK(rep[0].inserts > 0);
  CHECK(rep[0].updates > 0);
  CHECK(rep[0].deletes > 0);
  CHECK(rep[0].inserts + rep[0].updates + rep[0].deletes == 600);
}

TEST_CASE("workload: another seed writes other bytes") {
  TempDir t;
  std::string wal[2];
  for (int i = 0; i < 2; ++i) {
    const std::string dir = t / ("db" + std::to_string(i));
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
    WorkloadOptions opt;
    opt.write_sets = 20;
    opt.seed = 1 + i;
    REQUIRE(RunWorkload(**n, opt).ok());
    wal[i] = ReadFile(dir + "/wal/wal.log");
  }
  CHECK(wal[0] != wal[1]);
}

TEST_CASE("REC-2 the reference node never writes a record longer than kMaxRecordBytes: 2, nothing written") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
  REQUIRE(n.ok());
  REQUIRE((*n)->Commit({Op{Op::Kind::kPut, "c", "small", "{}"}}).ok());
  const std::string wal_before = ReadFile(dir + "/wal/wal.log");
  // A body that fits kMaxRecordBytes by itself, not with the record's
  // framing and its names: the length a reader would refuse (REC-2).
  Op big{Op::Kind::kPut, "c", "big", std::string(wal::kMaxRecordBytes - 30, 'x')};
  Result<uint64_t> r = (*n)->Commit({Op{Op::Kind::kPut, "c", "other", "{}"}, big});
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kUsage);
  CHECK(r.status().message().find("document too large 'c/big'") == 0);
  CHECK(!r.status().hint().empty());
  CHECK(ReadFile(dir + "/wal/wal.log") == wal_before);  // not one byte of the write set
  CHECK((*n)->state().applied_commit == 1);
  // The largest body that does fit is written and read back by every reader.
  big.body.resize(wal::kMaxRecordBytes - 100);
  REQUIRE((*n)->Commit({big}).ok());
  auto file = PosixFs().OpenRead(dir + "/wal/wal.log");
  REQUIRE(file.ok());
  wal::RecordReader reader(file->get());
  wal::Record rec;
  uint64_t records = 0;
  while (reader.Next(&rec)) ++records;
  CHECK(reader.stop().kind == wal::StopKind::kCleanEnd);
  CHECK(records == 4);
}
