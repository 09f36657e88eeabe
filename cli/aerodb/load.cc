// aerodb load -D DIR --write-sets N ...: a deterministic bulk workload.
#include <unistd.h>

#include "cli/aerodb/commands.h"
#include "common/fs.h"
#include "node/store.h"
#include "engine/workload.h"

namespace aero::cli {
namespace {
namespace node_load_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  engine::WorkloadOptions workload;
  bool json = false;
};

int Run(const Options& o) {
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kWrite);
  if (!n.ok()) return Fail(n.status(), o.json);
  Status s = (*n)->CheckWritable();
  if (!s.ok()) return Fail(s, o.json);
  const bool tty = !o.json && isatty(STDERR_FILENO);
  auto report = engine::RunWorkload(**n, o.workload, [&](uint64_t done) {
    if (tty && (done % 1000 == 0 || done == o.workload.write_sets)) {
      std::fprintf(stderr, "\rload: %llu/%llu write sets", static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(o.workload.write_sets));
    }
  });
  if (tty) std::fprintf(stderr, "\n");
  if (!report.ok()) return Fail(report.status(), o.json);
  s = (*n)->Close();
  if (!s.ok()) return Fail(s, o.json);
  if (o.json) {
    PrintJson(OkJson({{"write_sets", report->write_sets},
                      {"first_commit", report->first_commit},
                      {"last_commit", report->last_commit},
                      {"inserts", report->inserts},
                      {"updates", report->updates},
                      {"deletes", report->deletes}}));
  } else {
    std::printf("loaded %llu write sets: commits %llu..%llu (%llu inserts, %llu updates, "
                "%llu deletes)\n",
                static_cast<unsigned long long>(report->write_sets),
                static_cast<unsigned long long>(report->first_commit),
                static_cast<unsigned long long>(report->last_commit),
                static_cast<unsigned long long>(report->inserts),
                static_cast<unsigned long long>(report->updates),
                static_cast<unsigned long long>(report->deletes));
  }
  return 0;
}

}  // namespace node_load_cmd
}  // namespace

void SetupLoad(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_load_cmd::Options>();
  CLI::App* sub = app.add_subcommand("load", "commit a deterministic bulk workload");
  AddDataDir(sub, &o->dir);
  sub->add_option("--write-sets", o->workload.write_sets, "number of write sets")
      ->required()
      ->check(Unsigned());
  sub->add_option("--records-per-set", o->workload.records_per_set,
                  "data records per write set (default 4)")
      ->check(Unsigned(0, UINT32_MAX));
  sub->add_option("--body-bytes", o->workload.body_bytes,
                  "approximate bytes per document body (default 256)")
      ->check(Unsigned(0, UINT32_MAX));
  sub->add_option("--seed", o->workload.seed, "workload seed (default 1)")->check(Unsigned());
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_load_cmd::Run(*o); }; });
}

}  // namespace aero::cli
