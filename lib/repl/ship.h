// `aerodb-repl ship-wal`: cut the committed WAL since the last shipped
// CommitId into segment files and publish them atomically into a target
// directory (specs/REPLICATION_LOG_FLOW.md, LOG-1..LOG-4, LOG-17, LOG-21..LOG-26).
// Takes no node lock (LOG-25): writers run beside it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/progress.h"
#include "common/sha256.h"
#include "common/status.h"
#include "crypto/encrypted_file.h"
#include "segment/segment.h"

namespace aero::repl {

struct ShipOptions {
  std::string data_dir;
  std::string target;
  uint64_t max_segment_bytes = 16u << 20;  // body size at which a segment closes
  bool zstd = false;
  bool restart_at_base = false;  // LOG-23
  // LOG-3: published bytes after which the shipped position is saved (and
  // always at the end of the run).
  uint64_t position_every_bytes = 64u << 20;
  // LOG-30: a plain segment's body is streamed from the scan; of one write
  // set at most this much is held before it is known where it goes (a
  // larger one that may still join the open segment is copied instead).
  // 0: every body is copied from the log (tests compare the two).
  uint64_t stream_hold_bytes = 1u << 20;
  // HFILE-5: mark the target as the claim archive (claim-archive.json) when
  // it has no marker yet.
  bool claim_archive = false;
  // OPS-7 (optional): WAL bytes scanned of those to ship in this run.
  ProgressFn progress = {};
  // FOLLOW-4: set (by --follow's signal handler) = stop at the next segment
  // boundary, publish what was cut, save the position, return ok.
  const std::atomic<bool>* stop = nullptr;
  // SIG-9: an Ed25519 private key (PEM); empty = publish unsigned.
  std::string signing_key = {};
  // ENC-12 (optional): write every segment in an encryption envelope
  // (formats/encrypted-file.md) with this key (ship-wal --encryption-key).
  const crypto::EncryptionKey* encryption = nullptr;
  // ENC-30 (optional): more keys to read the segments already in the
  // target with (ship-wal --encryption-keys DIR): a rotated-out key's.
  const crypto::KeyStore* read_keys = nullptr;
};

struct ShippedSegment {
  uint32_t epoch = 0;  // LOG-33: with the range, the segment's name (no copy held)
  uint64_t first_commit = 0, last_commit = 0;
  uint64_t bytes = 0;      // file size
  Sha256Digest sha256{};       // the segment's seal, its trailer hash (SEG-7)
  bool already_there = false;  // LOG-4: a valid segment of the same history was found
  bool encrypted = false;      // ENC-12: the file is an encryption envelope
  bool streamed = false;       // LOG-30: its body is the scan's bytes, not a copy from the log
  std::string name() const { return segment::SegmentName(epoch, first_commit, last_commit); }
};

struct ShipReport {
  std::string target;  // realpath
  uint64_t from_commit = 0;  // the shipped position before this run
  uint64_t shipped_commit = 0;  // the position after it
  std::vector<ShippedSegment> segments;
  // LOG-26: false when the position of published segments could not be
  // saved; `position_warning` then says why, with a hint.
  bool position_saved = true;
  Status position_warning;
  std::vector<std::string> history_files;  // LOG-21: history files published this run
  bool marked_claim_archive = false;       // HFILE-5: this run wrote the marker
  bool claim_archive = false;              // the target holds this system's marker
  uint64_t left_temps_removed = 0;         // LOG-31: earlier runs' temp files removed
  Status directory_lock_warning;
  Status left_temps_warning;  // FM-138: a leftover temp file this run may not remove           // LOG-31: not ok when the directory could not be locked
};

// On failure the Status carries the exit code (4, 5, 6, 3, 1, 9, 10);
// `report` (nullable) still lists what was published before it.
Status ShipWal(Fs& fs, const ShipOptions& options, ShipReport* report);

}  // namespace aero::repl
