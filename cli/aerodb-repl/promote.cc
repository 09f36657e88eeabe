// aerodb-repl promote -D DIR [--archive DIR] [--discard-after-applied]: a
// replica claims the next epoch and becomes its primary (MODEL-6, MODEL-8).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/promote.h"

namespace aero::cli {
namespace {
namespace promote_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string archive;
  bool discard_after_applied = false;
  std::string signing_key;
  std::string trusted_keys;
  bool json = false;
};

int Run(const Options& o) {
  repl::PromoteOptions po;
  po.data_dir = o.dir;
  if (!o.archive.empty()) po.archive = o.archive;
  po.discard_after_applied = o.discard_after_applied;
  po.signing_key = o.signing_key;  // SIG-10
  po.trusted_keys = o.trusted_keys;  // SIG-10
  repl::PromoteReport rep;
  Status s = repl::Promote(PosixFs(), po, &rep);
  if (!s.ok()) return Fail(s, o.json);
  LogInfo("promoted '" + o.dir + "': primary of epoch " + std::to_string(rep.epoch) +
              " from commit " + std::to_string(rep.branch_commit + 1),
          {{"data_dir", o.dir}, {"epoch", rep.epoch}, {"branch_commit", rep.branch_commit},
           {"local", rep.local}, {"resumed", rep.resumed}});
  const std::string local_warning = "claimed locally: nothing prevents another node from claiming epoch " +
                                    std::to_string(rep.epoch);
  if (o.json) {
    PrintJson(OkJson({{"data_dir", o.dir},
                      {"epoch", rep.epoch},
                      {"branch_commit", rep.branch_commit},
                      {"branch_digest", history::DigestToHex(rep.branch_digest)},
                      {"history_file", rep.history_file},
                      {"claimant", rep.claimant},
                      {"local", rep.local},
                      {"resumed", rep.resumed},
                      {"abandoned_commits", rep.abandoned_commits}}));
  } else {
    PrintResult("promoted '%s': primary of epoch %u from commit %llu (history file '%s', claimant %s)\n",
                o.dir.c_str(), rep.epoch, static_cast<unsigned long long>(rep.branch_commit + 1),
                rep.history_file.c_str(), rep.claimant.c_str());
  }
  if (rep.local) {
    std::fprintf(stderr, "warning: %s\nhint: give every deployment a claim archive and promote with --archive\n",
                 local_warning.c_str());
  }
  return 0;
}

}  // namespace promote_cmd
}  // namespace

void SetupPromote(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<promote_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "promote", "make this replica the primary of the next epoch, claimed in the claim archive");
  AddDataDir(sub, &o->dir);
  sub->add_option("--archive", o->archive,
                  "the claim archive (holds claim-archive.json); without it the claim is local")->check(NonEmptyPath());
  sub->add_flag("--discard-after-applied", o->discard_after_applied,
                "promote although the archive holds commits this replica has not applied (they are abandoned)");
  sub->add_option("--signing-key", o->signing_key,
                  "sign the claim (EEEEEEEE.history.sig in the claim archive) with this Ed25519 "
                  "private key (PEM, mode 600)")
      ->type_name("FILE");
  sub->add_option("--trusted-keys", o->trusted_keys,
                  "read only history files of the claim archive signed by these public keys "
                  "(*.pem; added to the node's replication/trusted-keys/)")
      ->type_name("DIR")->check(NonEmptyPath());
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return promote_cmd::Run(*o); }; });
}

}  // namespace aero::cli
