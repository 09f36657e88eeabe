// aerodb-repl rejoin -D DIR --archive DIR: a superseded old primary whose
// history is a prefix of the lineage becomes a replica (RECOV-10).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/rejoin.h"

namespace aero::cli {
namespace {
namespace rejoin_cmd {  // one name per file: the unity build joins them

struct Options {
  repl::RejoinOptions rejoin;
  bool json = false;
  EncryptionOptions enc;  // ENC-14: --encryption-keys DIR
};

int Run(Options& o) {
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-14: the claim archive's segments read through their keys
  repl::RejoinReport rep;
  Status s = repl::Rejoin(*fs, o.rejoin, &rep);
  if (!s.ok()) return Fail(s, o.json);  // 4 names the superseded commits
  LogInfo("rejoined '" + o.rejoin.data_dir + "' as a replica at commit " +
              std::to_string(rep.applied_commit),
          {{"data_dir", o.rejoin.data_dir}, {"epoch", rep.epoch},
           {"applied_commit", rep.applied_commit}, {"branch_commit", rep.branch_commit}});
  if (o.json) {
    PrintJson(OkJson({{"data_dir", o.rejoin.data_dir},
                      {"role", "replica"},
                      {"epoch", rep.epoch},
                      {"lineage_epoch", rep.lineage_epoch},
                      {"applied_commit", rep.applied_commit},
                      {"branch_commit", rep.branch_commit}}));
  } else {
    PrintResult("rejoined '%s': a replica of epoch %u at commit %llu; apply-wal continues with epoch %u from commit %llu\n",
                o.rejoin.data_dir.c_str(), rep.epoch, static_cast<unsigned long long>(rep.applied_commit),
                rep.epoch + 1, static_cast<unsigned long long>(rep.branch_commit + 1));
  }
  return 0;
}

}  // namespace rejoin_cmd
}  // namespace

void SetupRejoin(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<rejoin_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "rejoin", "make a superseded old primary a replica of the new lineage, when its history is a prefix of it");
  AddDataDir(sub, &o->rejoin.data_dir);
  sub->add_option("--archive", o->rejoin.archive, "the claim archive (holds claim-archive.json), a directory or s3://BUCKET/PREFIX")->required()->check(NonEmptyPath());
  AddJson(sub, &o->json);
  AddEncryptionKeys(sub, &o->enc);
  sub->callback([o, &runner] { runner.run = [o] { return rejoin_cmd::Run(*o); }; });
}

}  // namespace aero::cli
