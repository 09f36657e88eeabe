// aerodb delete -D DIR COLLECTION/ID: one write set (Delete + commit).
#include "cli/aerodb/commands.h"
#include "common/escape.h"
#include "common/fs.h"
#include "engine/reference_node.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_delete_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string name;
  bool json = false;
};

int Run(const Options& o) {
  engine::Op op;
  op.kind = engine::Op::Kind::kDelete;
  Status s = ParseDocName(o.name, &op.collection, &op.id);
  if (!s.ok()) return Fail(s, o.json);
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kWrite);
  if (!n.ok()) return Fail(n.status(), o.json);
  auto commit = (*n)->Commit({op});
  if (!commit.ok()) return Fail(commit.status(), o.json);
  s = (*n)->Close();
  if (!s.ok()) return Fail(s, o.json);
  if (o.json) {
    PrintJson(OkJson({{"commit", *commit}, {"operation", "delete"},
                      {"collection", op.collection}, {"id", op.id}}));
  } else {
    std::printf("delete %s/%s: commit %llu\n", Escaped(op.collection).c_str(), Escaped(op.id).c_str(),  // OPS-4
                static_cast<unsigned long long>(*commit));
  }
  return 0;
}

}  // namespace node_delete_cmd
}  // namespace

void SetupDelete(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_delete_cmd::Options>();
  CLI::App* sub = app.add_subcommand("delete", "delete a document (primary only)");
  AddDataDir(sub, &o->dir);
  sub->add_option("name", o->name, "COLLECTION/ID")->required();
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_delete_cmd::Run(*o); }; });
}

}  // namespace aero::cli
