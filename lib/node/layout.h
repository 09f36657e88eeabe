// The data directory's layout (formats/node-layout.md, NODE-1..NODE-11).
// AeroDB's Phase-1/MVCC layout plus the replication/ folder this toolkit owns.
#pragma once

#include <string_view>

namespace aero::node {

constexpr std::string_view kWalDir = "wal";
constexpr std::string_view kWalFile = "wal/wal.log";
constexpr std::string_view kDataDir = "data";
constexpr std::string_view kDocumentsFile = "data/documents.dat";
constexpr std::string_view kMetadataDir = "metadata";
constexpr std::string_view kSchemasDir = "metadata/schemas";
constexpr std::string_view kSnapshotsDir = "snapshots";
constexpr std::string_view kCheckpointFile = "checkpoint.json";

constexpr std::string_view kReplicationDir = "replication";
// The directories every node has, parents first: made by init and by
// install, and never a member of an archive (SNAP-3).
constexpr std::string_view kLayoutDirs[] = {kWalDir,     kDataDir,      kMetadataDir,
                                            kSchemasDir, kSnapshotsDir, kReplicationDir};

constexpr std::string_view kIdentityFile = "replication/identity.json";  // NODE-2
constexpr std::string_view kStateFile = "replication/state.json";        // NODE-3
constexpr std::string_view kEnrolmentFile = "replication/enrolment.json";  // NODE-12
constexpr std::string_view kHaltFile = "replication/halt.json";          // NODE-9
constexpr std::string_view kLockFile = "replication/lock";               // NODE-6
constexpr std::string_view kShippedDir = "replication/shipped";         // LOG-2
constexpr std::string_view kInboxMemoDir = "replication/inbox";         // LOG-28
constexpr std::string_view kHaltHistoryFile = "replication/halt-history.jsonl";  // LOG-19
constexpr std::string_view kDigestIndexFile = "replication/digests";      // NODE-11
constexpr std::string_view kHistoryDir = "replication/history";          // RECOV-2
constexpr std::string_view kLastSuccessDir = "replication/last-success";  // OPS-9

// Inside snapshots/<id>/ (AeroDB's names).
constexpr std::string_view kSnapshotManifest = "manifest.json";
// formats/node-layout.md: AeroDB's snapshot manifest lists every schema
// file, so it is read up to this size (the node's own small files: 1 MiB).
constexpr size_t kMaxSnapshotManifestBytes = size_t{16} << 20;
constexpr std::string_view kSnapshotStorage = "storage.dat";
constexpr std::string_view kSnapshotSchemas = "schemas";

constexpr int kStateFormat = 1;
constexpr int kSnapshotIdDigits = 20;  // NODE-8: boundary commit, zero-padded decimal
constexpr int kAeroManifestFormatMvcc = 2;

}  // namespace aero::node
