// The epoch history file and the claim-archive marker
// (formats/history-file.md). Constants mirror the format; Encode writes the
// canonical bytes, Decode reads them back with every check of the format,
// and reports what it found as a Status: in transit (8), invalid (1),
// foreign (5). No exception crosses these functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "history/digest.h"
#include "history/system_id.h"

namespace aero::history {

constexpr int kHistoryFormat = 1;
constexpr std::string_view kHistorySuffix = ".history";   // EEEEEEEE.history
constexpr size_t kHistoryEpochDigits = 8;
constexpr size_t kMaxHistoryFileBytes = 1 << 20;          // a lineage of ~25,000 epochs
constexpr std::string_view kClaimArchiveMarker = "claim-archive.json";
constexpr int kClaimArchiveFormat = 1;
constexpr size_t kMaxMarkerBytes = 4096;

using Claimant = std::array<uint8_t, 16>;

struct LineageEntry {
  uint32_t epoch = 0;
  uint64_t branch_commit = 0;
  bool operator==(const LineageEntry&) const = default;
};

struct HistoryFile {
  SystemId system_id;
  uint32_t epoch = 0;          // >= 2
  uint64_t branch_commit = 0;  // b_E
  Digest branch_digest{};      // H(b_E)
  Claimant claimant{};
  std::vector<LineageEntry> lineage;  // epochs 1..E
  uint32_t parent_epoch() const { return epoch - 1; }
};

// "0000000e.history" for 14.
std::string HistoryFileName(uint32_t epoch);
// The epoch a name stands for, when it matches ^[0-9a-f]{8}\.history$.
std::optional<uint32_t> ParseHistoryFileName(std::string_view name);

// The canonical bytes (with checksum and the final newline).
std::string EncodeHistoryFile(const HistoryFile& h);

// `subject` names the file in messages. `name_epoch` is the epoch its name
// says; `system` is the reader's system id. kInTransit: the bytes end
// before the JSON does; kDamage: any check of the format fails; kRefused:
// another system's file (foreign).
Result<HistoryFile> DecodeHistoryFile(std::string_view bytes, uint32_t name_epoch,
                                      const SystemId& system, const std::string& subject);

// `child` continues `parent`'s lineage: parent's lineage is a prefix of the
// child's. Damage (1) naming `subject` otherwise.
Status CheckLineagePrefix(const HistoryFile& parent, const HistoryFile& child,
                          const std::string& subject);

// The claim-archive marker: canonical bytes for `system`, and its reader
// (kInTransit, kDamage, or kRefused for another system's marker).
std::string EncodeClaimArchiveMarker(const SystemId& system);
Status DecodeClaimArchiveMarker(std::string_view bytes, const SystemId& system,
                                const std::string& subject);

std::string ClaimantToHex(const Claimant& c);

}  // namespace aero::history
