#include "cli/common/cli_util.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <system_error>

#include "common/file_util.h"
#include "crypto/encrypted_format.h"
#include "history/digest.h"
#include "history/history_file.h"
#include "node/layout.h"
#include "segment/segment_format.h"
#include "sign/signature_format.h"
#include "snapshot/archive_format.h"

#include "cli/common/clock.h"
#include "cli/common/log.h"
#include "cli/common/progress.h"
#include "node/last_success.h"

namespace aero::cli {

namespace {

// The N of a seed label "...-VN" (history digest: HIST-1).
constexpr int LabelVersion(std::string_view label) {
  const size_t v = label.rfind("-V");
  int n = 0;
  for (size_t i = v + 2; v != std::string_view::npos && i < label.size(); ++i) {
    n = n * 10 + (label[i] - '0');
  }
  return n;
}
static_assert(LabelVersion(history::kDigestSeedLabel) >= 1);

// One word for an option's value: its choices `{a,b}` when a check lists
// them, else its type (`DIR`, `TEXT`, `UINT`) without the check's text.
std::string Metavar(const CLI::Option& opt) {
  const std::string full = opt.get_type_name();
  const size_t brace = full.find(":{");
  const size_t close = full.find('}', brace);
  if (brace != std::string::npos && close != std::string::npos) {
    const std::string set = full.substr(brace + 1, close - brace);
    if (set.find(' ') == std::string::npos) return set;
  }
  return full.substr(0, full.find(':'));
}

// The usage line of --help is the command's synopsis: every option in
// definition order (a short name when it has one; `[...]` unless required;
// its value's type when it takes one; `...` when each use counts), then the
// positionals in upper case, then SUBCOMMAND. --help itself is left out. Each man page's SYNOPSIS
// equals it up to the names of values (man/README.md;
// tests/cli/man_synopsis.sh checks every command).
class SynopsisFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string out = get_label("Usage") + ": " + name;
    std::string positionals;
    for (const CLI::Option* opt : app->get_options()) {
      if (opt == app->get_help_ptr() || opt == app->get_help_all_ptr()) continue;
      std::string word;
      if (opt->nonpositional()) {
        word = opt->get_snames().empty() ? "--" + opt->get_lnames().front()
                                         : "-" + opt->get_snames().front();
        const std::string value = Metavar(*opt);  // empty for a flag
        if (opt->get_type_size_max() > 0 && !value.empty()) word += " " + value;
      } else {
        word = opt->get_name(true);
        for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (opt->get_expected_max() > 1) word += "...";
      }
      if (!opt->get_required()) word = "[" + word + "]";
      if (opt->nonpositional() && opt->get_trigger_on_parse()) word += "...";  // each use counts
      (opt->nonpositional() ? out : positionals) += " " + word;
    }
    out += positionals;
    if (!app->get_subcommands({}).empty()) {
      out += app->get_require_subcommand_min() == 0 ? " [SUBCOMMAND]" : " SUBCOMMAND";
    }
    return out + "\n";
  }
};

void SetFormatter(CLI::App* app, const std::shared_ptr<CLI::FormatterBase>& f) {
  app->formatter(f);
  for (CLI::App* sub : app->get_subcommands({})) SetFormatter(sub, f);
}

}  // namespace

std::string VersionText(const std::string& program) {
  return program + " " + AERODB_VERSION + "\nformats: wal-segment " +
         std::to_string(segment::kSegmentVersion) + ", snapshot-archive " +
         std::to_string(snapshot::kManifestFormat) + ", history-digest " +
         std::to_string(LabelVersion(history::kDigestSeedLabel)) + ", history-file " +
         std::to_string(history::kHistoryFormat) + ", claim-archive " +
         std::to_string(history::kClaimArchiveFormat) + ", node-layout " +
         std::to_string(node::kStateFormat) + ", encrypted-file " + std::to_string(crypto::kEncVersion) +
         ", signature " + std::to_string(sign::kSignatureFormat);
}

void AddDataDir(CLI::App* sub, std::string* dir) {
  sub->add_option("-D,--data-dir", *dir, "the node's data directory")
      ->required()
      ->type_name("DIR")
      ->transform(CLI::Validator(
          [](std::string& v) {
            // `.`, `DIR/.`, `DIR/`: the directory's own name; a symlink, what it names (MODEL-10)
            Result<std::string> dir = ResolveDirectoryArgument(v);
            // MODEL-10: 2, and what to do (CLI11's own hint is only --help).
            if (!dir.ok()) return dir.status().message() + " (" + dir.status().hint() + ")";
            v = *dir;
            return std::string();
          },
          "", "directory"));
}

CLI::Validator NonEmptyPath() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        return v.empty() ? "invalid value '': an empty path (give a directory or file)" : std::string();
      },
      "", "path");
}

CLI::Validator Unsigned(uint64_t min, uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        uint64_t n = 0;
        const char* end = v.data() + v.size();
        const auto [at, ec] = std::from_chars(v.data(), end, n);
        if (v.empty() || ec != std::errc() || at != end || n < min || n > max) {
          return "'" + v + "' is not a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max);
        }
        return std::string();
      },
      "", "unsigned");
}

void AddJson(CLI::App* sub, bool* json) {
  sub->add_flag("--json", *json, "print one JSON document on stdout (see OUTPUT in the man page)");
}

namespace {

// OPS-1..OPS-6: the global options, accepted before or after the subcommand.
struct GlobalOptions {
  LogOptions log;
  bool progress = false, no_progress = false;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions* g) {
  app.add_option("--log-level", g->log.level,
                 "log to stderr at this level and above: trace, debug, info (default), warn, "
                 "error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", g->log.format, "text (default) or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}));
  CLI::Option* on = app.add_flag("--progress", g->progress,
                                 "draw a progress line on stderr even when it is not a terminal");
  CLI::Option* off = app.add_flag("--no-progress", g->no_progress,
                                  "never draw a progress line");
  on->excludes(off);
  // Global options may follow the subcommand too.
  std::vector<CLI::App*> todo = app.get_subcommands({});
  while (!todo.empty()) {
    CLI::App* sub = todo.back();
    todo.pop_back();
    sub->fallthrough();
    for (CLI::App* s : sub->get_subcommands({})) todo.push_back(s);
  }
}

// The chosen subcommand's path, e.g. "snapshot export".
std::string CommandPath(CLI::App& app) {
  std::string path;
  CLI::App* at = &app;
  while (true) {
    const std::vector<CLI::App*> subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    path += (path.empty() ? "" : " ") + at->get_name();
  }
  return path.empty() ? app.get_name() : path;
}

}  // namespace

namespace {

// An unknown command names itself, and a command that needs a subcommand
// lists them: CLI11 would only say that a subcommand is required. -1 when
// the command line names a runnable command, else the exit code.
int CheckCommandPath(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = app.get_name();
  auto names_of = [](CLI::App* a) {
    std::string names;
    for (CLI::App* sub : a->get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
    return names;
  };
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') break;
    const std::vector<CLI::App*> subs = at->get_subcommands({});
    if (subs.empty()) break;
    CLI::App* next = nullptr;
    const std::string names = names_of(at);
    for (CLI::App* sub : subs) {
      if (sub->get_name() == arg) next = sub;
    }
    if (next == nullptr) {
      std::cerr << "usage error '" << path << "': unknown command '" << arg << "'\n"
                << "hint: the commands are " << names << "; run '" << path << " --help'\n";
      return ExitCodeOf(Code::kUsage);
    }
    at = next;
    path += " " + arg;
  }
  // `aerodb-repl` or `aerodb-repl snapshot` alone: the command named,
  // its subcommands listed (CLI11 says only "A subcommand is required").
  if (i == argc && at->get_require_subcommand_min() > 0 && !at->get_subcommands({}).empty()) {
    std::cerr << "usage error '" << path << "': a subcommand is required\n"
              << "hint: the commands are " << names_of(at) << "; run '" << path << " --help'\n";
    return ExitCodeOf(Code::kUsage);
  }
  return -1;
}

// OPS-2: a result that went nowhere (stdout on a full disk, a pipe closed
// with SIGPIPE ignored) is never a success.
int CheckStdout(int rc) {
  errno = 0;
  std::cout.flush();
  if ((std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.good()) && rc == 0) {
    const int err = errno;
    std::cerr << "cannot write 'stdout': " << (err != 0 ? std::strerror(err) : "a write failed") << "\n"
              << "hint: the command's work is done but its result was lost; give a writable stdout "
                 "(a full disk or a closed pipe behind it?) and re-run to see it\n";
    return ExitCodeOf(Code::kIo);
  }
  return rc;
}

}  // namespace

namespace {

// OPS-13: descriptors 0, 1 and 2 are open (on /dev/null if they were
// closed) before anything is opened, so that no data file gets one of
// their numbers and receives what is printed to stdout or stderr.
void OpenStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) std::_Exit(ExitCodeOf(Code::kIo));  // nothing is opened yet: nothing lost
    if (null != fd) {  // the lowest free number: fd itself, unless a lower one was free too
      ::dup2(null, fd);
      ::close(null);
    } else {
      ::fcntl(fd, F_SETFD, 0);  // stdio of a child stays open across exec
    }
  }
}

// OPS-14: a resource of the process that ran out (memory, a thread), in
// fixed text (the terminate handler may not allocate: strerror's text is
// glibc's own table); nullopt for any other exception (a bug). One judge
// for both reporters below.
struct ResourceText {
  const char* problem;
  const char* detail;
  const char* hint;
};
std::optional<ResourceText> ResourceOf(std::exception_ptr e) {
  static constexpr ResourceText kMemory{
      "out of memory", "an allocation failed",
      "free memory, or raise the process's address-space limit (ulimit -v), then re-run: "
      "nothing acknowledged was lost"};
  static constexpr const char* kThreadHint =
      "raise the limit on processes and threads (ulimit -u) or on memory (ulimit -v), then re-run: "
      "nothing acknowledged was lost";
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return kMemory;
  } catch (const std::system_error& se) {
    const bool out = se.code() == std::errc::resource_unavailable_try_again ||
                     se.code() == std::errc::not_enough_memory;
    if (!out) return std::nullopt;
    return ResourceText{"cannot start a thread", std::strerror(se.code().value()), kThreadHint};
  } catch (...) {
    return std::nullopt;
  }
}

// Writes the pieces to stderr with write(2): no allocation (the handler
// may run because memory ran out).
void WriteStderr(std::initializer_list<const char*> pieces) {
  for (const char* p : pieces) {
    size_t n = std::strlen(p);
    while (n > 0) {
      const ssize_t w = ::write(2, p, n);
      if (w <= 0) return;
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
}

// OPS-14: an exception that leaves a worker thread ends the process here;
// one of a resource is reported as 10, as on the main thread. Nothing here
// allocates: it runs when memory has run out (a Status built here threw
// again, and the process aborted without a word).
[[noreturn]] void OnTerminate() {
  const char* name = program_invocation_short_name;
  if (const std::optional<ResourceText> r = ResourceOf(std::current_exception())) {
    WriteStderr({r->problem, " '", name, "': ", r->detail, "\n", "hint: ", r->hint, "\n"});
    std::_Exit(ExitCodeOf(Code::kIo));
  }
  WriteStderr({"internal error '", name, "': terminate called\n",
               "hint: this is a bug; please report it with the command line\n"});
  std::_Exit(ExitCodeOf(Code::kInternal));  // OPS-14: any other exception is 70
}

}  // namespace

int RunMain(CLI::App& app, Runner& runner, int argc, char** argv) {
  OpenStandardDescriptors();
  std::set_terminate(OnTerminate);
  GlobalOptions globals;
  AddGlobalOptions(app, &globals);
  // The streaming passes allocate and free 1 MiB buffers (read chunks, the
  // hash and write queues) many times per run. glibc would serve each from a
  // fresh mmap or trim it back to the kernel, and every reuse would fault
  // and zero its pages again (~10% of apply-wal's time). Keep them in the
  // heap instead: peak memory is unchanged, it is just not given back early.
  // REC-12: a block above 4 MiB (only a large record's, REC-2: up to 64 MiB) is still
  // mapped on its own and unmapped when freed: kept in the heap, each such
  // record would leave its block behind beside the next one's.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  app.require_subcommand(1);
  SetFormatter(&app, std::make_shared<SynopsisFormatter>());
  if (const int rc = CheckCommandPath(app, argc, argv); rc >= 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return CheckStdout(0);  // OPS-2: help that went nowhere is no success either
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return CheckStdout(0);
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << "\n";
    return CheckStdout(0);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty() && what.back() == '.') what.pop_back();
    for (auto& c : what) {
      if (c == '\n') c = ' ';
    }
    // The detail of `problem 'subject': detail` starts lower case (CLI11
    // capitalises its sentences: "A subcommand is required").
    if (what.size() > 1 && std::isupper(static_cast<unsigned char>(what[0])) &&
        !std::isupper(static_cast<unsigned char>(what[1]))) {
      what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
    }
    std::cerr << "usage error '" << app.get_name() << "': " << what << "\n"
              << "hint: run '" << app.get_name() << " --help'\n";
    return ExitCodeOf(Code::kUsage);
  }
  if (!runner.run) return ExitCodeOf(Code::kUsage);
  ConfigureLogging(globals.log, CommandPath(app));
  SetProgressMode(globals.progress      ? ProgressMode::kOn
                  : globals.no_progress ? ProgressMode::kOff
                                        : ProgressMode::kAuto);
  try {
    const int rc = CheckStdout(runner.run());
    LogDebug("exit " + std::to_string(rc), {{"exit", rc}});
    return rc;
  } catch (const std::exception& e) {
    // OPS-14: memory or a thread that ran out is the environment's.
    if (const std::optional<ResourceText> r = ResourceOf(std::current_exception())) {
      const Status resource(Code::kIo, Problem(r->problem, program_invocation_short_name, r->detail), r->hint);
      // With --json the failure object goes to stdout too (OPS-2), as for
      // any failure the command reports itself.
      const bool json = std::any_of(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; });
      return Fail(resource, json);
    }
    // The library does not throw otherwise; anything here is a bug.
    std::cerr << "internal error '" << app.get_name() << "': " << e.what() << "\n"
              << "hint: this is a bug; please report it with the command line\n";
    return ExitCodeOf(Code::kInternal);
  }
}

// OPS-9: display only; a record not written is a warning, the exit stays 0.
void RecordLastSuccess(const std::string& data_dir, const std::string& command, uint64_t commit,
                   const std::string& dir) {
  Status s = node::SaveLastSuccess(PosixFs(), data_dir, {command, UnixSeconds(), commit, dir});
  if (!s.ok()) {
    LogWarn("last success not recorded: " + s.message(),
            {{"path", node::LastSuccessPath(data_dir, command)}});
  }
}

void PrintWarning(const Status& w) {
  if (!w.ok()) std::cerr << "warning: " << w.ToString() << "\n";
}

int Fail(const Status& status, bool json, bool one_line) {
  std::cerr << status.ToString() << "\n";  // OPS-2: never replaced by a log line
  LogFailure(status);
  if (json) {
    nlohmann::json j = {{"ok", false},
                        {"code", std::string(CodeName(status.code()))},
                        {"exit", ExitCodeOf(status.code())},
                        {"message", status.message()},
                        {"hint", status.hint()}};
    if (!status.reason().empty()) j["reason"] = status.reason();  // MODEL-9
    (one_line ? PrintJsonLine : PrintJson)(j);
  }
  return ExitCodeOf(status.code());
}

int FinishFollow(const Status& end, const Status& last_run, bool json) {
  if (end.ok()) return 0;
  if (end.message() == last_run.message()) return ExitCodeOf(end.code());  // printed by its run
  return Fail(end, json, true);
}

bool ForcePollFromEnv() {
  const char* poll = std::getenv("AERODB_REPL_FOLLOW_POLL");
  return poll != nullptr && std::string(poll) == "1";
}

void PrintJson(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void PrintJsonLine(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

nlohmann::json OkJson(nlohmann::json fields) {
  nlohmann::json j = {{"ok", true}};
  for (auto& [k, v] : fields.items()) j[k] = v;
  return j;
}

void PrintSkipped(const std::string& dir, const std::vector<archive::CatalogSkip>& skipped) {
  for (const archive::CatalogSkip& k : skipped) {
    // OPS-4: the name as a transport made it, escaped (Problem), one line each.
    std::fprintf(stderr, "%s\n", Problem("ignored", JoinPath(dir, k.name), k.reason).c_str());
  }
}

nlohmann::json SkippedJson(const std::vector<archive::CatalogSkip>& skipped) {
  nlohmann::json out = nlohmann::json::array();
  for (const archive::CatalogSkip& k : skipped) {
    out.push_back({{"name", k.name}, {"reason", k.reason}, {"temp", k.temp}});
  }
  return out;
}

}  // namespace aero::cli
