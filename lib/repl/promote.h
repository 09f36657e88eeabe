// `aerodb-repl promote`: a replica claims the next authority epoch and
// becomes its primary (specs/REPLICATION_MODEL.md MODEL-6, MODEL-8):
// intent, exclusive claim in the claim archive, commit. A re-run after a
// crash at any step finishes the same claim or reports its loss.
#pragma once

#include <optional>
#include <string>

#include "common/fs.h"
#include "history/digest.h"

namespace aero::repl {

struct PromoteOptions {
  std::string data_dir;
  std::optional<std::string> archive;  // the claim archive; none: a local claim (FM-55)
  bool discard_after_applied = false;  // promote although the archive holds later commits
  // SIG-9, SIG-10: sign the claim (EEEEEEEE.history.sig in the claim
  // archive) with this Ed25519 private key (PEM); empty = unsigned.
  std::string signing_key = {};
  // SIG-5, SIG-10: trusted public keys, added to the node's own
  // (replication/trusted-keys/); any key there requires the claim
  // archive's history files to be signed before they are read.
  std::string trusted_keys = {};
};

struct PromoteReport {
  uint32_t epoch = 0;           // the epoch claimed (the node's new epoch)
  uint64_t branch_commit = 0;   // b_E: the last commit inherited
  history::Digest branch_digest{};
  std::string claimant;         // 32 hex: this claim's, named to a loser (MODEL-6)
  std::string history_file;     // where the claim was published (or the node's copy, local)
  bool local = false;           // no claim archive: nothing prevents another claim
  bool resumed = false;         // finished a promote a crash had interrupted
  uint64_t abandoned_commits = 0;  // with --discard-after-applied: commits of the archive above b_E
};

Status Promote(Fs& fs, const PromoteOptions& options, PromoteReport* report);

}  // namespace aero::repl
