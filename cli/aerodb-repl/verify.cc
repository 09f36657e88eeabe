// aerodb-repl verify PATH: check a WAL file or a data directory; every finding.
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "cli/common/progress.h"
#include "common/fs.h"
#include "history/digest.h"
#include "repl/verify.h"

namespace aero::cli {
namespace {
namespace verify_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string path;
  std::string system_id;
  std::string trusted_keys;
  bool json = false;
  EncryptionOptions enc;  // ENC-9: --encryption-keys DIR
};

const char* SeverityName(repl::Severity s) {
  switch (s) {
    case repl::Severity::kNotice: return "notice";
    case repl::Severity::kDamage: return "damage";
    case repl::Severity::kIo: return "io";
    case repl::Severity::kHalted: return "halted";
    case repl::Severity::kInTransit: return "in-transit";
    case repl::Severity::kGap: return "gap";
    case repl::Severity::kDiverged: return "diverged";
    case repl::Severity::kForeign: return "foreign";
    case repl::Severity::kInvalid: return "invalid";
  }
  return "damage";
}

template <typename T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json ToJson(const repl::VerifyReport& r) {
  nlohmann::json j = {{"ok", r.outcome() == Code::kOk},
                      {"code", std::string(CodeName(r.outcome()))},
                      {"exit", ExitCodeOf(r.outcome())},
                      {"path", r.path},
                      {"kind", r.kind},
                      {"system_id", Opt(r.system_id)}};
  if (r.wal) {
    const repl::WalSummary& w = *r.wal;
    j["wal"] = {{"path", w.path},
                {"bytes", w.bytes},
                {"records", w.records},
                {"data_records", w.data_records},
                {"commit_records", w.commit_records},
                {"first_sequence", Opt(w.first_sequence)},
                {"last_sequence", Opt(w.last_sequence)},
                {"first_commit", Opt(w.first_commit)},
                {"last_commit", Opt(w.last_commit)},
                {"write_sets", w.write_sets},
                {"history_digest",
                 w.digest ? nlohmann::json(history::DigestToHex(*w.digest)) : nlohmann::json(nullptr)},
                {"digest_from_zero_system_id", w.digest_from_zero_system_id},
                {"uncommitted_records", w.tail_records},
                {"uncommitted_bytes", w.tail_bytes},
                {"stop", w.stop},
                {"stop_detail", w.stop_detail}};
  }
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : r.segments) {
    nlohmann::json seg = {{"path", s.path}, {"state", s.state}, {"bytes", s.bytes}};
    if (s.header_known) {
      seg["system_id"] = s.system_id;
      seg["epoch"] = s.epoch;
      seg["first_commit"] = s.first_commit;
      seg["last_commit"] = s.last_commit;
      seg["record_count"] = s.record_count;
      seg["body_size"] = s.body_size;
      seg["stored_size"] = s.stored_size;
      seg["compressed"] = s.compressed;
      seg["digest_before"] = history::DigestToHex(s.digest_before);
      seg["digest_after"] = history::DigestToHex(s.digest_after);
    }
    segments.push_back(seg);
  }
  j["segments"] = segments;
  j["first_commit"] = Opt(r.first_commit);
  j["archive_members"] = Opt(r.archive_members);
  j["archive_digest"] = Opt(r.archive_digest);
  j["last_commit"] = Opt(r.last_commit);
  nlohmann::json storage = nlohmann::json::array();
  for (const auto& s : r.storage) storage.push_back({{"path", s.path}, {"records", s.records}});
  j["storage"] = storage;
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"severity", SeverityName(f.severity)},
                        {"kind", f.kind},
                        {"subject", f.subject},
                        {"offset", Opt(f.offset)},
                        {"record_index", Opt(f.index)},
                        {"message", f.message},
                        {"hint", f.hint}});
  }
  j["findings"] = findings;
  return j;
}

std::string Range(const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
  if (!a) return "none";
  return std::to_string(*a) + ".." + std::to_string(*b);
}

void PrintText(const repl::VerifyReport& r) {
  PrintResult("verify '%s': %s\n", r.path.c_str(), r.kind.c_str());
  if (r.system_id) PrintResult("  system id       %s\n", r.system_id->c_str());
  if (r.wal) {
    const repl::WalSummary& w = *r.wal;
    PrintResult("  wal             %s (%llu bytes)\n", w.path.c_str(),
                static_cast<unsigned long long>(w.bytes));
    PrintResult("  records         %llu (%llu data, %llu commit)\n",
                static_cast<unsigned long long>(w.records),
                static_cast<unsigned long long>(w.data_records),
                static_cast<unsigned long long>(w.commit_records));
    PrintResult("  sequences       %s\n", Range(w.first_sequence, w.last_sequence).c_str());
    PrintResult("  commits         %s (%llu write sets)\n",
                Range(w.first_commit, w.last_commit).c_str(),
                static_cast<unsigned long long>(w.write_sets));
    if (w.digest) {
      PrintResult("  history digest  %s%s\n", history::DigestToHex(*w.digest).c_str(),
                  w.digest_from_zero_system_id ? " (seeded from the all-zero system id)" : "");
    } else {
      PrintResult("  history digest  unknown (the log does not start at commit 1)\n");
    }
    PrintResult("  uncommitted     %llu records, %llu bytes\n",
                static_cast<unsigned long long>(w.tail_records),
                static_cast<unsigned long long>(w.tail_bytes));
    PrintResult("  end             %s\n", w.stop.c_str());
  }
  for (const auto& s : r.segments) {
    if (s.header_known) {
      PrintResult("  segment         %s: %s, epoch %u, commits %llu..%llu, %llu records, %llu "
                  "bytes%s\n",
                  s.path.c_str(), s.state.c_str(), s.epoch,
                  static_cast<unsigned long long>(s.first_commit),
                  static_cast<unsigned long long>(s.last_commit),
                  static_cast<unsigned long long>(s.record_count),
                  static_cast<unsigned long long>(s.bytes), s.compressed ? ", zstd" : "");
    } else {
      PrintResult("  segment         %s: %s, %llu bytes\n", s.path.c_str(), s.state.c_str(),
                  static_cast<unsigned long long>(s.bytes));
    }
  }
  if (r.kind == "archive" && r.archive_members) {
    PrintResult("  archive         %llu members, base commit %llu, boundary commit %llu\n",
                static_cast<unsigned long long>(*r.archive_members),
                static_cast<unsigned long long>(*r.first_commit),
                static_cast<unsigned long long>(*r.last_commit));
    PrintResult("  history digest  %s\n", r.archive_digest->c_str());
  }
  if (r.kind == "segment-dir") {
    if (r.first_commit) {
      PrintResult("  commits         %llu..%llu in %zu segments\n",
                  static_cast<unsigned long long>(*r.first_commit),
                  static_cast<unsigned long long>(*r.last_commit), r.segments.size());
    }
  }
  for (const auto& s : r.storage) {
    PrintResult("  storage         %s (%llu records)\n", s.path.c_str(),
                static_cast<unsigned long long>(s.records));
  }
  if (r.findings.empty()) PrintResult("findings: none\n");
  for (const auto& f : r.findings) {
    // Damage goes to stderr too, so a pipeline that drops stdout still sees it.
    FILE* out = f.severity == repl::Severity::kNotice ? stdout : stderr;
    std::fprintf(out, "%s: %s\n", SeverityName(f.severity), f.message.c_str());
    if (!f.hint.empty()) std::fprintf(out, "hint: %s\n", f.hint.c_str());
  }
}

int Run(Options o) {
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-9: without keys, an envelope's framing only
  repl::VerifyOptions vo;
  if (!o.system_id.empty()) vo.system_id_hex = o.system_id;
  vo.trusted_keys = o.trusted_keys;  // SIG-13
  ProgressLine progress("verify");  // OPS-6
  vo.progress = progress.Callback();
  auto report = repl::Verify(*fs, o.path, vo);
  progress.Finish();
  if (!report.ok()) return Fail(report.status(), o.json);
  if (report->outcome() == Code::kOk) {  // OPS-3: a verdict other than ok is its findings
    LogInfo("verified '" + o.path + "' (" + report->kind + "): ok" +
                (report->findings.empty()
                     ? std::string()
                     : ", " + std::to_string(report->findings.size()) + " notices"),
            {{"path", o.path},
             {"kind", report->kind},
             {"findings", report->findings.size()},
             {"segments", report->segments.size()}});
  }
  if (o.json) {
    PrintJson(ToJson(*report));
  } else {
    PrintText(*report);
  }
  return ExitCodeOf(report->outcome());
}

}  // namespace verify_cmd
}  // namespace

void SetupVerify(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<verify_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "verify",
      "check a WAL file, a segment, a directory of segments, a snapshot archive or a data "
      "directory; every finding");
  sub->add_option("path", o->path,
                  "a WAL file, a segment, a directory of segments, an archive or a data directory")
      ->required();
  sub->add_option("--system-id", o->system_id,
                  "seed the history digest of a bare WAL file with this system id (32 hex)");
  sub->add_option("--trusted-keys", o->trusted_keys,
                  "judge the signatures of a directory's segments and history files as apply-wal "
                  "would with these public keys (*.pem)")
      ->type_name("DIR")->check(NonEmptyPath());
  AddEncryptionKeys(sub, &o->enc);
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return verify_cmd::Run(*o); }; });
}

}  // namespace aero::cli
