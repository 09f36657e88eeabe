// `aerodb-repl prune`: removes the segments and snapshot archives of an
// archive directory that no longer serve a recovery
// (specs/REPLICATION_RETENTION.md RET-1..RET-12): those below the oldest
// kept snapshot's boundary and below every registered replica's position.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/segment_catalog.h"
#include "common/fs.h"
#include "common/status.h"

namespace aero::repl {

struct PruneOptions {
  std::string archive;
  uint64_t keep_snapshots = 1;  // N >= 1 (RET-2)
  bool dry_run = false;         // RET-12: the plan, nothing removed, no lock
  // OBJ-14: on an object store, multipart uploads at least this many hours
  // old by the store's clock are aborted (0: all of them).
  uint64_t stale_upload_hours = 24;
};

// OBJ-14: one multipart upload under the archive's prefix.
struct PruneUpload {
  std::string key, upload_id;
  std::string initiated;  // as the store states it
  int64_t age_seconds = -1;  // by the store's clock; -1 when a time did not parse
  std::string action;     // "abort" | "keep"
  bool aborted = false;   // done by this run
};

struct PruneSnapshot {
  std::string name;
  std::string action;  // "keep" | "remove" | "ignore" (RET-1: not a recovery point)
  std::string reason;  // for "ignore"
  bool manifest_read = false;
  uint32_t epoch = 0;
  uint64_t boundary_commit = 0;
};

struct PruneRegistration {
  std::string name;
  std::string host, data_dir;
  uint32_t epoch = 0;
  uint64_t applied_commit = 0;
  std::optional<uint64_t> pin;  // RET-5; none when ignored
  std::string ignored;          // why it pins nothing (RET-4: another system)
  uint64_t modified_unix = 0;   // the file's mtime, for the operator only
};

struct PruneReport {
  std::optional<std::string> system_id;  // RET-9
  uint64_t recovery_points = 0;
  std::optional<uint64_t> oldest_kept_boundary;  // B
  std::optional<uint64_t> cut;                   // P
  std::string nothing_because;  // set when the plan is empty on purpose (RET-2)
  std::vector<PruneSnapshot> snapshots;          // by name
  std::vector<PruneRegistration> registrations;  // by name
  // Segments at or below the cut that stay, and why (RET-6).
  std::vector<archive::CatalogSkip> kept_segments;
  // The plan in removal order (RET-10): snapshot archives, then segments.
  std::vector<std::string> plan;
  uint64_t plan_snapshots = 0;  // the first plan_snapshots entries of `plan`
  // Removed and made durable by this run (empty for --dry-run).
  std::vector<std::string> removed;
  // RET-13: the sidecars NAME.sig of planned files (removed after NAME),
  // and the orphan sidecars below the cut; the `removed_` lists are this
  // run's removals (empty for --dry-run).
  std::vector<std::string> sidecars, orphan_sidecars;
  std::vector<std::string> removed_sidecars, removed_orphans;
  // OBJ-14: the object store's uploads and the Date of its listing.
  std::vector<PruneUpload> uploads;
  std::string store_date;
};

// ok (done, or nothing to do), kUsage (N = 0), kNotFound (no archive),
// kDamage (a damaged registration, history file or marker), kInTransit,
// kDiverged, kRefused (RET-9), kLocked (another prune), kIo (RET-11: the
// removals before it stay). `report` is filled in every case.
Status Prune(Fs& fs, const PruneOptions& options, PruneReport* report);

}  // namespace aero::repl
