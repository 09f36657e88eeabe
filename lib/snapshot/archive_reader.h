// Reading a snapshot archive in one streaming pass (SNAP-6..SNAP-9, SNAP-12):
// the manifest first, then every member against its manifest entry (path,
// type, size, SHA-256) and by content (WAL records and digest chain, storage
// record CRCs, AeroDB's CRC-32 checksums). Hostile members are refused from
// their header, before any byte of them reaches a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/verdict.h"
#include "snapshot/manifest.h"

namespace aero::snapshot {

// The one verdict type (common/verdict.h): SNAP-7 in transit, damage.
using ArchiveState = Verdict;
inline const char* ArchiveStateName(ArchiveState s) { return VerdictName(s); }

struct ArchiveCheck {
  ArchiveState state = ArchiveState::kCorrupt;
  std::string detail;
  Status io;
  std::optional<Manifest> manifest;
  uint64_t members_read = 0;  // after member 0
  uint64_t compressed_bytes = 0;
  uint64_t data_bytes = 0;
  // For each member after the manifest, in order: its CRC-32, and where its
  // data starts in the file when it was read there (kStreamed otherwise);
  // every read path must agree on them (the fuzz target checks it).
  static constexpr uint64_t kStreamed = ~uint64_t{0};
  std::vector<uint32_t> member_crcs;
  std::vector<uint64_t> member_offsets;
  // kCorrupt: every problem found, in member order; `detail` is the first.
  // One, unless ReadOptions::all_findings.
  std::vector<std::string> findings;
};

// Install's hook: `open` is called on the reading thread, in member order,
// only for members whose header passed every check, and returns the file
// that member's bytes go to. ReadArchive appends the bytes (possibly on a
// worker thread, one thread per file), then Sync()s and Close()s the file
// once the member's own checks passed (SHA-256, content; the checks against
// AeroDB's manifest.json come after). Data arrives before the whole archive
// is known valid: the files are not final until ReadArchive returns kValid,
// and install removes them otherwise (SNAP-10).
struct MemberSink {
  std::function<Result<std::unique_ptr<WritableFile>>(const Member&)> open;
};

// Reads `file` as a snapshot archive (SNAP-6..SNAP-9, SNAP-12). In a plain
// (uncompressed) archive whose file SupportsReadAt(), a member of
// `options.read_at_min_bytes` or more (tests lower it to reach small members) is read at its offset by a worker thread, two members at a time,
// while this thread walks the headers past it (SNAP-6); otherwise members
// are read in order from libarchive's stream.
inline constexpr uint64_t kReadAtMinBytes = 1 << 20;
struct ReadOptions {
  uint64_t read_at_min_bytes = kReadAtMinBytes;
  // verify's mode (SNAP-6): a member whose bytes fail a check (SHA-256,
  // content) is listed and the pass goes on to the next member, so every
  // damaged member is found; a problem in a header, the manifest or the
  // input's end still ends the pass. Install stops at the first problem.
  bool all_findings = false;
};
ArchiveCheck ReadArchive(ReadableFile& file, const MemberSink& sink = {},
                         const ReadOptions& options = {});

// SNAP-6's content checks of the members that have them, reading `member`
// (the member's bytes, `size` of them) up to where the check ends: the WAL
// member's records, commit order, digest chain, boundary and next_sequence;
// a storage member's record CRCs. kDamage with a detail that names the
// member; Ok for any other path. ReadArchive runs them, and so does export
// before it writes an archive (SNAP-14).
Status CheckWalMember(ReadableFile* member, uint64_t size, const Manifest& m);
Status CheckStorageMember(ReadableFile* member);
// SNAP-16: a replication/history/ member is a valid history file of the
// manifest's system whose lineage is the manifest's through its epoch.
Status CheckHistoryMember(ReadableFile* member, const Member& want, const Manifest& m);
bool IsStorageMember(const std::string& path, const Manifest& m);

// SNAP-6: the checks against AeroDB's own manifest.json of the archive's
// base snapshot (`snapshots/<base>/`): its commit_boundary is the base
// commit, every schema its schema_checksums names is a member, and
// storage.dat's and each schema's CRC-32 are the ones it records.
// ReadArchive runs them as the members stream past; export runs them in its
// pass 1 (SNAP-14), so it never writes an archive that install refuses.
class AeroDbManifestCheck {
 public:
  explicit AeroDbManifestCheck(const Manifest& m);
  // Whether `path` is AeroDB's manifest.json of the base snapshot.
  bool IsManifest(const std::string& path) const;
  // Its text, when that member is read, and every member path of the
  // archive: kDamage naming it when it does not say what the archive holds.
  Status Read(const std::string& text, const std::vector<std::string>& member_paths);
  // A member's CRC-32, once manifest.json was read: kDamage naming the
  // member when it differs from AeroDB's record.
  Status CheckCrc(const std::string& path, uint32_t crc) const;

 private:
  const Manifest& m_;
  std::string snap_dir_;  // "snapshots/<base>/", empty without a base
  std::string manifest_path_;
  std::string storage_checksum_;                  // "crc32:xxxxxxxx"
  std::vector<std::pair<std::string, std::string>> schemas_;  // name, "crc32:..."
  bool read_ = false;
};

}  // namespace aero::snapshot
