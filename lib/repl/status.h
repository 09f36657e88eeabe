// `aerodb-repl status`: a node's role, position and health, and its lag in
// commits behind the newest complete segment of an inbox (LOG-18). Never a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/segment_catalog.h"
#include "common/fs.h"
#include "node/permit.h"
#include "node/state.h"

namespace aero::repl {

struct ShippedTarget {
  std::string target;
  uint64_t commit = 0;
  uint64_t lag = 0;  // applied - shipped, in commits
};

struct InboxLag {
  std::optional<uint64_t> newest_commit;  // last commit of the newest complete segment
  std::string newest_segment;
  uint64_t lag = 0;                 // commits, 0 when nothing is beyond applied
  uint64_t incomplete_segments = 0;  // in transit or damaged, not counted
  // OPS-10: segment names in the inbox that end above applied (no file read).
  uint64_t pending_segments = 0;
  // ENC-14: segments status read that are encrypted with a key it was not given.
  uint64_t encrypted_no_key = 0;
  std::string encrypted_no_key_detail;  // the first one's message and hint
};

struct NodeStatus {
  node::Identity identity;
  node::NodeState state;
  node::Authority authority;  // role, epoch, halt, fenced, promoting
  // Permit's answer for the node's health (MODEL-9): ok, or the refusal
  // (halted 6, fenced or promoting 5) that status reports as it is.
  Status health;
  std::optional<InboxLag> inbox;
  std::vector<ShippedTarget> shipped;
  // SIG-15: required-signature mode (SIG-5), from the node's trust directory.
  bool signatures_required = false;
  std::vector<std::string> trusted_key_ids;
  // ARC-3: inbox entries that are not segments, each with its reason.
  std::vector<archive::CatalogSkip> skipped;
  // Damage in what status read (a shipped position that does not parse, ARC-4).
  std::vector<Status> problems;
  // LOG-18: inbox files not complete yet (a history file being copied):
  // said, not damage; the lag is the one the inbox gives without them.
  std::vector<Status> in_transit;

  // 1 damaged, 6 halted, 5 fenced, else 0 (the exit code of `status`).
  Code outcome() const;
};

Result<NodeStatus> GetStatus(Fs& fs, const std::string& data_dir,
                             const std::optional<std::string>& inbox);

}  // namespace aero::repl
