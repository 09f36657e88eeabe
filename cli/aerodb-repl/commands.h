// The aerodb-repl subcommands: one file each.
//
// Adding a subcommand — the checklist:
//   1. cli/aerodb-repl/<name>.cc with an Options struct, Setup<Name>() binding
//      options, and a Run() that calls lib/repl once or twice, prints, and maps
//      the Status to an exit code (no byte parsing, no OpenSSL/libarchive here)
//   2. declare Setup<Name> here and call it in main.cc
//   3. add the file to cli/CMakeLists.txt
//   4. a black-box test in tests/cli/ pinning exit codes and stderr
//   5. man/aerodb-repl-<name>.1.md with NAME..SEE ALSO, its EXIT STATUS rows
//      and the --json schema under OUTPUT
#pragma once

#include "cli/common/cli_util.h"

namespace aero::cli {

void SetupVerify(CLI::App& app, Runner& runner);
void SetupShipWal(CLI::App& app, Runner& runner);
void SetupApplyWal(CLI::App& app, Runner& runner);
void SetupStatus(CLI::App& app, Runner& runner);
void SetupUnhalt(CLI::App& app, Runner& runner);
void SetupPromote(CLI::App& app, Runner& runner);
void SetupCheckHistory(CLI::App& app, Runner& runner);
void SetupRejoin(CLI::App& app, Runner& runner);
void SetupInit(CLI::App& app, Runner& runner);
void SetupSnapshot(CLI::App& app, Runner& runner);
void SetupPrune(CLI::App& app, Runner& runner);
// OBJ-30: --s3-endpoint, --s3-region, --s3-path-style for every subcommand.
void AddS3Options(CLI::App& app);

}  // namespace aero::cli
