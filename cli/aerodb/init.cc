// aerodb init -D DIR: a new primary (epoch 1, commit 0, new system id).
#include "cli/aerodb/commands.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_init_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  bool json = false;
};

int Run(const Options& o) {
  Fs& fs = PosixFs();
  Status s = node::Node::Init(fs, o.dir);
  if (!s.ok()) return Fail(s, o.json);
  auto n = node::Node::Open(fs, o.dir, node::Access::kRead);
  if (!n.ok()) return Fail(n.status(), o.json);
  const std::string id = (*n)->identity().system_id.ToHex();
  if (o.json) {
    PrintJson(OkJson({{"data_dir", o.dir}, {"system_id", id}, {"role", "primary"},
                      {"epoch", 1}, {"commit", 0}}));
  } else {
    PrintResult("initialised primary '%s': system id %s, epoch 1\n", o.dir.c_str(), id.c_str());
  }
  return 0;
}

}  // namespace node_init_cmd
}  // namespace

void SetupInit(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_init_cmd::Options>();
  CLI::App* sub = app.add_subcommand("init", "create a new primary in an absent or empty directory");
  AddDataDir(sub, &o->dir);
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_init_cmd::Run(*o); }; });
}

}  // namespace aero::cli
