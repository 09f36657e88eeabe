#include <doctest/doctest.h>

#include "engine/workload.h"
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
