// aerodb put -D DIR COLLECTION/ID JSON: one write set (Insert or Update + commit).
#include "cli/aerodb/commands.h"
#include "common/fs.h"
#include "engine/reference_node.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_put_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string name;
  std::string body;
  bool json = false;
};

int Run(const Options& o) {
  engine::Op op;
  Status s = ParseDocName(o.name, &op.collection, &op.id);
  if (!s.ok()) return Fail(s, o.json);
  nlohmann::json body = nlohmann::json::parse(o.body, nullptr, false);
  if (body.is_discarded()) {
    return Fail(Status(Code::kUsage, Problem("invalid JSON", o.name, "the document body does not parse"),
                       "quote the body for the shell, e.g. '{\"name\":\"Zoe\"}'"),
                o.json);
  }
  op.body = body.dump();
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kWrite);
  if (!n.ok()) return Fail(n.status(), o.json);
  // Permit decides (MODEL-9), not this file: a refused write reports its refusal.
  const bool existed = (*n)->CheckWritable().ok() && (*n)->Exists({op.collection, op.id});
  auto commit = (*n)->Commit({op});
  if (!commit.ok()) return Fail(commit.status(), o.json);
  s = (*n)->Close();
  if (!s.ok()) return Fail(s, o.json);
  const char* what = existed ? "update" : "insert";
  if (o.json) {
    PrintJson(OkJson({{"commit", *commit}, {"operation", what},
                      {"collection", op.collection}, {"id", op.id}}));
  } else {
    std::printf("%s %s/%s: commit %llu\n", what, op.collection.c_str(), op.id.c_str(),
                static_cast<unsigned long long>(*commit));
  }
  return 0;
}

}  // namespace node_put_cmd
}  // namespace

void SetupPut(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_put_cmd::Options>();
  CLI::App* sub = app.add_subcommand("put", "insert or replace a document (primary only)");
  AddDataDir(sub, &o->dir);
  sub->add_option("name", o->name, "COLLECTION/ID")->required();
  sub->add_option("body", o->body, "the whole document, as JSON")->required();
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_put_cmd::Run(*o); }; });
}

}  // namespace aero::cli
