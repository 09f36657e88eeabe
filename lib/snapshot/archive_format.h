// Constants of the snapshot archive. Mirrors formats/snapshot-archive.md
// (SNAP-2, SNAP-3, SNAP-8, SNAP-9); change neither without the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aero::snapshot {

// A zstd frame starts with these 4 bytes (RFC 8878 3.1.1); any other file is a plain tar.
constexpr std::string_view kZstdFrameMagic{"\x28\xb5\x2f\xfd", 4};
constexpr std::string_view kManifestMember = "aerodb-repl-manifest.json";  // member 0
constexpr int kManifestFormat = 2;        // written (SNAP-15)
constexpr int kManifestFormatV1 = 1;      // still read: every member hashed
constexpr std::string_view kWalMember = "wal/wal.log";  // SNAP-15: bound by the chain
constexpr int kArchiveZstdLevel = 3;
// SNAP-2: the zstd frame is compressed by one worker in jobs of this many
// input bytes (zstd's ZSTD_c_jobSize; its least is 512 KiB), which bounds the
// worker's buffers (export's peak RSS measured 19-20 MiB at levels 1 and 3,
// 31 MiB at 9, as single-threaded; libarchive's own worker took 58 MiB at 3).
constexpr size_t kArchiveZstdJobBytes = 1u << 20;
constexpr uint32_t kFileMode = 0644;

// SNAP-9 bounds.
constexpr uint64_t kMaxManifestBytes = 16u << 20;
constexpr uint64_t kMaxMembers = 100000;
constexpr uint64_t kMaxTotalBytes = uint64_t{64} << 30;  // uncompressed input
constexpr uint64_t kBombRatio = 1000;                    // uncompressed : compressed
constexpr uint64_t kBombGraceBytes = 1u << 20;           // ratio checked past this
constexpr size_t kMaxPathBytes = 4096;

// SNAP-8: the only top-level names a member may have.
constexpr std::string_view kAllowedTop[] = {"data", "metadata", "snapshots", "wal"};
// SNAP-16: and exactly these under replication/: a history file name.
constexpr std::string_view kHistoryMemberDir = "replication/history/";

}  // namespace aero::snapshot
