// `aerodb-repl check-history A B`: the relation of two histories of one
// database, from their history digests (specs/REPLICATION_RECOVERY.md
// RECOV-8, RECOV-9): identical, behind, ahead, diverged, unrelated or
// unprovable, each with its own exit code. Read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace aero::repl {

struct HistorySide {
  enum class Kind { kNode, kArchive, kSnapshot };
  Kind kind = Kind::kNode;
  std::string path;
};

enum class Relation { kIdentical, kBehind, kAhead, kDiverged, kUnrelated, kUnprovable };
const char* RelationName(Relation r);
// RECOV-8: 0, 3, 11, 4, 5, 9.
Code RelationCode(Relation r);

struct SideSummary {
  std::string system_id;
  uint64_t last_commit = 0;  // the newest commit this side knows
  uint32_t epoch = 1;        // the newest epoch it knows
};

struct CheckHistoryReport {
  Relation relation = Relation::kUnprovable;
  SideSummary a, b;
  uint64_t commits = 0;  // behind / ahead: by how many commits
  // diverged: the last commit both share, the first at which they are
  // known to differ (the histories part in last_common+1..first_differing),
  // and the epoch that owns each side's write sets there (0: not known).
  std::optional<uint64_t> last_common, first_differing;
  uint32_t a_epoch = 0, b_epoch = 0;
  // unprovable: the commit whose digest would decide, and what is missing.
  std::string missing;
  uint64_t probes = 0;  // digest lookups made (RECOV-9: grows with log n)
  // SIG-14: with a trust set, each history file of an --archive side judged.
  bool signatures_checked = false;
  struct SignatureCheck {
    std::string path, outcome, key_id;
  };
  std::vector<SignatureCheck> signatures;
};

Result<CheckHistoryReport> CheckHistory(Fs& fs, const HistorySide& a, const HistorySide& b);
// RECOV-8: what the relation of `a` to `b` allows next, in the sides' own
// names (their paths); empty for identical.
std::string RelationHint(const CheckHistoryReport& r, const HistorySide& a, const HistorySide& b);
// SIG-14: with `trusted_keys` (a directory; empty: none) and the trust
// directories of the -D sides, every history file of an --archive side must
// be signed before it is used; a file that is not is the command's error,
// with apply-wal's code (8, 1, 5).
Result<CheckHistoryReport> CheckHistory(Fs& fs, const HistorySide& a, const HistorySide& b,
                                        const std::string& trusted_keys);

}  // namespace aero::repl
