// Reading a snapshot archive in one streaming pass (SNAP-6..SNAP-9, SNAP-12):
// the manifest first, then every member against its manifest entry (path,
// type, size, SHA-256) and by content (WAL records and digest chain, storage
// record CRCs, AeroDB's CRC-32 checksums). Hostile members are refused from
// their header, before any byte of them reaches a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "snapshot/manifest.h"

namespace aero::snapshot {

enum class ArchiveState { kValid, kInTransit, kCorrupt, kIoError };
const char* ArchiveStateName(ArchiveState s);

struct ArchiveCheck {
  ArchiveState state = ArchiveState::kCorrupt;
  std::string detail;
  Status io;
  std::optional<Manifest> manifest;
  uint64_t members_read = 0;  // after member 0
  uint64_t compressed_bytes = 0;
  uint64_t data_bytes = 0;
  std::vector<uint32_t> member_crcs;  // CRC-32 of each member after the manifest, in order
};

// Install's hooks: called only for members whose header passed every check.
// Data arrives before that member's SHA-256 is known: a sink must not treat
// it as final until the whole archive is kValid.
struct MemberSink {
  std::function<Status(const Member&)> begin;
  std::function<Status(std::string_view)> data;
  std::function<Status()> end;
};

// With `verified` (the result of an earlier full pass over the same file,
// kValid): a second pass for extraction (SNAP-10). Every header check runs
// again, and each member's bytes must have the CRC-32 they had in `verified`
// (else kCorrupt "member 'PATH' changed since the archive was verified");
// the SHA-256 and content checks, already passed on these bytes, are not
// repeated.
ArchiveCheck ReadArchive(ReadableFile& file, const MemberSink& sink = {},
                         const ArchiveCheck* verified = nullptr);

// SNAP-6's content checks of the members that have them, reading `member`
// (the member's bytes, `size` of them) up to where the check ends: the WAL
// member's records, commit order, digest chain, boundary and next_sequence;
// a storage member's record CRCs. kDamage with a detail that names the
// member; Ok for any other path. ReadArchive runs them, and so does export
// before it writes an archive (SNAP-14).
Status CheckWalMember(ReadableFile* member, uint64_t size, const Manifest& m);
Status CheckStorageMember(ReadableFile* member);
bool IsStorageMember(const std::string& path, const Manifest& m);

}  // namespace aero::snapshot
