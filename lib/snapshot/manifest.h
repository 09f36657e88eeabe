// The archive manifest, member 0 (formats/snapshot-archive.md, SNAP-3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "snapshot/archive_format.h"
#include "history/digest.h"
#include "history/history_file.h"
#include "history/system_id.h"

namespace aero::snapshot {

struct Member {
  std::string path;
  uint64_t size = 0;
  // nullopt only for wal/wal.log in format 2 (SNAP-15): its bytes are bound
  // by the history chain of the content check, not by a member hash.
  std::optional<Sha256Digest> sha256;
};

struct Manifest {
  // 1 or 2 as read; export writes 2 (SNAP-15); tests write 1 to show it is
  // still read.
  int format = kManifestFormat;
  history::SystemId system_id;
  uint32_t epoch = 1;
  uint64_t base_commit = 0;
  history::Digest base_digest{};
  std::optional<std::string> base_snapshot;  // 20-digit id, or none
  uint64_t boundary_commit = 0;
  history::Digest boundary_digest{};
  uint64_t boundary_wal_offset = 0;  // the size of wal/wal.log
  uint64_t next_sequence = 1;
  // SNAP-16: epochs 1..epoch with their branch commits; empty for epoch 1.
  std::vector<history::LineageEntry> lineage;
  std::vector<Member> members;  // after member 0, in archive order

  uint64_t TotalBytes() const;
};

// Member 0's bytes: the canonical JSON (keys sorted, no whitespace) with
// manifest_sha256, then "\n".
std::string EncodeManifest(const Manifest& m);

// Parses member 0; kDamage unless it is exactly the canonical encoding with a
// correct self-checksum and valid fields (paths checked by IsSafeMemberPath).
Result<Manifest> DecodeManifest(std::string_view bytes);

// SNAP-8: relative, '/'-separated, no '.', '..' or empty component, no NUL,
// a first component from kAllowedTop, within the length bounds.
bool IsSafeMemberPath(std::string_view path, std::string* why);

}  // namespace aero::snapshot
