// aerodb-repl check-history A B: the relation of two histories (RECOV-8).
// Each side is -D DIR (a node), --archive DIR (segments and history files)
// or --snapshot FILE (a snapshot archive), taken in the order given.
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/check_history.h"

namespace aero::cli {
namespace {
namespace check_history_cmd {  // one name per file: the unity build joins them

struct Options {
  std::vector<repl::HistorySide> sides;
  bool json = false;
  std::string trusted_keys;  // SIG-14
  EncryptionOptions enc;     // ENC-14: --encryption-keys DIR
};

std::string Text(const repl::CheckHistoryReport& r, const std::string& a, const std::string& b) {
  const std::string ab = "'" + a + "' and '" + b + "'";
  switch (r.relation) {
    case repl::Relation::kIdentical:
      return "identical " + ab + ": through commit " + std::to_string(r.a.last_commit);
    case repl::Relation::kBehind:
      return "behind '" + a + "': '" + b + "' holds " + std::to_string(r.commits) +
             (r.commits == 1 ? " more commit (through " : " more commits (through ") + std::to_string(r.b.last_commit) + ")";
    case repl::Relation::kAhead:
      return "ahead '" + a + "': it holds " + std::to_string(r.commits) + (r.commits == 1 ? " commit '" : " commits '") + b +
             "' lacks (through " + std::to_string(r.a.last_commit) + ")";
    case repl::Relation::kDiverged: {
      const uint64_t c = *r.last_common;
      const std::string part = *r.first_differing == c + 1
                                   ? "they part at commit " + std::to_string(c + 1)
                                   : "they part in commits " + std::to_string(c + 1) + ".." +
                                         std::to_string(*r.first_differing);
      return "diverged " + ab + ": last common commit " + std::to_string(c) + "; " + part + " (epoch " +
             std::to_string(r.a_epoch) + " on the first, " + std::to_string(r.b_epoch) + " on the second)";
    }
    case repl::Relation::kUnrelated:
      return "unrelated " + ab + ": system ids " + r.a.system_id + " and " + r.b.system_id;
    case repl::Relation::kUnprovable:
      return "unprovable " + ab + ": " + r.missing;
  }
  return "";
}

nlohmann::json SideJson(const repl::SideSummary& s, const repl::HistorySide& in) {
  static const char* kKinds[] = {"node", "archive", "snapshot"};
  return {{"path", in.path},
          {"kind", kKinds[static_cast<int>(in.kind)]},
          {"system_id", s.system_id},
          {"last_commit", s.last_commit},
          {"epoch", s.epoch}};
}

// SIG-14: each judged history file, or that none was judged.
void PrintSignatureChecks(const repl::CheckHistoryReport& r) {
  if (!r.signatures_checked) return;  // the result line alone, as before (--json: checked false)
  for (const auto& c : r.signatures) {
    PrintResult("signature '%s': %s%s\n", c.path.c_str(), c.outcome.c_str(),
                c.key_id.empty() ? "" : (" by key " + c.key_id).c_str());
  }
}

nlohmann::json SignatureChecksJson(const repl::CheckHistoryReport& r) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& c : r.signatures) a.push_back({{"path", c.path}, {"outcome", c.outcome}, {"key_id", c.key_id}});
  return {{"checked", r.signatures_checked}, {"files", a}};
}

int Run(Options& o) {
  if (o.sides.size() != 2) {
    return Fail(Status(Code::kUsage,
                       Problem("two histories are needed", "check-history",
                               std::to_string(o.sides.size()) + " given"),
                       "give two of -D DIR, --archive DIR and --snapshot FILE, in the order to compare"),
                o.json);
  }
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-14: encrypted segments read through their keys
  auto r = repl::CheckHistory(*fs, o.sides[0], o.sides[1], o.trusted_keys);
  if (!r.ok()) return Fail(r.status(), o.json);
  const Code code = repl::RelationCode(r->relation);
  const std::string hint = repl::RelationHint(*r, o.sides[0], o.sides[1]);  // RECOV-8
  if (code == Code::kOk) {  // OPS-3: another relation is the command's result, not a log line
    LogInfo(std::string("histories: ") + repl::RelationName(r->relation),
            {{"relation", repl::RelationName(r->relation)}, {"commits", r->commits}});
  }
  if (o.json) {
    nlohmann::json j = {{"ok", code == Code::kOk},
                        {"code", std::string(CodeName(code))},
                        {"exit", ExitCodeOf(code)},
                        {"relation", repl::RelationName(r->relation)},
                        {"a", SideJson(r->a, o.sides[0])},
                        {"b", SideJson(r->b, o.sides[1])},
                        {"commits", r->commits},
                        {"last_common", r->last_common ? nlohmann::json(*r->last_common) : nlohmann::json(nullptr)},
                        {"first_differing",
                         r->first_differing ? nlohmann::json(*r->first_differing) : nlohmann::json(nullptr)},
                        {"a_epoch", r->a_epoch},
                        {"b_epoch", r->b_epoch},
                        {"missing", r->missing},
                        {"probes", r->probes},
                        {"hint", hint},
                        {"signatures", SignatureChecksJson(*r)}};
    PrintJson(j);
  } else {
    PrintResult("%s\n", Text(*r, o.sides[0].path, o.sides[1].path).c_str());
    PrintSignatureChecks(*r);
  }
  if (!hint.empty()) {
    std::fflush(stdout);  // the result line first, then what it allows
    std::fprintf(stderr, "hint: %s\n", hint.c_str());
  }
  return ExitCodeOf(code);
}

}  // namespace check_history_cmd
}  // namespace

void SetupCheckHistory(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<check_history_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "check-history", "tell how two histories of one database relate: identical, behind, ahead, diverged");
  auto side = [o](repl::HistorySide::Kind k) {
    return [o, k](const std::string& v) { o->sides.push_back({k, v}); };
  };
  // trigger_on_parse: each side is recorded where it stands on the command line.
  sub->add_option_function<std::string>("-D,--data-dir", side(repl::HistorySide::Kind::kNode),
                                        "a node's data directory")
      ->trigger_on_parse();
  sub->add_option_function<std::string>("--archive", side(repl::HistorySide::Kind::kArchive),
                                         "a directory of segments and history files, or s3://BUCKET/PREFIX")
      ->trigger_on_parse();
  sub->add_option_function<std::string>("--snapshot", side(repl::HistorySide::Kind::kSnapshot),
                                        "a snapshot archive file")
      ->trigger_on_parse();
  AddJson(sub, &o->json);
  sub->add_option("--trusted-keys", o->trusted_keys,
                  "require the history files of an --archive side signed by these public keys (*.pem)")->check(NonEmptyPath());
  AddEncryptionKeys(sub, &o->enc);
  sub->callback([o, &runner] { runner.run = [o] { return check_history_cmd::Run(*o); }; });
}

}  // namespace aero::cli
