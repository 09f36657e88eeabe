// aerodb: a small reference node for drills, tests and benchmarks.
#include "cli/aerodb/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"aerodb: a small AeroDB reference node (WAL, MVCC commits, checkpoints)",
               "aerodb"};
  app.set_version_flag("--version", aero::cli::VersionText("aerodb"));
  aero::cli::Runner runner;
  aero::cli::SetupInit(app, runner);
  aero::cli::SetupPut(app, runner);
  aero::cli::SetupDelete(app, runner);
  aero::cli::SetupGet(app, runner);
  aero::cli::SetupScan(app, runner);
  aero::cli::SetupCheckpoint(app, runner);
  aero::cli::SetupLoad(app, runner);
  return aero::cli::RunMain(app, runner, argc, argv);
}
