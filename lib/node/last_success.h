// OPS-9: replication/last-success/<command>.json, when ship-wal or apply-wal
// last ended in 0. For display only (status --metrics): nothing decides on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/fs.h"
#include "common/status.h"

namespace aero::node {

struct LastSuccess {
  std::string command;  // "ship-wal" | "apply-wal"
  uint64_t unix_seconds = 0;
  uint64_t commit = 0;  // shipped or applied after the run
  std::string dir;      // the target or inbox as given
};

std::string LastSuccessPath(const std::string& data_dir, const std::string& command);

// Written atomically (NODE-1); creates replication/last-success/.
Status SaveLastSuccess(Fs& fs, const std::string& data_dir, const LastSuccess& s);

// nullopt when the file is missing, unreadable or does not parse (OPS-9: a
// metric left out, never an error).
std::optional<LastSuccess> LoadLastSuccess(Fs& fs, const std::string& data_dir,
                                           const std::string& command);

}  // namespace aero::node
