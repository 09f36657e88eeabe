// aerodb-repl init -D DIR [--re-enrol]: enrols a data directory that AeroDB
// wrote as the primary of epoch 1 of a new system id (COMPAT-1..COMPAT-5,
// COMPAT-9).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/enrol.h"

namespace aero::cli {
namespace {
namespace init_cmd {  // one name per file: the unity build joins them

struct Options {
  repl::EnrolOptions enrol;
  bool json = false;
};

int Run(const Options& o) {
  repl::EnrolReport rep;
  Status s = repl::Enrol(PosixFs(), o.enrol, &rep);
  if (!s.ok()) return Fail(s, o.json);
  LogInfo("enrolled '" + rep.data_dir + "' as the primary of epoch 1 of system " + rep.system_id,
          {{"data_dir", rep.data_dir}, {"system_id", rep.system_id},
           {"base_commit", rep.base_commit}});
  if (o.json) {
    nlohmann::json notices = nlohmann::json::array();
    for (const repl::Finding& f : rep.notices) notices.push_back({{"kind", f.kind}, {"message", f.message}});
    PrintJson(OkJson({{"data_dir", rep.data_dir},
                      {"system_id", rep.system_id},
                      {"role", "primary"},
                      {"epoch", 1},
                      {"base_commit", rep.base_commit},
                      {"base_snapshot", rep.base_snapshot ? nlohmann::json(*rep.base_snapshot)
                                                          : nlohmann::json(nullptr)},
                      {"applied_commit", rep.applied_commit},
                      {"applied_digest", history::DigestToHex(rep.applied_digest)},
                      {"tail_bytes", rep.tail_bytes},
                      {"previous_system_id", rep.previous_system_id
                                                 ? nlohmann::json(*rep.previous_system_id)
                                                 : nlohmann::json(nullptr)},
                      {"notices", notices}}));
    return 0;
  }
  PrintResult("enrolled '%s': system %s, primary of epoch 1, base commit %llu (%s), applied commit %llu\n",
              rep.data_dir.c_str(), rep.system_id.c_str(),
              static_cast<unsigned long long>(rep.base_commit),
              rep.base_snapshot ? ("snapshot " + *rep.base_snapshot).c_str() : "no snapshot",
              static_cast<unsigned long long>(rep.applied_commit));
  if (rep.previous_system_id) {
    PrintResult("replaced history of system %s: its replicas need 'snapshot install'\n",
                rep.previous_system_id->c_str());
  }
  if (rep.tail_bytes > 0) {
    PrintResult("not enrolled: %llu bytes after the last commit record (AeroDB's transaction in progress, or a torn tail)\n",
                static_cast<unsigned long long>(rep.tail_bytes));
  }
  PrintResult("next: aerodb-repl ship-wal -D %s --to TARGET\n", rep.data_dir.c_str());
  return 0;
}

}  // namespace init_cmd
}  // namespace

void SetupInit(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<init_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "init", "enrol a data directory that AeroDB wrote: a primary of epoch 1 with a new system id");
  AddDataDir(sub, &o->enrol.data_dir);
  sub->add_flag("--re-enrol", o->enrol.re_enrol,
                "start a new history (new system id) on a directory init enrolled, e.g. after a history cut");
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return init_cmd::Run(*o); }; });
}

}  // namespace aero::cli
