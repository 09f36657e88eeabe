// `aerodb-repl apply-wal`: take segments from an inbox in CommitId order,
// prove each one (complete, checksums, system id, epoch, digest continuity),
// append its records verbatim, fsync, advance. The classification of one
// segment is the table in specs/REPLICATION_LOG_FLOW.md (rows 1-10, LOG-5..LOG-16).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/segment_catalog.h"
#include "common/fs.h"
#include "common/progress.h"
#include "common/status.h"
#include "segment/segment.h"

namespace aero::repl {

struct ApplyOptions {
  std::string data_dir;
  std::string inbox;
  std::optional<uint64_t> until;  // apply no write set above this CommitId
  // LOG-13: applied segments are acknowledged (WAL fsync, then state.json)
  // together, once this many bytes are pending, and at the end of the run.
  uint64_t ack_every_bytes = 64u << 20;
  // ... or once this many segments are (LOG-13, LOG-33: what waits for an
  // acknowledgment stays bounded however small the segments are).
  uint64_t ack_every_segments = 4096;
  // OPS-7 (optional): bytes of the inbox's segment files taken so far.
  ProgressFn progress = {};
  // FOLLOW-4: set (by --follow's signal handler) = take no further segment,
  // acknowledge what was applied, return ok.
  const std::atomic<bool>* stop = nullptr;
  // SIG-4, SIG-5: a directory of trusted public keys, added to the node's
  // own (replication/trusted-keys/); any key there requires signatures.
  std::string trusted_keys = {};
  // ENC-31: refuse (5, not halted) a segment that is not an encryption
  // envelope (apply-wal --require-encryption).
  bool require_encryption = false;
};

struct AppliedSegment {
  uint32_t epoch = 0;  // LOG-33: with the range, the segment's name (no copy held)
  uint64_t first_commit = 0, last_commit = 0;  // the segment's range
  uint64_t applied_from = 0, applied_to = 0;   // the write sets appended (0, 0: none)
  // "applied" | "duplicate" | "not-checked" | "superseded" (its write sets
  // belong to a later epoch, LOG-20: skipped) | "in-transit" (still being
  // copied, and all at or below applied: passed over, LOG-6) | "unacknowledged" (verified
  // and appended, but the run failed before acknowledging it). One of these
  // literals (LOG-33: no string per segment).
  std::string_view outcome;
  std::string name() const { return segment::SegmentName(epoch, first_commit, last_commit); }
};

struct ApplyReport {
  bool bootstrapped = false;  // LOG-16: the replica was created by this run
  uint64_t from_commit = 0;   // applied before the run
  uint64_t applied_commit = 0;  // applied after it
  std::vector<AppliedSegment> segments;
  // ARC-3: inbox entries that are not segments, each with its reason.
  std::vector<archive::CatalogSkip> skipped;
  bool halted = false;  // this run halted the replica
  // LOG-28: segments an earlier run judged, passed over without being opened.
  uint64_t previously_checked = 0;
};

// The Status is the run's outcome: ok (caught up, or stopped at --until),
// kGap (3), kInTransit (8), kDamage (1, halted), kDiverged (4, halted),
// kRefused (5: a primary, or a foreign segment -> halted), kHalted (6),
// kLocked (7), kNotFound (9), kIo (10). `report` is filled in every case.
Status ApplyWal(Fs& fs, const ApplyOptions& options, ApplyReport* report);

}  // namespace aero::repl
