// aerodb checkpoint -D DIR: snapshot the state at the last commit, empty the WAL.
#include "cli/aerodb/commands.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "engine/reference_node.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_checkpoint_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  bool json = false;
};

int Run(const Options& o) {
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kWrite);
  if (!n.ok()) return Fail(n.status(), o.json);
  auto id = (*n)->Checkpoint();
  if (!id.ok()) return Fail(id.status(), o.json);
  const uint64_t commit = (*n)->state().base_commit;
  if (o.json) {
    PrintJson(OkJson({{"snapshot_id", *id}, {"commit_boundary", commit}}));
  } else {
    PrintResult("checkpoint '%s': snapshot %s at commit %llu\n", o.dir.c_str(), id->c_str(),
                static_cast<unsigned long long>(commit));
  }
  return 0;
}

}  // namespace node_checkpoint_cmd
}  // namespace

void SetupCheckpoint(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_checkpoint_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "checkpoint", "write a snapshot of the state at the last commit and empty the WAL");
  AddDataDir(sub, &o->dir);
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_checkpoint_cmd::Run(*o); }; });
}

}  // namespace aero::cli
