// A node: a data directory in AeroDB's layout plus replication/
// (formats/node-layout.md), and the replication state machine over it:
// open-time validation, state.json, appends of verified write sets, halts,
// fencing, epochs, the digest index. Every durable step goes through Fs.
// The reference node's storage engine (documents, put/delete, reads,
// checkpoints) stands on it in lib/engine (engine::ReferenceNode); aerodb-repl
// links this class alone.
//
// Lifetime: a Node opened for writing holds the directory lock (NODE-6) until
// it is destroyed. Call Close() to persist the applied position; a Node
// destroyed without Close() loses nothing acknowledged (NODE-4 rolls forward).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "node/digest_index.h"
#include "node/permit.h"
#include "node/history_copies.h"
#include "node/state.h"
#include "wal/wal_scan.h"

namespace aero::node {

enum class Access { kRead, kWrite };

// What open-time validation did (NODE-4, NODE-5); reported by verify and tests.
struct OpenReport {
  uint64_t rolled_forward = 0;    // write sets found beyond state.json's position
  uint64_t truncated_bytes = 0;   // uncommitted or torn tail removed (write access)
  uint64_t ignored_tail_bytes = 0;  // same, left in place (read access)
  bool finished_checkpoint = false;  // an interrupted checkpoint was completed
  // COMPAT-7: AeroDB's checkpoint at this commit became the base.
  std::optional<uint64_t> followed_aero_checkpoint;
};

class Node {
 public:
  // Creates a primary (epoch 1, commit 0, new system id) in `dir`, which must
  // be absent or an empty directory. Atomic: built beside `dir`, renamed in.
  static Status Init(Fs& fs, const std::string& dir);

  // Builds the files of a new node (commit 0) in `path`, which must not exist;
  // fsyncs everything but does not rename it anywhere (MODEL-10 callers do).
  static Status Build(Fs& fs, const std::string& path, const history::SystemId& id,
                      Role role, uint32_t epoch);

  // NODE-4 open-time validation. kNotFound if `dir` is not a node, kDamage if
  // it cannot be proven consistent, kLocked if another run holds it (kWrite).
  static Result<std::unique_ptr<Node>> Open(Fs& fs, const std::string& dir, Access access);

  virtual ~Node();

  const std::string& dir() const { return dir_; }
  const Identity& identity() const { return identity_; }
  const NodeState& state() const { return state_; }
  // Read access in NODE-5's window (a checkpoint stopped after state.json,
  // before the log was emptied): the pre-checkpoint log is ignored.
  bool pre_checkpoint_log() const { return wal_ignored_; }
  const std::optional<HaltReason>& halt() const { return halt_; }
  const OpenReport& open_report() const { return report_; }
  // NODE-12: set when AeroDB writes this directory (`aerodb-repl init`).
  const std::optional<Enrolment>& enrolment() const { return enrolment_; }

  // MODEL-2: ok when this node may create CommitIds now.
  // Permit (node/permit.h) for a write, and a WAL open for writing.
  Status CheckWritable() const;
  // The typed authority state Permit decides on (MODEL-9).
  Authority authority() const { return AuthorityOf(state_, halt_); }
  // MODEL-3 / NODE-9: ok when reads may be served.
  Status CheckReadable() const;

  // Persists the applied position to state.json if it moved.
  Status Close();

  // Replica apply (LOG-13): BeginAppend checks the node may apply; bytes
  // verified by a complete first pass go to AppendBytes; FinishAppend moves
  // `applied` past them in memory (state() shows it); PersistApplied makes
  // that durable: fsync the WAL, then replace state.json atomically.
  // AbortAppend cuts the WAL back to the applied offset, then persists; Halt
  // and Close persist too. A crash before PersistApplied loses only work the
  // next run redoes: state.json never names bytes the WAL might not hold
  // (NODE-4 drops the unacknowledged tail at the next open).
  Status BeginAppend();
  Status AppendBytes(std::string_view bytes);
  Status FinishAppend(uint64_t commit, const history::Digest& digest, uint64_t next_sequence);
  Status PersistApplied();
  uint64_t unpersisted_bytes() const { return unpersisted_bytes_; }
  uint64_t unpersisted_segments() const { return index_pending_.size(); }  // FinishAppend calls
  Status AbortAppend();

  // Records a halt (NODE-9) durably; every later write, apply and read refuses.
  Status Halt(const HaltReason& reason);
  // MODEL-7: records `fenced` (a JSON object) in state.json durably (kWrite).
  Status RecordFenced(const Fenced& fenced);

  // MODEL-8 (kWrite): step 3, the intent durably in state.json; its removal
  // after a lost claim; step 5, the commit: the history copy (NODE-1), then
  // role primary and epoch E+1 in one replace of state.json.
  Status RecordIntent(const Promoting& intent);
  Status DropIntent();
  Status FinishPromote(const history::HistoryFile& claimed);
  // LOG-20 (kWrite): the epoch switch of a replica at b_S: what was
  // appended is acknowledged, the history files of epochs R+1..S are
  // written (NODE-1), then state.json names epoch S.
  Status SwitchEpoch(const std::vector<history::HistoryFile>& epochs);
  // RECOV-10 (kWrite): a superseded primary becomes a replica of its epoch:
  // the later epochs' history files first (NODE-1), then one replace of
  // state.json: role replica, `fenced` removed.
  Status BecomeReplica(const std::vector<history::HistoryFile>& later);
  // RECOV-2: the history copies the open checked.
  const HistoryCopies& history() const { return history_; }

  // LOG-25: fsync of wal/wal.log through the file the open validated, so
  // every write set the open saw is durable; ok when there is no log.
  Status SyncWal();
  // Device and inode of the log the open validated; nullopt when none.
  const std::optional<FileInfo>& wal_info() const { return wal_info_; }

  // H(c) of this node's history for each wanted c <= applied: base and
  // applied from the state, then replication/digests (NODE-11), then one scan
  // of the WAL for the rest above base (absent entries: nothing could prove
  // them, e.g. below base and not in the index).
  // kDamage (LOG-27) when the log does not hold a commit up to the last
  // wanted one; `damaged_at` (nullable) then names the first it could not read.
  Result<std::map<uint64_t, history::Digest>> DigestsAt(const std::vector<uint64_t>& wanted,
                                                        uint64_t* damaged_at = nullptr) const;

  // RECOV-2: the node's own copy `h` against its own history: kDamage when
  // its branch_digest is not H(b_E) of this node (b_E above the base: open
  // checks the base and the applied commit). Reads the digest index, or the
  // log, so only where a copy is about to be trusted against another one.
  Status CheckHistoryCopy(const history::HistoryFile& h) const;

  static std::string SnapshotId(uint64_t commit);  // NODE-8

 protected:
  Node(Fs& fs, std::string dir, Access access) : fs_(fs), dir_(std::move(dir)), access_(access) {}
  // Open with the node `make` builds (an engine's subclass).
  using Make = std::unique_ptr<Node> (*)(Fs& fs, const std::string& dir, Access access);
  static Result<std::unique_ptr<Node>> OpenAs(Fs& fs, const std::string& dir, Access access,
                                              Make make);

  // The primitives an engine (lib/engine) builds its operations from.
  Fs& fs() const { return fs_; }
  std::string Path(std::string_view rel) const { return JoinPath(dir_, rel); }
  Status CheckReadBounds(uint64_t commit) const;  // READ-3, READ-7
  // MODEL-2: appends one whole write set the engine encoded (data records
  // and the commit record of applied+1, sequences from next_sequence) and
  // fsyncs it; `next_sequence` follows its last record. A failed write
  // leaves an unacknowledged tail that the next open drops (NODE-4) and
  // refuses every later append (kIo).
  Status AppendOwnWriteSet(std::string_view bytes, uint64_t next_sequence);
  // NODE-10: the base snapshot's storage file; nullopt at base 0.
  std::optional<std::string> BaseStoragePath() const;
  // NODE-10, LOG-27: the write sets base+1..`commit` of the log, in order:
  // each record to `on_record`, each commit to `on_write_set`. Damage before
  // `commit` is kDamage (and halts a read-only node, LOG-27).
  Status ScanLogTo(uint64_t commit, const std::function<void(const wal::Record&)>& on_record,
                   const std::function<void(const wal::WriteSet&)>& on_write_set) const;
  // NODE-5 (kWrite): the checkpoint at applied, with the storage file
  // `storage_at(boundary)` gives (the engine's documents at the boundary).
  using StorageAt = std::function<Result<std::string>(uint64_t boundary)>;
  Result<std::string> CheckpointWith(const StorageAt& storage_at);

 private:
  // NODE-4 open-time validation, in its steps.
  Status Validate();
  Status ValidateBase();
  Status ValidateLogPresent(uint64_t* size);
  Status FinishInterruptedCheckpoint(uint64_t* size);
  Status FollowAeroCheckpoint(uint64_t size);
  Status ValidateAppliedBoundary(uint64_t size);
  Status CheckNextSequence(uint64_t last_sequence) const;
  Status ValidateTail(uint64_t size);
  // kIo when an earlier write or fsync dropped the WAL handle; kInternal
  // when the node was never opened for writing (a bug in the caller).
  Status WalUnusable() const;

  Fs& fs_;
  std::string dir_;
  Access access_;
  std::unique_ptr<FileLock> lock_;
  Identity identity_;
  NodeState state_;
  std::optional<HaltReason> halt_;
  HistoryCopies history_;
  std::optional<Enrolment> enrolment_;
  // checkpoint.json naming a snapshot ahead of base (NODE-5 step 3's
  // window, or AeroDB's checkpoint: COMPAT-7): its id and boundary.
  std::optional<std::pair<std::string, uint64_t>> marker_ahead_;
  OpenReport report_;
  bool state_dirty_ = false;
  bool wal_ignored_ = false;  // read access over an interrupted checkpoint
  std::unique_ptr<WritableFile> wal_;
  // Why wal_ was dropped (a failed write or fsync), for the kIo that every
  // later write returns instead of an internal error.
  Status wal_failure_;
  std::unique_ptr<ReadableFile> wal_read_;  // the log validated at open; reads use it
  std::optional<FileInfo> wal_info_;  // its identity
  // LOG-27: a read-only node that finds damage in its log halts the node
  // when the lock is free; returns `damage`, noting when it was not recorded.
  Status HaltOnDamage(Status damage, uint64_t commit) const;
  uint64_t pending_bytes_ = 0;  // appended by AppendBytes, not yet acknowledged
  bool unpersisted_ = false;  // FinishAppend moved `applied` in memory only
  uint64_t unpersisted_bytes_ = 0;
  std::vector<DigestIndexEntry> index_pending_;  // NODE-11: applied, not yet acknowledged
  std::optional<DigestIndexWriter> index_writer_;
};

// LOG-25, LOG-27: records a halt, or `fenced`, in `dir` under the node lock
// taken for this step only (an open for writing, NODE-4). false, nothing
// written, when another process holds the lock.
Result<bool> HaltIfUnlocked(Fs& fs, const std::string& dir, const HaltReason& reason);
Result<bool> FenceIfUnlocked(Fs& fs, const std::string& dir, const Fenced& fenced);

// The detail and hint a refusal gets when HaltIfUnlocked / FenceIfUnlocked
// found the lock held (LOG-25): the refusal stands, the record waits.
Status NotRecorded(const Status& refusal, const std::string& dir);
// Whether `s` is a refusal NotRecorded made (FOLLOW-3: a follower retries it).
bool IsNotRecorded(const Status& s);

}  // namespace aero::node
