// The aerodb (reference node) subcommands: one file each.
//
// Adding a subcommand — the checklist:
//   1. cli/aerodb/<name>.cc with an Options struct, Setup<Name>() binding
//      options, and a Run() that calls the library and maps the Status to an exit code
//   2. declare Setup<Name> here and call it in main.cc
//   3. add the file to cli/CMakeLists.txt
//   4. a black-box test in tests/cli/
//   5. man/aerodb-<name>.1.md with NAME..SEE ALSO and its EXIT STATUS rows
#pragma once

#include <string>

#include "cli/common/cli_util.h"
#include "common/status.h"

namespace aero::cli {

void SetupInit(CLI::App& app, Runner& runner);
void SetupPut(CLI::App& app, Runner& runner);
void SetupDelete(CLI::App& app, Runner& runner);
void SetupGet(CLI::App& app, Runner& runner);
void SetupScan(CLI::App& app, Runner& runner);
void SetupCheckpoint(CLI::App& app, Runner& runner);
void SetupLoad(CLI::App& app, Runner& runner);

// "COLLECTION/ID" -> (collection, id); kUsage otherwise.
Status ParseDocName(const std::string& name, std::string* collection, std::string* id);
// A stored body as JSON (a string if it is not valid JSON).
nlohmann::json BodyJson(const std::string& body);

}  // namespace aero::cli
