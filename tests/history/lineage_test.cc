// The lineage of history files (LOG-15): owners and branch points, and the
// disagreements that make two histories.
#include <doctest/doctest.h>

#include "history/lineage.h"

using namespace aero;
using namespace aero::history;

namespace {

HistoryFile File(uint32_t epoch, std::vector<LineageEntry> lineage, uint8_t claimant = 1) {
  HistoryFile h;
  h.system_id = *ParseSystemId("00112233445566778899aabbccddeeff");
  h.epoch = epoch;
  h.lineage = std::move(lineage);
  h.branch_commit = h.lineage.back().branch_commit;
  h.branch_digest[0] = static_cast<uint8_t>(h.branch_commit);
  h.claimant.fill(claimant);
  return h;
}

}  // namespace

TEST_CASE("LOG-15 a chain of history files: owners, branch points, disagreements") {
  Lineage none;
  CHECK(none.max_epoch() == 1);
  CHECK(none.Owner(1) == 1);
  CHECK(none.Branch(1) == 0u);
  CHECK_FALSE(none.Branch(2));
  const HistoryFile e2 = File(2, {{1, 0}, {2, 30}});
  const HistoryFile e3 = File(3, {{1, 0}, {2, 30}, {3, 45}});
  // Any order; a file of a later epoch alone places the earlier ones.
  auto l = Lineage::Of({{e3, "a/00000003.history"}, {e2, "b/00000002.history"}});
  REQUIRE(l.ok());
  CHECK(l->max_epoch() == 3);
  CHECK(l->Branch(2) == 30u);
  CHECK(l->Branch(3) == 45u);
  CHECK(l->Owner(30) == 1);
  CHECK(l->Owner(31) == 2);
  CHECK(l->Owner(45) == 2);
  CHECK(l->Owner(46) == 3);
  CHECK(l->File(2)->path == "b/00000002.history");
  auto only3 = Lineage::Of({{e3, "x"}});
  REQUIRE(only3.ok());
  CHECK(only3->Branch(2) == 30u);
  CHECK(only3->File(2) == nullptr);
  // Two promotions at one commit: epoch 2 owns nothing.
  auto twice = Lineage::Of({{File(3, {{1, 0}, {2, 30}, {3, 30}}), "x"}});
  REQUIRE(twice.ok());
  CHECK(twice->Owner(31) == 3);
  // The same epoch twice: equal is one claim, another claimant two.
  CHECK(Lineage::Of({{e2, "a"}, {e2, "b"}}).ok());
  auto rival = Lineage::Of({{e2, "a"}, {File(2, {{1, 0}, {2, 30}}, 9), "b"}});
  CHECK(rival.status().code() == Code::kDiverged);
  CHECK(rival.status().message() == "diverged 'b': epoch 2 was claimed twice (this file and 'a')");
  // Lineages that part: epoch 2 branched at 30 in one, at 31 in the other.
  auto parted = Lineage::Of({{e3, "a"}, {File(2, {{1, 0}, {2, 31}}), "b"}});
  CHECK(parted.status().code() == Code::kDiverged);
}
