// aerodb get -D DIR COLLECTION/ID [--at COMMIT]: one document at a CommitId.
#include "cli/aerodb/commands.h"
#include "common/fs.h"
#include "engine/reference_node.h"
#include "node/store.h"

namespace aero::cli {
namespace {
namespace node_get_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string name;
  std::optional<uint64_t> at;
  std::optional<uint64_t> min_commit;
  bool json = false;
};

int Run(const Options& o) {
  std::string collection, id;
  Status s = ParseDocName(o.name, &collection, &id);
  if (!s.ok()) return Fail(s, o.json);
  auto n = engine::ReferenceNode::Open(PosixFs(), o.dir, node::Access::kRead);
  if (!n.ok()) return Fail(n.status(), o.json);
  Result<uint64_t> point = (*n)->ReadPoint(o.at, o.min_commit);  // READ-2..READ-7
  if (!point.ok()) return Fail(point.status(), o.json);
  const uint64_t commit = *point;
  auto docs = (*n)->ReadAt(commit);
  if (!docs.ok()) return Fail(docs.status(), o.json);
  auto it = docs->find({collection, id});
  if (it == docs->end()) {
    return Fail(Status(Code::kNotFound,
                       Problem("no such document", o.name,
                               "absent at commit " + std::to_string(commit))),
                o.json);
  }
  if (o.json) {
    PrintJson(OkJson({{"commit", commit}, {"collection", collection}, {"id", id},
                      {"body", BodyJson(it->second.body)}}));
  } else {
    std::printf("%s\n", it->second.body.c_str());
    std::fprintf(stderr, "read at commit %llu\n", static_cast<unsigned long long>(commit));
  }
  return 0;
}

}  // namespace node_get_cmd
}  // namespace

void SetupGet(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<node_get_cmd::Options>();
  CLI::App* sub = app.add_subcommand("get", "print one document as of a CommitId");
  AddDataDir(sub, &o->dir);
  sub->add_option("name", o->name, "COLLECTION/ID")->required();
  sub->add_option("--at", o->at, "read as of this CommitId (default: the last one)")->check(Unsigned());
  sub->add_option("--min-commit", o->min_commit,
                  "refuse (3) unless this node has applied at least this CommitId")
      ->check(Unsigned());
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_get_cmd::Run(*o); }; });
}

}  // namespace aero::cli
