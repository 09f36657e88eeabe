// A deterministic bulk workload for drills and benchmarks (`aerodb load`):
// inserts, updates and deletes over three collections, from a seeded LCG.
// The same seed on the same starting state writes the same bytes.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/reference_node.h"

namespace aero::engine {

struct WorkloadOptions {
  uint64_t write_sets = 1000;
  uint32_t records_per_set = 4;
  uint32_t body_bytes = 256;  // approximate size of each inserted/updated body
  uint64_t seed = 1;
};

struct WorkloadReport {
  uint64_t write_sets = 0;
  uint64_t inserts = 0, updates = 0, deletes = 0;
  uint64_t first_commit = 0, last_commit = 0;
};

// Commits opt.write_sets write sets through node.Commit (one fsync each).
// `progress` (optional) is called after each write set with the count so far.
Result<WorkloadReport> RunWorkload(ReferenceNode& node, const WorkloadOptions& opt,
                                   const std::function<void(uint64_t)>& progress = {});

}  // namespace aero::engine
