#include "engine/workload.h"

#include <array>
#include <cstdio>
#include <string>

namespace aero::engine {

namespace {

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  uint32_t Next() {
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s_ >> 33);
  }

 private:
  uint64_t s_;
};

constexpr std::array<const char*, 3> kCollections = {"users", "orders", "events"};

}  // namespace

Result<WorkloadReport> RunWorkload(ReferenceNode& node, const WorkloadOptions& opt,
                                   const std::function<void(uint64_t)>& progress) {
  if (opt.records_per_set == 0) {
    return Status(Code::kUsage, Problem("invalid workload", "--records-per-set", "must be >= 1"),
                  "give --records-per-set 1 or more (data records per write set)");
  }
  Lcg rng(opt.seed);
  // Enough keys that most puts insert early on and update later.
  const uint64_t keyspace =
      std::max<uint64_t>(16, opt.write_sets * opt.records_per_set / 2);
  WorkloadReport report;
  std::vector<Op> ops;
  for (uint64_t n = 0; n < opt.write_sets; ++n) {
    ops.clear();
    std::map<DocumentKey, bool> in_set;  // live state as this set leaves it
    for (uint32_t i = 0; i < opt.records_per_set; ++i) {
      Op op;
      op.collection = kCollections[rng.Next() % kCollections.size()];
      char id[32];
      std::snprintf(id, sizeof id, "%c-%08llx", op.collection[0],
                    static_cast<unsigned long long>(rng.Next() % keyspace));
      op.id = id;
      DocumentKey key{op.collection, op.id};
      auto it = in_set.find(key);
      bool live = it != in_set.end() ? it->second : node.Exists(key);
      if (live && rng.Next() % 100 < 15) {
        op.kind = Op::Kind::kDelete;
        ++report.deletes;
      } else {
        op.kind = Op::Kind::kPut;
        std::string body = "{\"_id\":\"" + op.id + "\",\"n\":" + std::to_string(n) +
                           ",\"pad\":\"";
        while (body.size() + 2 < opt.body_bytes) {
          body.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[rng.Next() % 36]);
        }
        body += "\"}";
        op.body = std::move(body);
        ++(live ? report.updates : report.inserts);
      }
      in_set[key] = op.kind == Op::Kind::kPut;
      ops.push_back(std::move(op));
    }
    AERO_ASSIGN_OR_RETURN(uint64_t commit, node.Commit(ops));
    if (report.first_commit == 0) report.first_commit = commit;
    report.last_commit = commit;
    ++report.write_sets;
    if (progress) progress(report.write_sets);
  }
  return report;
}

}  // namespace aero::engine
