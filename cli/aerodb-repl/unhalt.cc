// aerodb-repl unhalt -D DIR --reason TEXT: the operator clears a halt (LOG-19).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "node/layout.h"
#include "node/permit.h"
#include "repl/unhalt.h"

namespace aero::cli {
namespace {
namespace unhalt_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string reason;
  bool json = false;
};

int Run(const Options& o) {
  repl::UnhaltReport rep;
  Status s = repl::Unhalt(PosixFs(), o.dir, o.reason, &rep);
  if (!s.ok()) return Fail(s, o.json);
  LogInfo(rep.cleared ? "cleared the halt of '" + o.dir + "' (" + rep.cleared->code + ")"
                      : "nothing to clear '" + o.dir + "': not halted",
          {{"data_dir", o.dir}, {"cleared", rep.cleared.has_value()}});
  if (o.json) {
    PrintJson(OkJson({{"data_dir", o.dir},
                      {"cleared", rep.cleared ? nlohmann::json({{"code", rep.cleared->code},
                                                                {"subject", rep.cleared->subject},
                                                                {"detail", rep.cleared->detail},
                                                                {"commit", rep.cleared->commit}})
                                              : nlohmann::json(nullptr)}}));
  } else if (!rep.cleared) {
    PrintResult("nothing to clear '%s': the node is not halted\n", o.dir.c_str());
  } else {
    PrintResult("cleared halt '%s': %s: %s\n", o.dir.c_str(), rep.cleared->code.c_str(),
                rep.cleared->detail.c_str());
    // An unreadable halt.json names itself (NODE-9): unhalt removed it.
    const std::string& subject = rep.cleared->subject;
    const std::string_view own(node::kHaltFile);
    if (subject.size() < own.size() || subject.compare(subject.size() - own.size(), own.size(), own) != 0) {
      // Any role: a replica's inbox segment, or a primary's own WAL that
      // ship-wal or a read found damaged (LOG-22, LOG-27).
      PrintResult("hint: %s\n", node::HaltHint(*rep.cleared, /*cleared=*/true).c_str());
    }
  }
  return 0;
}

}  // namespace unhalt_cmd
}  // namespace

void SetupUnhalt(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<unhalt_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "unhalt", "clear a halt after the operator fixed its cause (records why)");
  AddDataDir(sub, &o->dir);
  sub->add_option("--reason", o->reason, "what was fixed (logged in halt-history.jsonl)")
      ->required();
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return unhalt_cmd::Run(*o); }; });
}

}  // namespace aero::cli
