// The shipped position of one target (specs/REPLICATION_LOG_FLOW.md LOG-2,
// LOG-24; formats/archive-directory.md ARC-4): replication/shipped/<key>.json,
// read by one parser for ship-wal and status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "history/digest.h"

namespace aero::node {

struct ShippedPosition {
  std::string target;  // the target's real path, as ship-wal resolved it
  uint32_t epoch = 0;
  uint64_t commit = 0;  // the last CommitId shipped
  history::Digest digest{};  // H(commit)
  uint64_t base = 0;
  uint64_t wal_offset = 0;  // just past `commit`'s write set in wal/wal.log
  // LOG-24: where the last shipped write set starts in wal/wal.log, and the
  // SHA-256 of its bytes [last_set_offset, wal_offset); absent in positions
  // written before LOG-24.
  std::optional<uint64_t> last_set_offset;
  std::optional<history::Digest> last_set_sha;
};

// The key of a directory outside the node in replication/ file names: the
// first 16 hex digits of the SHA-256 of its realpath (LOG-2, LOG-28).
std::string DirectoryKey(const std::string& realpath);

// replication/shipped/<DirectoryKey(target)>.json (LOG-2).
std::string ShippedPositionPath(const std::string& data_dir, const std::string& target_real);
// The same key with `.lock`: held by the ship-wal run to that target (LOG-25).
std::string ShippedLockPath(const std::string& data_dir, const std::string& target_real);

// 1 (damage, the node not halted): the file is wrong, not the log.
Status InvalidShippedPosition(const std::string& path, const std::string& what);

// Typed reads only (ARC-4): nullopt when the file is absent; kDamage naming
// the file and the field when anything is missing, of the wrong type or out
// of range, or the file is over 64 KiB. Never throws.
Result<std::optional<ShippedPosition>> LoadShippedPosition(Fs& fs, const std::string& path);
Result<ShippedPosition> ParseShippedPosition(const std::string& text, const std::string& path);

// Every shipped position of a node, in name order (status, verify,
// COMPAT-7: one listing): those that read, and one problem for each file
// that does not (ARC-4), or for replication/shipped/ itself when it cannot
// be listed (FM-137: never an empty list). Nothing when the directory is
// absent. Names that are hidden or do not end in .json are not positions.
struct ShippedPositions {
  std::vector<ShippedPosition> positions;
  std::vector<Status> problems;
};
ShippedPositions LoadShippedPositions(Fs& fs, const std::string& data_dir);

// Written atomically (temp, fsync, rename, fsync of the directory).
Status SaveShippedPosition(Fs& fs, const std::string& data_dir, const std::string& path,
                           const ShippedPosition& p);

}  // namespace aero::node
