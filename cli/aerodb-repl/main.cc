// aerodb-repl: replicate an AeroDB database by moving verified files.
#include "cli/aerodb-repl/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"aerodb-repl: replicate an AeroDB database with verified snapshot archives "
               "and WAL segment files",
               "aerodb-repl"};
  app.set_version_flag("--version", aero::cli::VersionText("aerodb-repl"));
  aero::cli::Runner runner;
  aero::cli::SetupShipWal(app, runner);
  aero::cli::SetupApplyWal(app, runner);
  aero::cli::SetupStatus(app, runner);
  aero::cli::SetupVerify(app, runner);
  aero::cli::SetupSnapshot(app, runner);
  aero::cli::SetupUnhalt(app, runner);
  aero::cli::SetupPromote(app, runner);
  aero::cli::SetupCheckHistory(app, runner);
  aero::cli::SetupRejoin(app, runner);
  aero::cli::SetupInit(app, runner);
  aero::cli::SetupPrune(app, runner);
  aero::cli::AddS3Options(app);  // OBJ-30
  return aero::cli::RunMain(app, runner, argc, argv);
}
