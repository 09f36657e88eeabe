// `aerodb-repl unhalt`: the explicit operator action that clears a halt
// (LOG-19). It repairs nothing: it re-validates the directory, records the
// halt and the operator's reason in replication/halt-history.jsonl, and
// removes replication/halt.json.
#pragma once

#include <optional>
#include <string>

#include "common/fs.h"
#include "node/state.h"

namespace aero::repl {

struct UnhaltReport {
  std::optional<node::HaltReason> cleared;  // nullopt: the node was not halted
};

Status Unhalt(Fs& fs, const std::string& data_dir, const std::string& reason,
              UnhaltReport* report);

}  // namespace aero::repl
