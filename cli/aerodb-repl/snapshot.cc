// aerodb-repl snapshot export | install: a replica from a verified archive.
#include <cstdio>
#include <optional>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "cli/common/progress.h"
#include "common/fs.h"
#include "repl/export.h"
#include "repl/install.h"
#include "sign/ed25519.h"

namespace aero::cli {
namespace {
namespace snapshot_cmd {  // one name per file: the unity build joins them

struct ExportOpts {
  repl::ExportOptions x;
  std::string compression = "zstd";
  std::string system_id;
  bool json = false;
  EncryptionOptions enc;  // ENC-12: --encryption-key FILE
  std::string signing_key;  // SIG-20: --signing-key FILE
};

int RunExport(ExportOpts o) {
  repl::ExportOptions x = o.x;
  if (Status k = LoadEncryptionKey(&o.enc, &x.encryption); !k.ok()) return Fail(k, o.json);
  std::optional<sign::SigningKey> key;
  if (!o.signing_key.empty()) {  // SIG-12: checked before the node is read
    Result<sign::SigningKey> loaded = sign::LoadSigningKey(o.signing_key);
    if (!loaded.ok()) return Fail(loaded.status(), o.json);
    key = std::move(loaded).value();
    x.signing = &*key;
  }
  x.zstd = o.compression == "zstd";
  if (!o.system_id.empty()) x.system_id_hex = o.system_id;
  repl::ExportReport rep;
  ProgressLine progress("snapshot export");  // OPS-6
  Status s = repl::ExportSnapshot(PosixFs(), x, &rep, progress.Callback());
  progress.Finish();
  if (!s.ok()) return Fail(s, o.json);
  LogInfo("exported '" + rep.output + "': commit " + std::to_string(rep.boundary_commit) + " (base " +
              std::to_string(rep.base_commit) + "), " + std::to_string(rep.members) + " members, " +
              HumanBytes(rep.archive_bytes),
          {{"archive", rep.output},
           {"data_dir", o.x.data_dir},
           {"base_commit", rep.base_commit},
           {"boundary_commit", rep.boundary_commit},
           {"members", rep.members},
           {"data_bytes", rep.data_bytes},
           {"archive_bytes", rep.archive_bytes}});
  if (o.json) {
    PrintJson(OkJson({{"archive", rep.output},
                      {"base_commit", rep.base_commit},
                      {"boundary_commit", rep.boundary_commit},
                      {"history_digest", rep.boundary_digest},
                      {"members", rep.members},
                      {"data_bytes", rep.data_bytes},
                      {"archive_bytes", rep.archive_bytes}}));
  } else {
    PrintResult("exported '%s': commit %llu (base %llu), %llu members, %llu bytes\n",
                rep.output.c_str(), static_cast<unsigned long long>(rep.boundary_commit),
                static_cast<unsigned long long>(rep.base_commit),
                static_cast<unsigned long long>(rep.members),
                static_cast<unsigned long long>(rep.archive_bytes));
  }
  return 0;
}

struct InstallOpts {
  repl::InstallOptions x;
  bool json = false;
  EncryptionOptions enc;  // ENC-11: --encryption-keys DIR
};

int RunInstall(InstallOpts o) {
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-11: an encrypted archive is read through its key
  repl::InstallReport rep;
  ProgressLine progress("snapshot install");  // OPS-6
  repl::InstallOptions x = o.x;
  x.progress = progress.Callback();
  Status s = repl::InstallSnapshot(*fs, x, &rep);
  progress.Finish();
  if (!s.ok()) return Fail(s, o.json);
  PrintWarning(rep.cleanup_warning);  // FM-138
  LogInfo("installed replica '" + o.x.data_dir + "' from '" + o.x.archive +
              "': applied through commit " + std::to_string(rep.applied_commit) + ", " +
              std::to_string(rep.members) + " members",
          {{"data_dir", o.x.data_dir},
           {"archive", o.x.archive},
           {"system_id", rep.system_id},
           {"epoch", rep.epoch},
           {"base_commit", rep.base_commit},
           {"applied_commit", rep.applied_commit},
           {"members", rep.members}});
  if (o.json) {
    PrintJson(OkJson({{"data_dir", o.x.data_dir},
                      {"role", "replica"},
                      {"system_id", rep.system_id},
                      {"epoch", rep.epoch},
                      {"base_commit", rep.base_commit},
                      {"applied_commit", rep.applied_commit},
                      {"members", rep.members}}));
  } else {
    PrintResult("installed replica '%s': applied through commit %llu; continue with apply-wal\n",
                o.x.data_dir.c_str(), static_cast<unsigned long long>(rep.applied_commit));
  }
  return 0;
}

}  // namespace snapshot_cmd
}  // namespace

void SetupSnapshot(CLI::App& app, Runner& runner) {
  CLI::App* snap = app.add_subcommand("snapshot", "export or install a snapshot archive");
  snap->require_subcommand(1);

  auto e = std::make_shared<snapshot_cmd::ExportOpts>();
  CLI::App* ex = snap->add_subcommand(
      "export", "write the node's state at its last commit as a self-checked archive");
  AddDataDir(ex, &e->x.data_dir);
  ex->add_option("-o,--output", e->x.output, "the archive to write (must not exist)")->required();
  ex->add_option("--compression", e->compression, "zstd (default) or none")
      ->check(CLI::IsMember({"zstd", "none"}));
  ex->add_option("--level", e->x.level, "zstd level (default 3)")->check(CLI::Range(1, 19));
  ex->add_option("--system-id", e->system_id,
                 "for an AeroDB directory without replication/: its system id (32 hex)");
  AddEncryptionKey(ex, &e->enc);
  ex->add_option("--signing-key", e->signing_key,
                 "sign the archive with this Ed25519 private key (PEM, mode 600): NAME.sig beside NAME")
      ->type_name("FILE");
  AddJson(ex, &e->json);
  ex->callback([e, &runner] { runner.run = [e] { return snapshot_cmd::RunExport(*e); }; });

  auto i = std::make_shared<snapshot_cmd::InstallOpts>();
  CLI::App* in = snap->add_subcommand(
      "install", "create a replica from an archive, put in place only once verified");
  AddDataDir(in, &i->x.data_dir);
  in->add_option("archive", i->x.archive, "the archive")->required();
  in->add_flag("--discard-existing", i->x.discard_existing,
               "DESTRUCTIVE: replace a non-empty target directory");
  AddEncryptionKeys(in, &i->enc);
  in->add_option("--trusted-keys", i->x.trusted_keys,
                 "require the archive's signature by one of these public keys (*.pem); copied into "
                 "the replica's replication/trusted-keys/")
      ->type_name("DIR")->check(NonEmptyPath());
  AddJson(in, &i->json);
  in->callback([i, &runner] { runner.run = [i] { return snapshot_cmd::RunInstall(*i); }; });
}

}  // namespace aero::cli
