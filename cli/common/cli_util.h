// Shared CLI plumbing: the run-after-parse pattern (CLI11 subcom_in_files),
// CLI11 errors mapped to exit 2, and the one way to print an outcome
// (text on stdout, problems on stderr in the house form, or --json).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "archive/segment_catalog.h"
#include "common/status.h"

namespace aero::cli {

// Set by the chosen subcommand's callback; main runs it after parsing.
struct Runner {
  std::function<int()> run;
};

// Common options.
void AddDataDir(CLI::App* sub, std::string* dir);
void AddJson(CLI::App* sub, bool* json);
// A path option that may not be empty (2, as for an empty -D): an empty
// --to or --from was taken for a path and was 9 "not found ''".
CLI::Validator NonEmptyPath();
// The check of every unsigned option: a whole number, written without a
// sign, from `min` to `max`; else 2 naming the range (CLI11 alone would wrap
// "-1" to 2^64 - 1, or clamp a value past it).
CLI::Validator Unsigned(uint64_t min = 0, uint64_t max = UINT64_MAX);

// `PROGRAM VERSION`, then a line `formats: NAME N, ...`: the version of each
// file format the toolkit reads and writes, from the formats' constants
// headers (--version; tests/cli/version.sh checks it against them).
std::string VersionText(const std::string& program);

// Parses argv and runs the chosen command. Never leaks CLI11's own exit
// codes: --help is 0, every parse error is 2 (usage).
int RunMain(CLI::App& app, Runner& runner, int argc, char** argv);

// Prints a failed Status (stderr: message, "hint: ..."; with --json also a
// JSON object on stdout) and returns its exit code.
// `one_line`: the JSON object on one line, flushed (a --follow run's).
int Fail(const Status& status, bool json, bool one_line = false);
// A problem that did not stop the command (its work is done): `warning:
// MESSAGE` and `hint: HINT` on stderr; nothing when `w` is ok.
void PrintWarning(const Status& w);

// FOLLOW: the exit code of a follower that ended with `end`; `last_run` is
// the status its last run printed (not printed again).
int FinishFollow(const Status& end, const Status& last_run, bool json);

// FOLLOW: AERODB_REPL_FOLLOW_POLL=1 makes a follower poll instead of using inotify.
bool ForcePollFromEnv();

// OPS-9: records that `command` ended in 0 now (display only): a record
// that cannot be written is a warn log line, never a failure.
void RecordLastSuccess(const std::string& data_dir, const std::string& command, uint64_t commit,
                       const std::string& dir);

// Prints `j` to stdout as one JSON document.
void PrintJson(const nlohmann::json& j);
// Prints `j` to stdout as one line and flushes it (--follow: one a run).
void PrintJsonLine(const nlohmann::json& j);

// ARC-3: the entries of `dir` that no reader takes, one line each on
// stderr (`ignored 'DIR/NAME': REASON`), and as a JSON array of
// {"name", "reason", "temp"}.
void PrintSkipped(const std::string& dir, const std::vector<archive::CatalogSkip>& skipped);
nlohmann::json SkippedJson(const std::vector<archive::CatalogSkip>& skipped);

// {"ok": true} merged with `fields`; the JSON shape every success uses.
nlohmann::json OkJson(nlohmann::json fields = nlohmann::json::object());

}  // namespace aero::cli
