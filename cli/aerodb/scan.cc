// aerodb scan -D DIR [COLLECTION] [--at COMMIT]: every live document at a CommitId.
#include "cli/aerodb/commands.h"
#include "common/escape.h"
#include "common/fs.h"
#include "engine/reference_node.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_scan_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string collection;
  std::optional<uint64_t> at;
  std::optional<uint64_t> min_commit;
  bool json = false;
};

int Run(const Options& o) {
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kRead);
  if (!n.ok()) return Fail(n.status(), o.json);
  Result<uint64_t> point = (*n)->ReadPoint(o.at, o.min_commit);  // READ-2..READ-7
  if (!point.ok()) return Fail(point.status(), o.json);
  const uint64_t commit = *point;
  auto docs = (*n)->ReadAt(commit);
  if (!docs.ok()) return Fail(docs.status(), o.json);
  nlohmann::json list = nlohmann::json::array();
  uint64_t count = 0;
  for (const auto& [key, doc] : *docs) {
    if (!o.collection.empty() && key.first != o.collection) continue;
    ++count;
    if (o.json) {
      list.push_back({{"collection", key.first}, {"id", key.second},
                      {"body", BodyJson(doc.body)}});
    } else {
      // OPS-4: a NUL, tab or newline in a key must not cut or split the line.
      const std::string name = Escaped(key.first) + "/" + Escaped(key.second);
      std::fwrite(name.data(), 1, name.size(), stdout);
      std::printf("\t%s\n", doc.body.c_str());
    }
  }
  if (o.json) {
    PrintJson(OkJson({{"commit", commit}, {"count", count}, {"documents", list}}));
  } else {
    std::fprintf(stderr, "%llu documents at commit %llu\n",
                 static_cast<unsigned long long>(count),
                 static_cast<unsigned long long>(commit));
  }
  return 0;
}

}  // namespace node_scan_cmd
}  // namespace

void SetupScan(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_scan_cmd::Options>();
  CLI::App* sub = app.add_subcommand("scan", "list live documents as of a CommitId");
  AddDataDir(sub, &o->dir);
  sub->add_option("collection", o->collection, "only this collection");
  sub->add_option("--at", o->at, "read as of this CommitId (default: the last one)")->check(Unsigned());
  sub->add_option("--min-commit", o->min_commit,
                  "refuse (3) unless this node has applied at least this CommitId")
      ->check(Unsigned());
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_scan_cmd::Run(*o); }; });
}

}  // namespace aero::cli
