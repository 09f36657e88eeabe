// aerodb put -D DIR COLLECTION/ID JSON|-: one write set (Insert or Update + commit).
#include "cli/aerodb/commands.h"
#include "common/escape.h"
#include "common/fs.h"
#include "common/json_depth.h"
#include "engine/reference_node.h"
#include "node/store.h"
#include "wal/record_format.h"

#include <cstdio>

namespace aero::cli {
namespace {
namespace node_put_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string name;
  std::string body;
  bool json = false;
};

// `-`: the document from standard input, for one larger than a command
// line holds (the kernel's 128 KiB per argument); at most what one record
// can carry (REC-2).
Result<std::string> ReadBody(const std::string& arg, const std::string& name) {
  if (arg != "-") return arg;
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, stdin);
    text.append(buf, n);
    if (text.size() > wal::kMaxRecordBytes) {
      return Status(Code::kUsage, Problem("document too large", name, "more than a record holds (64 MiB)"),
                    "store it in smaller documents");
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(stdin)) {
    return Status(Code::kIo, Problem("cannot read", "standard input", "read error"),
                  "pipe the document in again");
  }
  return text;
}

int Run(const Options& o) {
  engine::Op op;
  Status s = ParseDocName(o.name, &op.collection, &op.id);
  if (!s.ok()) return Fail(s, o.json);
  Result<std::string> text = ReadBody(o.body, o.name);
  if (!text.ok()) return Fail(text.status(), o.json);
  // Dumping a parsed value recurses once per level (common/json_depth.h):
  // a document nested deeper than any real one is refused before parsing.
  constexpr size_t kMaxDocumentDepth = 1000;
  if (JsonDepth(*text) > kMaxDocumentDepth) {
    return Fail(Status(Code::kUsage,
                       Problem("document too deep", o.name,
                               "nested more than " + std::to_string(kMaxDocumentDepth) + " levels"),
                       "flatten the document"),
                o.json);
  }
  nlohmann::json body = nlohmann::json::parse(*text, nullptr, false);
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
    std::printf("%s %s/%s: commit %llu\n", what, Escaped(op.collection).c_str(), Escaped(op.id).c_str(),  // OPS-4
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
  sub->add_option("body", o->body, "the whole document, as JSON; - reads it from standard input")
      ->required();
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return node_put_cmd::Run(*o); }; });
}

}  // namespace aero::cli
