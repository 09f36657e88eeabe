// `aerodb-repl verify`: checks a WAL file or a data directory and reports
// every finding (it does not stop at the first problem it can get past).
// Later issues extend it to segments, segment directories and archives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/progress.h"
#include "common/status.h"
#include "history/digest.h"
#include "wal/record_reader.h"

namespace aero::repl {

enum class Severity {
  kNotice,  // worth knowing, not damage: a torn tail, an uncommitted tail
  kDamage,  // exit 1
  kIo,      // could not read: exit 10
  kHalted,  // the node is halted (NODE-9): exit 6 when nothing is damaged
  kInTransit,  // a segment not complete yet (SEG-3): exit 8
  kGap,        // CommitIds missing between segments: exit 3
  kDiverged,   // two segments disagree on history: exit 4
  kForeign,    // a segment of another database: exit 5
  kInvalid,    // a file an operator puts in a node (a trusted key) is not valid: exit 2, as
               // every command that reads it says
};

// The exit code a finding of this severity asks for.
Code SeverityCode(Severity s);

struct Finding {
  Severity severity = Severity::kDamage;
  std::string kind;  // torn-tail, corrupt, unsupported-type, sequence, commit-order, ...
  std::string subject;  // the file
  std::optional<uint64_t> offset;
  std::optional<uint64_t> index;  // record index in the file
  std::string message;  // house form: problem 'subject': detail
  std::string hint;
  // A directory of segments: the CommitId where apply-wal meets it (ARC-3).
  std::optional<uint64_t> at_commit;
};

inline Finding MakeFinding(Severity severity, std::string kind, const std::string& subject,
                           std::string message, std::string hint = {}) {
  Finding f;
  f.severity = severity;
  f.kind = std::move(kind);
  f.subject = subject;
  f.message = std::move(message);
  f.hint = std::move(hint);
  return f;
}

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

struct SegmentSummary {
  std::string path;
  std::string state;  // valid | in-transit | corrupt | io-error
  uint64_t bytes = 0;
  // From the header, when it could be read (state valid, or in transit with a full header).
  bool header_known = false;
  std::string system_id;
  uint32_t epoch = 0;
  uint64_t first_commit = 0, last_commit = 0;
  uint64_t record_count = 0;
  uint64_t first_sequence = 0, last_sequence = 0;  // LOG-32 (not in --json)
  uint64_t body_size = 0, stored_size = 0;
  bool compressed = false;
  history::Digest digest_before{}, digest_after{};  // LOG-33: 32 bytes each, hex when printed
};

struct StorageSummary {
  std::string path;
  uint64_t records = 0;
};

struct VerifyReport {
  std::string path;
  std::string kind;  // "wal-file" | "data-dir" | "segment" | "segment-dir" | "archive"
  std::optional<std::string> system_id;
  std::optional<WalSummary> wal;
  std::vector<StorageSummary> storage;
  std::vector<SegmentSummary> segments;
  std::optional<uint64_t> first_commit, last_commit;  // segment-dir: the range covered;
                                                      // archive: base and boundary
  std::optional<uint64_t> archive_members;
  std::optional<std::string> archive_digest;  // H(boundary)
  std::vector<Finding> findings;

  // The outcome code, the most serious finding first: damage (1), diverged
  // (4), foreign (5), gap (3), in transit (8), halted (6), I/O (10), else ok;
  // for a directory of segments, the first problem in CommitId order (what
  // apply-wal stops at, ARC-3), the more serious first for one CommitId.
  Code outcome() const;
};

struct VerifyOptions {
  std::optional<std::string> system_id_hex;  // seeds the digest of a bare WAL file
  // OPS-7 (optional): bytes read of a file, or of a directory's segments
  // (a data directory reports none).
  ProgressFn progress = {};
  // SIG-13: a directory of trusted public keys; a directory of segments is
  // then judged for signatures as apply-wal would.
  std::string trusted_keys = {};
};

// kNotFound if `path` does not exist or is a node mid-install (no state.json);
// kUsage if it is neither a WAL file nor a data directory. Damage is reported as findings, not as the returned status.
Result<VerifyReport> Verify(Fs& fs, const std::string& path, const VerifyOptions& options);

// COMPAT-2: the AeroDB files of data directory `dir` (wal/wal.log from no
// known base, data/documents.dat, every snapshots/<id>/) judged exactly as
// `verify DIR` judges a directory without replication/: init's judge.
VerifyReport VerifyAeroDbFiles(Fs& fs, const std::string& dir);

}  // namespace aero::repl
