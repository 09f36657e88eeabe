// `aerodb-repl init -D DIR`: enrols a data directory that AeroDB wrote as
// the primary of epoch 1 of a new system id
// (specs/REPLICATION_COMPATIBILITY.md COMPAT-1..COMPAT-5, COMPAT-9).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "history/digest.h"
#include "repl/verify.h"

namespace aero::repl {

struct EnrolOptions {
  std::string data_dir;
  bool re_enrol = false;  // COMPAT-9: a new history over an enrolled directory
};

struct EnrolReport {
  std::string data_dir;
  std::string system_id;
  uint64_t base_commit = 0;
  std::optional<std::string> base_snapshot;  // AeroDB's snapshot id under the WAL
  uint64_t applied_commit = 0;
  history::Digest applied_digest{};
  uint64_t tail_bytes = 0;  // AeroDB's transaction in progress, not enrolled
  std::vector<Finding> notices;  // verify's notices (a torn or uncommitted tail)
  std::optional<std::string> previous_system_id;  // --re-enrol: the history it replaced
};

// kNotFound (9) not an AeroDB data directory; kRefused (5) already enrolled
// or Phase-1; kDamage (1) verify's first damage finding; kGap (3) write sets
// under the WAL in no file; kIo (10). Nothing is written unless it returns ok.
Status Enrol(Fs& fs, const EnrolOptions& options, EnrolReport* report);

}  // namespace aero::repl
