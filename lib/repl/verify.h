// `aerodb-repl verify`: checks a WAL file or a data directory and reports
// every finding (it does not stop at the first problem it can get past).
// Later issues extend it to segments, segment directories and archives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "history/digest.h"
#include "wal/record_reader.h"

namespace aero::repl {

enum class Severity {
  kNotice,  // worth knowing, not damage: a torn tail, an uncommitted tail
  kDamage,  // exit 1
  kIo,      // could not read: exit 10
  kHalted,  // the node is halted (NODE-9): exit 6 when nothing is damaged
};

struct Finding {
  Severity severity = Severity::kDamage;
  std::string kind;  // torn-tail, corrupt, unsupported-type, sequence, commit-order, ...
  std::string subject;  // the file
  std::optional<uint64_t> offset;
  std::optional<uint64_t> index;  // record index in the file
  std::string message;  // house form: problem 'subject': detail
  std::string hint;
};

struct WalSummary {
  std::string path;
  uint64_t bytes = 0;
  uint64_t records = 0, data_records = 0, commit_records = 0;
  std::optional<uint64_t> first_sequence, last_sequence;
  std::optional<uint64_t> first_commit, last_commit;
  uint64_t write_sets = 0;
  uint64_t base_commit = 0;
  std::optional<history::Digest> digest;  // H(last commit), when the chain is known
  bool digest_from_zero_system_id = false;  // HIST-4
  uint64_t tail_records = 0, tail_bytes = 0;
  std::string stop;  // StopKindName
  std::string stop_detail;
};

struct StorageSummary {
  std::string path;
  uint64_t records = 0;
};

struct VerifyReport {
  std::string path;
  std::string kind;  // "wal-file" | "data-dir"
  std::optional<std::string> system_id;
  std::optional<WalSummary> wal;
  std::vector<StorageSummary> storage;
  std::vector<Finding> findings;

  // The outcome code: kDamage if any damage, else kHalted if the node is
  // halted, else kIo if anything was unreadable, else kOk.
  Code outcome() const;
};

struct VerifyOptions {
  std::optional<std::string> system_id_hex;  // seeds the digest of a bare WAL file
};

// kNotFound if `path` does not exist or is a node mid-install (no state.json);
// kUsage if it is neither a WAL file nor a data directory. Damage is reported as findings, not as the returned status.
Result<VerifyReport> Verify(Fs& fs, const std::string& path, const VerifyOptions& options);

}  // namespace aero::repl
