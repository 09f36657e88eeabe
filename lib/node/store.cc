#include "node/store.h"
#include "common/json_fields.h"
#include "node/place_tree.h"

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/file_util.h"
#include "node/layout.h"
#include "node/permit.h"
#include "node/shipped_position.h"
#include "node/storage_record.h"
#include "wal/record.h"
#include "wal/record_format.h"
#include "wal/wal_scan.h"

namespace aero::node {

namespace {

Status WalDamage(const std::string& path, const std::string& detail) {
  return Status(Code::kDamage, Problem("wal cannot be trusted", path, detail),
                "restore this node from a snapshot archive or rebuild it from a healthy node");
}

// REC-9 in an acknowledged log: the first commit-order finding, as damage.
Status CommitOrderDamage(const wal::ScanResult& r, const std::string& path) {
  for (const wal::ScanFinding& f : r.findings) {
    if (f.kind == "commit-order") {
      return WalDamage(path, f.detail + " at offset " + std::to_string(f.offset));
    }
  }
  return Status::Ok();
}

// LOG-27: a scan of the acknowledged log that had to reach commit `want`
// and reached `reached`: ok, its read error, or the damage that stopped it.
Status ScanReached(const wal::ScanResult& r, uint64_t reached, uint64_t want,
                   const std::string& path) {
  if (reached < want) {
    if (r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
    return WalDamage(path, "the log ends at commit " + std::to_string(reached) +
                               " before commit " + std::to_string(want) + " (" + r.stop.detail +
                               ")");
  }
  return CommitOrderDamage(r, path);
}

std::string Crc32Text(std::string_view bytes) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "crc32:%08x", Crc32(bytes));
  return buf;
}

// NODE-8, MODEL-5: AeroDB's manifest has a created_at field; ours is fixed,
// so two checkpoints at one boundary write the same bytes and no clock is read.
constexpr std::string_view kFixedCreatedAt = "1970-01-01T00:00:00Z";

}  // namespace

std::string Node::SnapshotId(uint64_t commit) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", kSnapshotIdDigits,
                static_cast<unsigned long long>(commit));
  return buf;
}

Node::~Node() = default;

Status Node::Init(Fs& fs, const std::string& dir) {
  Result<FileInfo> info = fs.Stat(dir);
  if (info.ok()) {
    if (!info->is_dir) {
      return Status(Code::kRefused, Problem("not a directory", dir, "a file stands where the node goes"),
                    "give an absent or empty directory for the new node");
    }
    AERO_ASSIGN_OR_RETURN(auto entries, fs.ListDir(dir));
    if (!entries.empty()) {
      Result<Identity> id = LoadIdentity(fs, dir);
      Result<NodeState> st = id.ok() ? LoadState(fs, dir, *id) : Result<NodeState>(id.status());
      if (st.ok()) {
        return Status(Code::kRefused,
                      Problem("refusing to initialise", dir,
                              std::string("already a node (role ") + RoleName(st->role) +
                                  ", epoch " + std::to_string(st->epoch) + ")"),
                      "a node is never re-created in place; move it aside or use a new directory");
      }
      return Status(Code::kRefused,
                    Problem("refusing to initialise", dir, "the directory is not empty"),
                    "give an absent or empty directory");
    }
  } else if (info.status().code() != Code::kNotFound) {
    return info.status();
  }
  // MODEL-4 init -> primary (epoch 1, commit 0). MODEL-10: the node is built
  // beside `dir` and renamed in, so a crash leaves nothing or a whole node.
  const std::string parent = DirName(dir);
  const std::string tmp = JoinPath(parent, HiddenName(BaseName(dir), ".init.tmp"));
  const std::string lock_path = JoinPath(parent, HiddenName(BaseName(dir), ".init.lock"));
  AERO_ASSIGN_OR_RETURN(auto lock, fs.Lock(lock_path));
  // Whatever ends the init from here, the lock file goes while it is held
  // (a run that raced us for it finds `dir` taken, or builds it whole).
  struct RemoveLock {
    Fs& fs;
    const std::string& path;
    ~RemoveLock() { (void)fs.Remove(path); }
  } remove_lock{fs, lock_path};
  AERO_RETURN_IF_ERROR(RemoveTree(fs, tmp));
  AERO_ASSIGN_OR_RETURN(history::SystemId id, history::NewSystemId());
  // rename(2) replaces an empty directory, so an existing empty `dir` is fine.
  Status built = Build(fs, tmp, id, Role::kPrimary, 1);
  if (!built.ok()) (void)RemoveTree(fs, tmp);  // MODEL-10: only a crash leaves the temp node behind
  if (built.ok()) {
    built = PlaceNewTree(fs, tmp, dir, "refusing to initialise", "aerodb init was creating the node",
                         "nothing was created; find what writes there, then give an absent or "
                         "empty directory");
  }
  return built;
}

Status Node::Build(Fs& fs, const std::string& tmp, const history::SystemId& id, Role role,
                   uint32_t epoch) {
  AERO_RETURN_IF_ERROR(fs.MakeDir(tmp));
  for (std::string_view sub : kLayoutDirs) {
    AERO_RETURN_IF_ERROR(fs.MakeDir(JoinPath(tmp, sub)));
  }
  AERO_RETURN_IF_ERROR(WriteDurably(fs, JoinPath(tmp, kWalFile), ""));
  AERO_RETURN_IF_ERROR(WriteDurably(fs, JoinPath(tmp, kDocumentsFile), ""));
  AERO_RETURN_IF_ERROR(WriteDurably(fs, JoinPath(tmp, kLockFile), ""));
  AERO_RETURN_IF_ERROR(SaveIdentity(fs, tmp, Identity{id}));
  NodeState state;
  state.role = role;
  state.epoch = epoch;
  state.base_digest = history::SeedDigest(id);
  state.applied_digest = state.base_digest;
  AERO_RETURN_IF_ERROR(SaveState(fs, tmp, state));
  for (std::string_view sub : {kWalDir, kDataDir, kSchemasDir, kMetadataDir, kSnapshotsDir,
                               kReplicationDir}) {
    AERO_RETURN_IF_ERROR(fs.SyncDir(JoinPath(tmp, sub)));
  }
  return fs.SyncDir(tmp);
}

Result<std::unique_ptr<Node>> Node::Open(Fs& fs, const std::string& dir, Access access) {
  return OpenAs(fs, dir, access, [](Fs& f, const std::string& d, Access a) {
    return std::unique_ptr<Node>(new Node(f, d, a));
  });
}

Result<std::unique_ptr<Node>> Node::OpenAs(Fs& fs, const std::string& dir, Access access,
                                           Make make) {
  // A reader takes no lock, so a checkpoint may replace wal/wal.log while it
  // opens. It opens the log first and the state second, then checks that the
  // path still names the file it holds (NODE-4); if not, it starts again.
  constexpr int kAttempts = 3;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::unique_ptr<Node> node = make(fs, dir, access);
    AERO_ASSIGN_OR_RETURN(node->identity_, LoadIdentity(fs, dir));
    AERO_ASSIGN_OR_RETURN(node->enrolment_, LoadEnrolment(fs, dir));  // NODE-12
    if (access == Access::kWrite) {  // NODE-6: lock before reading the state
      AERO_ASSIGN_OR_RETURN(node->lock_, fs.Lock(node->Path(kLockFile)));
      // A writer acts on what it reads, so what it reads must be durable: a
      // run that died after renaming the node into place (init, bootstrap) or
      // a new state.json may have left those entries unsynced (NODE-1).
      AERO_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
      AERO_RETURN_IF_ERROR(fs.SyncDir(node->Path(kReplicationDir)));
    }
    Result<std::unique_ptr<ReadableFile>> wal = fs.OpenRead(node->Path(kWalFile));
    if (wal.ok()) {
      node->wal_read_ = std::move(wal).value();
    } else if (wal.status().code() != Code::kNotFound) {
      return wal.status();
    }
    AERO_ASSIGN_OR_RETURN(node->state_, LoadState(fs, dir, node->identity_));
    AERO_ASSIGN_OR_RETURN(node->halt_, LoadHalt(fs, dir));
    AERO_ASSIGN_OR_RETURN(node->history_,
                          HistoryCopies::Load(fs, dir, node->identity_.system_id, node->state_));
    if (access == Access::kRead && node->wal_read_) {
      AERO_ASSIGN_OR_RETURN(FileInfo held, node->wal_read_->Info());
      Result<FileInfo> now = fs.Stat(node->Path(kWalFile));
      if (!now.ok() || now->device != held.device || now->inode != held.inode) continue;
    }
    AERO_RETURN_IF_ERROR(node->Validate());
    if (node->wal_read_) {
      AERO_ASSIGN_OR_RETURN(FileInfo info, node->wal_read_->Info());
      node->wal_info_ = info;
    }
    return node;
  }
  return Status(Code::kLocked,
                Problem("log replaced while opening", JoinPath(dir, kWalFile),
                        "a checkpoint replaced it " + std::to_string(kAttempts) + " times"),
                "retry when the checkpoint has finished");
}

namespace {

// The commit_boundary a snapshot's manifest.json text gives; nullopt when
// it has none (a Phase-1 snapshot).
std::optional<uint64_t> BoundaryOf(const std::string& text) {
  nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("commit_boundary") ||
      !m["commit_boundary"].is_number_unsigned() || m["commit_boundary"].get<uint64_t>() > wal::kMaxCommitId) {
    return std::nullopt;  // REC-9: no CommitId, no boundary
  }
  return m["commit_boundary"].get<uint64_t>();
}

// The same of snapshots/<id>/manifest.json; nullopt when it is missing.
// FM-139: a manifest that cannot be read is that fault, never "no boundary"
// (which called a sound node's base damaged).
Result<std::optional<uint64_t>> SnapshotBoundary(Fs& fs, const std::string& manifest) {
  Result<std::string> text = ReadSmallFile(fs, manifest, kMaxSnapshotManifestBytes);
  if (!text.ok() && text.status().code() == Code::kNotFound) return std::optional<uint64_t>();
  if (!text.ok()) return text.status();
  return BoundaryOf(*text);
}

}  // namespace

Status Node::ValidateBase() {
  // NODE-4 step 5: the snapshot under the log, and the checkpoint marker.
  if (state_.base_snapshot) {
    const std::string manifest = JoinPath(
        JoinPath(Path(kSnapshotsDir), *state_.base_snapshot), kSnapshotManifest);
    Result<std::string> text = ReadSmallFile(fs_, manifest, kMaxSnapshotManifestBytes);
    // FM-137: only a snapshot that is not there is missing; one this user
    // may not read is the fault's own 10.
    if (!text.ok() && text.status().code() != Code::kNotFound) return text.status();
    if (!text.ok()) {
      return Status(Code::kDamage,
                    Problem("base snapshot missing", manifest, text.status().message()),
                    "state.json names this snapshot as the state under the log; restore it");
    }
    if (BoundaryOf(*text) != state_.base_commit) {
      return Status(Code::kDamage,
                    Problem("base snapshot does not match", manifest,
                            "expected commit_boundary " + std::to_string(state_.base_commit)),
                    "state.json names this snapshot as the state under the log; restore the "
                    "snapshot directory from a good copy ('aerodb-repl verify DIR' lists what "
                    "else is wrong)");
    }
  }
  Result<std::string> text = ReadSmallFile(fs_, Path(kCheckpointFile));
  if (!text.ok()) {
    // COMPAT-3: an enrolled base snapshot may have no marker beside it (init
    // accepted it); the snapshot itself was checked above.
    if (text.status().code() == Code::kNotFound && (!state_.base_snapshot || enrolment_)) return Status::Ok();
    if (text.status().code() == Code::kIo) return text.status();  // FM-137: a permission, a link to nothing
    return Status(Code::kDamage,
                  Problem("checkpoint marker unreadable", Path(kCheckpointFile),
                          text.status().message()),
                  text.status().hint().empty()
                      ? "restore the file from a good copy: it names the snapshot under the log"
                      : text.status().hint());
  }
  nlohmann::json cp = nlohmann::json::parse(*text, nullptr, false);
  if (cp.is_discarded() || !cp.is_object() || !cp.contains("snapshot_id") ||
      !cp["snapshot_id"].is_string()) {
    return Status(Code::kDamage, Problem("invalid checkpoint marker", Path(kCheckpointFile)),
                  "restore the file from a good copy: it names the snapshot under the log");
  }
  const std::string id = cp["snapshot_id"].get<std::string>();
  const std::string manifest =
      JoinPath(JoinPath(Path(kSnapshotsDir), id), kSnapshotManifest);
  // Ours carries commit_boundary; AeroDB's marker does not, and its
  // snapshot's manifest gives it (COMPAT-11).
  std::optional<uint64_t> boundary;
  if (cp.contains("commit_boundary")) {
    if (!cp["commit_boundary"].is_number_unsigned() || cp["commit_boundary"].get<uint64_t>() > wal::kMaxCommitId) {
      return Status(Code::kDamage,
                    Problem("invalid checkpoint marker", Path(kCheckpointFile),
                            "commit_boundary is not a CommitId (an unsigned integer up to 2^64-2, REC-9)"),
                    "restore the file from a good copy: it names the snapshot under the log");
    }
    boundary = cp["commit_boundary"].get<uint64_t>();
  } else {
    AERO_ASSIGN_OR_RETURN(boundary, SnapshotBoundary(fs_, manifest));
  }
  if (boundary && state_.base_snapshot && id == *state_.base_snapshot &&
      *boundary == state_.base_commit) {
    return Status::Ok();
  }
  // The snapshot's own boundary, read once for the two checks below.
  std::optional<uint64_t> snapshot_boundary;
  if (boundary) {
    AERO_ASSIGN_OR_RETURN(snapshot_boundary, SnapshotBoundary(fs_, manifest));
  }
  // COMPAT-3: AeroDB's checkpoint before its first commit (a snapshot at 0,
  // nothing stored) under a base of 0, HIST-1's seed.
  if (enrolment_ && boundary && *boundary == 0 && state_.base_commit == 0 && !state_.base_snapshot &&
      snapshot_boundary == boundary) {
    return Status::Ok();
  }
  // A marker ahead of base whose snapshot exists with that boundary: the
  // window between checkpoint steps 3 and 4 (NODE-5), or AeroDB's
  // checkpoint, which FollowAeroCheckpoint judges (COMPAT-7).
  if (boundary && *boundary > state_.base_commit && snapshot_boundary == boundary) {
    marker_ahead_.emplace(id, *boundary);
    return Status::Ok();
  }
  const std::string at = boundary ? std::to_string(*boundary) : std::string("unknown");
  if (boundary && *boundary < state_.base_commit) {  // COMPAT-3: no checkpoint writes this
    return Status(Code::kDamage,
                  Problem("checkpoint marker behind the log", Path(kCheckpointFile),
                          "it names snapshot " + id + " at commit " + at + ", below the base at commit " +
                              std::to_string(state_.base_commit) + " (snapshot " +
                              state_.base_snapshot.value_or("none") + ")"),
                  "a checkpoint writes its marker before it truncates the log: restore checkpoint.json "
                  "from a good copy, or point it at the base snapshot");
  }
  return Status(Code::kDamage,
                Problem("checkpoint marker disagrees with state", Path(kCheckpointFile),
                        "it names snapshot " + id + " at commit " + at + ", state.json has base " +
                            std::to_string(state_.base_commit) + " (snapshot " +
                            state_.base_snapshot.value_or("none") + ")"),
                "restore checkpoint.json and snapshots/ from a good copy ('aerodb-repl verify DIR' "
                "lists what else is wrong)");
}

Status Node::Validate() {
  AERO_RETURN_IF_ERROR(ValidateBase());
  uint64_t size = 0;
  AERO_RETURN_IF_ERROR(ValidateLogPresent(&size));
  if (enrolment_) {
    AERO_RETURN_IF_ERROR(FollowAeroCheckpoint(size));  // COMPAT-7
  } else {
    AERO_RETURN_IF_ERROR(FinishInterruptedCheckpoint(&size));
  }
  AERO_RETURN_IF_ERROR(ValidateAppliedBoundary(size));
  AERO_RETURN_IF_ERROR(ValidateTail(size));
  if (access_ != Access::kWrite) return Status::Ok();
  if (enrolment_) {
    // COMPAT-6: AeroDB's log is never opened for writing; what the open
    // proved is made durable before state.json records it (NODE-1).
    if (state_dirty_) {
      if (wal_read_) AERO_RETURN_IF_ERROR(wal_read_->Sync());
      AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, state_));
      state_dirty_ = false;
    }
    return Status::Ok();
  }
  AERO_ASSIGN_OR_RETURN(wal_, fs_.OpenWrite(Path(kWalFile), OpenMode::kAppend));
  if (state_dirty_) {
    // The rolled-forward write sets may never have been fsynced (a process
    // that died between append and fsync): make them durable before
    // state.json acknowledges them (NODE-1, invariant 5).
    AERO_RETURN_IF_ERROR(wal_->Sync());
    AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, state_));
    state_dirty_ = false;
  }
  return Status::Ok();
}

// NODE-4: a log that state.json names must be there; a writer creates an
// absent empty one.
Status Node::ValidateLogPresent(uint64_t* size) {
  const std::string wal_path = Path(kWalFile);
  *size = 0;
  if (wal_read_) {
    AERO_ASSIGN_OR_RETURN(*size, wal_read_->Size());
    return Status::Ok();
  }
  if (state_.applied_wal_offset != 0) {
    return WalDamage(wal_path, "the file is missing but state.json records " +
                                   std::to_string(state_.applied_wal_offset) + " bytes");
  }
  if (access_ == Access::kWrite && !enrolment_) {
    AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, wal_path, ""));
  }
  return Status::Ok();
}

// NODE-5: a checkpoint that stopped between state.json and the WAL reset
// leaves the pre-checkpoint WAL, whose write sets all lie at or below base.
// A writer finishes it (the log emptied); a reader ignores that log.
Status Node::FinishInterruptedCheckpoint(uint64_t* size) {
  if (*size == 0 || state_.applied_wal_offset != 0 || state_.base_commit == 0) {
    return Status::Ok();
  }
  const std::string wal_path = Path(kWalFile);
  std::optional<uint64_t> first;
  AERO_RETURN_IF_ERROR(wal_read_->Seek(0));
  wal::WalScanner(wal_read_.get(), {}).Run({}, [&](const wal::WriteSet& ws) {
    first = ws.commit_id;
    return false;
  });
  if (!first || *first > state_.base_commit) return Status::Ok();
  AERO_RETURN_IF_ERROR(wal_read_->Seek(0));
  wal::ScanResult old = wal::WalScanner(wal_read_.get(), {}).Run();
  const bool damaged = old.stop.kind == wal::StopKind::kCorrupt ||
                       old.stop.kind == wal::StopKind::kUnsupportedType ||
                       old.stop.kind == wal::StopKind::kIoError;
  if (damaged || old.last_commit != state_.base_commit) {
    return WalDamage(wal_path, "an interrupted checkpoint at commit " +
                                   std::to_string(state_.base_commit) +
                                   " left a log ending at commit " +
                                   std::to_string(old.last_commit.value_or(0)) +
                                   (damaged ? " (" + old.stop.detail + ")" : ""));
  }
  if (access_ == Access::kWrite) {
    // The state.json we act on may be a rename whose directory was never
    // fsynced (the crashed checkpoint's step 4): make it durable before
    // the log it replaces goes away.
    AERO_RETURN_IF_ERROR(fs_.SyncDir(Path(kReplicationDir)));
    AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, wal_path, ""));
    report_.finished_checkpoint = true;
    AERO_ASSIGN_OR_RETURN(wal_read_, fs_.OpenRead(wal_path));
  } else {
    wal_ignored_ = true;
  }
  *size = 0;
  return Status::Ok();
}

// COMPAT-7: AeroDB's checkpoint at N restarted wal/wal.log. When
// checkpoint.json names a snapshot at N above base and the log no longer
// starts at base + 1, the base becomes that snapshot with H(N) from a record
// of ours (applied, or a shipped position at N); without one, the commits
// after the last one read exist only in the snapshot: a history cut (3).
Status Node::FollowAeroCheckpoint(uint64_t size) {
  if (!marker_ahead_) return Status::Ok();
  const auto& [id, n] = *marker_ahead_;
  const std::string wal_path = Path(kWalFile);
  std::optional<uint64_t> first;
  if (size > 0) {
    AERO_RETURN_IF_ERROR(wal_read_->Seek(0));
    wal::WalScanner(wal_read_.get(), {}).Run({}, [&](const wal::WriteSet& ws) {
      first = ws.commit_id;
      return false;
    });
  }
  // The old log is still there: AeroDB stopped between its marker and the
  // truncation, or has not truncated yet. Nothing to follow.
  if (first && *first == state_.base_commit + 1) return Status::Ok();
  if (first && *first != n + 1) {
    return WalDamage(wal_path, "the log starts at commit " + std::to_string(*first) +
                                   " but AeroDB's checkpoint names snapshot " + id +
                                   " at commit " + std::to_string(n));
  }
  if (n < state_.applied_commit) {
    return WalDamage(wal_path, "AeroDB's checkpoint names snapshot " + id + " at commit " +
                                   std::to_string(n) + ", below commit " +
                                   std::to_string(state_.applied_commit) +
                                   " that this node recorded");
  }
  std::optional<history::Digest> digest;
  if (n == state_.applied_commit) digest = state_.applied_digest;
  if (!digest) {
    // A position that does not read is not a record of H(n) (ARC-4).
    const ShippedPositions shipped = LoadShippedPositions(fs_, dir_);
    for (const ShippedPosition& p : shipped.positions) {
      if (p.commit == n && p.epoch == state_.epoch) {
        digest = p.digest;
        break;
      }
    }
    if (!digest) {
      for (const Status& problem : shipped.problems) {
        if (problem.code() == Code::kIo) return problem;  // FM-137: not "no record"
      }
    }
  }
  const std::string snapshot = JoinPath(Path(kSnapshotsDir), id);
  if (!digest) {
    return Status(
        Code::kGap,
        Problem("history cut", dir_,
                "AeroDB's checkpoint put commits " + std::to_string(state_.applied_commit + 1) +
                    ".." + std::to_string(n) + " into snapshot " + snapshot +
                    " and truncated wal/wal.log before any aerodb-repl run read them"),
        "the history cannot continue past commit " + std::to_string(state_.applied_commit) +
            ": start a new one from that snapshot with 'aerodb-repl init -D " + dir_ +
            " --re-enrol' and rebuild the replicas with 'snapshot install'; run ship-wal right "
            "before AeroDB's checkpoint to avoid this");
  }
  state_.base_commit = n;
  state_.base_digest = *digest;
  state_.base_snapshot = id;
  state_.applied_commit = n;
  state_.applied_digest = *digest;
  state_.applied_wal_offset = 0;
  state_.next_sequence = 1;  // AeroDB restarts its sequences (COMPAT-10)
  state_dirty_ = true;
  report_.followed_aero_checkpoint = n;
  return Status::Ok();
}

// NODE-4: the log holds applied.wal_offset bytes, and [o - 25, o) is the
// commit record of applied.commit, so o lies on the boundary state.json
// claims (one small read, whatever the size of the log).
Status Node::ValidateAppliedBoundary(uint64_t size) {
  const std::string wal_path = Path(kWalFile);
  const uint64_t o = state_.applied_wal_offset;
  if (size < o) {
    return WalDamage(wal_path, "state.json records commit " +
                                   std::to_string(state_.applied_commit) + " ending at byte " +
                                   std::to_string(o) + ", the file has " +
                                   std::to_string(size) + " bytes");
  }
  if (o == 0) return Status::Ok();
  char rec[wal::kCommitRecordBytes];
  AERO_RETURN_IF_ERROR(ReadExactlyAt(*wal_read_, o - sizeof rec, rec, sizeof rec));
  uint64_t commit = 0, sequence = 0;
  const bool ok = wal::DecodeCommitRecord(std::string_view(rec, sizeof rec), &commit, &sequence) &&
                  commit == state_.applied_commit;
  if (ok) return CheckNextSequence(sequence);
  return WalDamage(wal_path, "no commit record of commit " +
                                 std::to_string(state_.applied_commit) + " ends at byte " +
                                 std::to_string(o) + " as state.json records");
}

// NODE-7: the next record appended carries the sequence after the commit
// record that ends the applied log; a state.json that says otherwise would
// have the next write set rewind the sequence (REC-8), acknowledged.
Status Node::CheckNextSequence(uint64_t last_sequence) const {
  if (state_.next_sequence == last_sequence + 1) return Status::Ok();
  return InvalidNodeFile(Path(kStateFile), "applied.next_sequence is " +
                                               std::to_string(state_.next_sequence) +
                                               ", but the log's last applied record has sequence " +
                                               std::to_string(last_sequence));
}

// NODE-4: the bytes past applied.wal_offset. A replica drops them; a
// primary rolls its whole write sets forward and drops a torn or
// uncommitted tail (a reader leaves it in place).
Status Node::ValidateTail(uint64_t size) {
  const std::string wal_path = Path(kWalFile);
  const uint64_t o = state_.applied_wal_offset;
  if (size <= o) return Status::Ok();
  if (state_.role == node::Role::kReplica) {
    // A replica acknowledges a write set only by state.json (LOG-13), so
    // bytes past applied.wal_offset were never acknowledged (an apply that
    // died mid-segment): dropped, never rolled forward. apply-wal appends
    // them again from the segment.
    if (access_ == Access::kWrite) {
      AERO_RETURN_IF_ERROR(fs_.Truncate(wal_path, o));
      report_.truncated_bytes = size - o;
    } else {
      report_.ignored_tail_bytes = size - o;
    }
    return Status::Ok();
  }
  wal::ScanOptions opt;
  opt.start_offset = o;
  opt.base_commit = state_.applied_commit;
  opt.base_digest = state_.applied_digest;
  uint64_t last_sequence = 0;
  wal::ScanResult r = wal::WalScanner(wal_read_.get(), opt).Run({}, [&](const wal::WriteSet& ws) {
    last_sequence = ws.last_sequence;
    return true;
  });
  AERO_RETURN_IF_ERROR(CommitOrderDamage(r, wal_path));
  if (r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
  if (r.stop.kind == wal::StopKind::kCorrupt || r.stop.kind == wal::StopKind::kUnsupportedType) {
    return WalDamage(wal_path, r.stop.detail + " at offset " + std::to_string(r.stop.offset));
  }
  if (r.write_sets > 0) {
    state_.applied_commit = r.position.commit;
    state_.applied_digest = *r.position.digest;
    state_.applied_wal_offset = r.committed_end;
    state_.next_sequence = last_sequence + 1;
    report_.rolled_forward = r.write_sets;
    state_dirty_ = true;
  }
  const uint64_t tail = size - r.committed_end;
  if (tail == 0) return Status::Ok();
  // In an enrolled directory the tail is AeroDB's transaction in progress,
  // never ours to cut.
  if (access_ == Access::kWrite && !enrolment_) {  // COMPAT-6
    AERO_RETURN_IF_ERROR(fs_.Truncate(wal_path, r.committed_end));
    report_.truncated_bytes = tail;
  } else {
    report_.ignored_tail_bytes = tail;
  }
  return Status::Ok();
}

// MODEL-9: the refusals are Permit's (node/permit.h); open-time damage (1)
// and the lock (7) were checked by Open.
Status Node::CheckWritable() const {
  AERO_RETURN_IF_ERROR(Permit(authority(), Operation::kWrite, dir_));
  if (access_ != Access::kWrite || !wal_) return WalUnusable();
  return Status::Ok();
}

Status Node::CheckReadable() const { return Permit(authority(), Operation::kRead, dir_); }

Status Node::AppendOwnWriteSet(std::string_view bytes, uint64_t next_sequence) {
  AERO_RETURN_IF_ERROR(CheckWritable());
  Status s = wal_->Append(bytes);
  if (s.ok()) s = wal_->Sync();  // one fsync per write set
  if (!s.ok()) {
    // The WAL may now end in part of this write set; it was never acknowledged
    // and the next open drops it (NODE-4). This Node must not append after it.
    wal_.reset();
    wal_failure_ = s;
    return s;
  }
  history::DigestChain chain;
  chain.Begin(state_.applied_digest);
  chain.Update(bytes);
  state_.applied_digest = chain.Finish();
  state_.applied_commit += 1;
  state_.applied_wal_offset += bytes.size();
  state_.next_sequence = next_sequence;
  state_dirty_ = true;
  return Status::Ok();
}

Status Node::CheckReadBounds(uint64_t commit) const {
  if (commit > state_.applied_commit) {  // READ-7: never served, never waited for
    return Status(Code::kGap,
                  Problem("commit not yet applied", dir_,
                          "this node has applied through " + std::to_string(state_.applied_commit) +
                              ", the read asks for " + std::to_string(commit)),
                  "read at or below the applied commit, or retry once this node has applied it");
  }
  if (commit < state_.base_commit) {  // READ-3: checkpointed away
    return Status(Code::kNotFound,
                  Problem("commit not readable here", std::to_string(commit),
                          "this node holds commits " + std::to_string(state_.base_commit) + ".." +
                              std::to_string(state_.applied_commit)),
                  "commits below the base were checkpointed away; read a later one");
  }
  return Status::Ok();
}

std::optional<std::string> Node::BaseStoragePath() const {
  if (!state_.base_snapshot) return std::nullopt;
  return JoinPath(JoinPath(Path(kSnapshotsDir), *state_.base_snapshot), kSnapshotStorage);
}

Status Node::ScanLogTo(uint64_t commit, const std::function<void(const wal::Record&)>& on_record,
                       const std::function<void(const wal::WriteSet&)>& on_write_set) const {
  AERO_RETURN_IF_ERROR(CheckReadBounds(commit));
  if (commit == state_.base_commit || wal_ignored_) return Status::Ok();
  const std::string wal_path = Path(kWalFile);
  // The handle validated at open: a checkpoint that replaced the path since
  // cannot change what this read sees.
  ReadableFile* file = wal_read_.get();
  if (file == nullptr) return WalDamage(wal_path, "the log is missing");
  AERO_RETURN_IF_ERROR(file->Seek(0));
  wal::ScanOptions opt;
  opt.base_commit = state_.base_commit;  // REC-9 order; no digest: reads don't need one
  uint64_t reached = state_.base_commit;
  wal::ScanResult r = wal::WalScanner(file, opt).Run(on_record, [&](const wal::WriteSet& ws) {
    if (ws.commit_id > commit) return false;
    on_write_set(ws);
    reached = ws.commit_id;
    return ws.commit_id < commit;
  });
  Status scanned = ScanReached(r, reached, commit, wal_path);
  if (!scanned.ok()) return HaltOnDamage(scanned, reached + 1);  // LOG-27
  return Status::Ok();
}

Result<std::string> Node::CheckpointWith(const StorageAt& storage_at) {
  // A replica checkpoints its own state too (no CommitId is created), so the
  // role check of MODEL-2 does not apply; halted, fenced and promoting do.
  AERO_RETURN_IF_ERROR(Permit(authority(), Operation::kCheckpoint, dir_));
  if (access_ != Access::kWrite || !wal_) return WalUnusable();
  const uint64_t boundary = state_.applied_commit;
  const std::string id = SnapshotId(boundary);
  if (state_.base_commit == boundary && state_.base_snapshot == id) return id;  // nothing new

  AERO_ASSIGN_OR_RETURN(std::string storage, storage_at(boundary));

  // (1) snapshots/<id>/ built beside its final name, then renamed in.
  const std::string snapshots = Path(kSnapshotsDir);
  AERO_RETURN_IF_ERROR(fs_.MakeDir(snapshots));
  const std::string final_dir = JoinPath(snapshots, id);
  const std::string tmp_dir = JoinPath(snapshots, HiddenName(id, ".tmp"));
  AERO_RETURN_IF_ERROR(RemoveTree(fs_, tmp_dir));
  AERO_RETURN_IF_ERROR(fs_.MakeDir(tmp_dir));
  const std::string tmp_schemas = JoinPath(tmp_dir, kSnapshotSchemas);
  AERO_RETURN_IF_ERROR(fs_.MakeDir(tmp_schemas));
  nlohmann::json schema_checksums = nlohmann::json::object();  // keys sorted (NODE-8)
  Result<std::vector<DirEntry>> schemas = fs_.ListDir(Path(kSchemasDir));
  if (schemas.ok()) {
    for (const DirEntry& e : *schemas) {
      if (!e.is_regular) continue;
      AERO_ASSIGN_OR_RETURN(std::string bytes,
                            ReadSmallFile(fs_, JoinPath(Path(kSchemasDir), e.name)));
      AERO_RETURN_IF_ERROR(WriteDurably(fs_, JoinPath(tmp_schemas, e.name), bytes));
      schema_checksums[e.name] = Crc32Text(bytes);
    }
  }
  AERO_RETURN_IF_ERROR(WriteDurably(fs_, JoinPath(tmp_dir, kSnapshotStorage), storage));
  nlohmann::ordered_json manifest;  // AeroDB's field order
  manifest["snapshot_id"] = id;
  manifest["created_at"] = kFixedCreatedAt;
  manifest["storage_checksum"] = Crc32Text(storage);
  manifest["schema_checksums"] = schema_checksums;
  manifest["format_version"] = kAeroManifestFormatMvcc;
  manifest["commit_boundary"] = boundary;
  AERO_RETURN_IF_ERROR(
      WriteDurably(fs_, JoinPath(tmp_dir, kSnapshotManifest), json_fields::Dump(manifest, 2)));
  AERO_RETURN_IF_ERROR(fs_.SyncDir(tmp_schemas));
  AERO_RETURN_IF_ERROR(fs_.SyncDir(tmp_dir));
  AERO_RETURN_IF_ERROR(RemoveTree(fs_, final_dir));  // a leftover of an earlier attempt
  AERO_RETURN_IF_ERROR(fs_.Rename(tmp_dir, final_dir));
  AERO_RETURN_IF_ERROR(fs_.SyncDir(snapshots));

  // (2) data/documents.dat, (3) checkpoint.json.
  AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, Path(kDocumentsFile), storage));
  nlohmann::ordered_json cp;
  cp["format"] = kStateFormat;
  cp["snapshot_id"] = id;
  cp["commit_boundary"] = boundary;
  cp["history_digest"] = history::DigestToHex(state_.applied_digest);
  cp["epoch"] = state_.epoch;
  cp["wal_sequence"] = state_.next_sequence - 1;
  AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, Path(kCheckpointFile), json_fields::Dump(cp, 2) + "\n"));

  // (4) state.json: the WAL now starts after the boundary.
  NodeState next = state_;
  next.base_commit = boundary;
  next.base_digest = state_.applied_digest;
  next.base_snapshot = id;
  next.applied_wal_offset = 0;
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));
  state_ = next;
  state_dirty_ = false;

  // (5) empty WAL. A crash before this is finished by the next open (NODE-5).
  wal_.reset();
  AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, Path(kWalFile), ""));
  AERO_ASSIGN_OR_RETURN(wal_, fs_.OpenWrite(Path(kWalFile), OpenMode::kAppend));
  AERO_ASSIGN_OR_RETURN(wal_read_, fs_.OpenRead(Path(kWalFile)));
  return id;
}

Status Node::BeginAppend() {
  AERO_RETURN_IF_ERROR(Permit(authority(), Operation::kApply, dir_));  // MODEL-9, LOG-14
  if (access_ != Access::kWrite || !wal_) return WalUnusable();
  pending_bytes_ = 0;
  return Status::Ok();
}

Status Node::AppendBytes(std::string_view bytes) {
  if (!wal_) return WalUnusable();
  Status s = wal_->Append(bytes);
  if (!s.ok()) {
    // Part of `bytes` may be in the file: unacknowledged, cut by
    // AbortAppend or dropped by the next open (NODE-4).
    wal_.reset();
    wal_failure_ = s;
    return s;
  }
  pending_bytes_ += bytes.size();
  return Status::Ok();
}

Status Node::FinishAppend(uint64_t commit, const history::Digest& digest,
                          uint64_t next_sequence) {
  if (!wal_) return WalUnusable();
  state_.applied_commit = commit;
  state_.applied_digest = digest;
  state_.applied_wal_offset += pending_bytes_;
  state_.next_sequence = next_sequence;
  index_pending_.push_back({commit, digest});  // NODE-11, written once acknowledged
  unpersisted_ = true;
  unpersisted_bytes_ += pending_bytes_;
  pending_bytes_ = 0;
  return Status::Ok();
}

Status Node::PersistApplied() {
  if (!unpersisted_) return Status::Ok();
  if (!wal_) return WalUnusable();
  Status s = wal_->Sync();
  if (!s.ok()) {
    // After a failed fsync the page cache may have dropped the bytes: none
    // of them is acknowledged, and this Node appends no more.
    wal_.reset();
    wal_failure_ = s;
    return s;
  }
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, state_));  // LOG-13: after the fsync
  state_dirty_ = false;
  unpersisted_ = false;
  unpersisted_bytes_ = 0;
  // NODE-11: only acknowledged commits enter the index. It is a cache: a
  // failure to extend it is not a failure of the apply (the next writer cuts
  // off whatever it left), and the commits it misses cost a WAL scan.
  if (!index_writer_) index_writer_.emplace(fs_, Path(kDigestIndexFile));
  (void)index_writer_->Append(index_pending_);
  index_pending_.clear();
  return Status::Ok();
}

Status Node::AbortAppend() {
  // Bytes of the aborted segment may be in the file: counted ones, or part
  // of a write that failed (which also dropped the handle). The cut keeps
  // what FinishAppend applied in memory, which PersistApplied then
  // acknowledges: verified segments before a full disk are not lost.
  if (pending_bytes_ == 0 && wal_) return PersistApplied();
  if (access_ != Access::kWrite) return Status(Code::kInternal, Problem("node not opened for writing", dir_));
  wal_.reset();
  AERO_RETURN_IF_ERROR(fs_.Truncate(Path(kWalFile), state_.applied_wal_offset));
  pending_bytes_ = 0;
  AERO_ASSIGN_OR_RETURN(wal_, fs_.OpenWrite(Path(kWalFile), OpenMode::kAppend));
  wal_failure_ = Status::Ok();
  return PersistApplied();
}

Status Node::WalUnusable() const {
  if (enrolment_) {  // COMPAT-6: no aerodb-repl write touches AeroDB's files
    return Status(Code::kRefused,
                  Problem("AeroDB writes this directory", dir_,
                          "it was enrolled by 'aerodb-repl init'; the reference node's writes "
                          "and checkpoints would change AeroDB's files"),
                  "write and checkpoint through AeroDB; aerodb-repl only ships from it");
  }
  if (access_ == Access::kWrite && !wal_failure_.ok()) {
    return Status(Code::kIo,
                  Problem("cannot write", Path(kWalFile),
                          "an earlier write or fsync failed (" + wal_failure_.message() +
                              "); nothing after the last acknowledged commit counts"),
                  wal_failure_.hint().empty() ? "fix the file system (free space, the disk), "
                                                "then re-run: nothing acknowledged was lost"
                                              : wal_failure_.hint());
  }
  return Status(Code::kInternal, Problem("node not opened for writing", dir_));
}

Status Node::Halt(const HaltReason& reason) {
  AERO_RETURN_IF_ERROR(PersistApplied());  // the halt names a durable position
  AERO_RETURN_IF_ERROR(SaveHalt(fs_, dir_, reason));
  halt_ = reason;
  return Status::Ok();
}

Status Node::RecordFenced(const Fenced& fenced) {
  if (access_ != Access::kWrite) return WalUnusable();
  // Under the lock, on the node as it is now: a rejoin may have made it a
  // replica (or moved its epoch) since ship-wal read it without the lock
  // (LOG-25); a fence belongs on a primary below the fencing epoch (NODE-3).
  if (state_.role != Role::kPrimary || fenced.epoch <= state_.epoch) return Status::Ok();
  AERO_RETURN_IF_ERROR(PersistApplied());
  state_.fenced = fenced;
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, state_));  // MODEL-7, NODE-1
  state_dirty_ = false;
  return Status::Ok();
}

Status Node::RecordIntent(const Promoting& intent) {
  if (access_ != Access::kWrite) return WalUnusable();
  AERO_RETURN_IF_ERROR(PersistApplied());
  NodeState next = state_;
  next.promoting = intent;
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));  // MODEL-8 step 3, NODE-1
  state_ = next;
  return Status::Ok();
}

Status Node::DropIntent() {
  if (access_ != Access::kWrite) return WalUnusable();
  NodeState next = state_;
  next.promoting.reset();
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));
  state_ = next;
  return Status::Ok();
}

Status Node::FinishPromote(const history::HistoryFile& claimed) {
  if (access_ != Access::kWrite) return WalUnusable();
  if (!state_.promoting || claimed.epoch != state_.promoting->epoch ||
      claimed.claimant != state_.promoting->claimant) {
    return Status(Code::kInternal, Problem("promote without its intent", dir_));
  }
  AERO_RETURN_IF_ERROR(SaveHistoryCopy(fs_, dir_, claimed));  // before the role (MODEL-8 step 5)
  NodeState next = state_;
  next.role = Role::kPrimary;
  next.epoch = claimed.epoch;
  next.promoting.reset();
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));
  state_ = next;
  AERO_ASSIGN_OR_RETURN(history_, HistoryCopies::Load(fs_, dir_, identity_.system_id, state_));
  return Status::Ok();
}

Status Node::SwitchEpoch(const std::vector<history::HistoryFile>& epochs) {
  if (access_ != Access::kWrite) return WalUnusable();
  if (epochs.empty()) return Status::Ok();
  AERO_RETURN_IF_ERROR(PersistApplied());
  for (const history::HistoryFile& h : epochs) AERO_RETURN_IF_ERROR(SaveHistoryCopy(fs_, dir_, h));
  NodeState next = state_;
  next.epoch = epochs.back().epoch;
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));
  state_ = next;
  AERO_ASSIGN_OR_RETURN(history_, HistoryCopies::Load(fs_, dir_, identity_.system_id, state_));
  return Status::Ok();
}

Status Node::BecomeReplica(const std::vector<history::HistoryFile>& later) {
  if (access_ != Access::kWrite) return WalUnusable();
  AERO_RETURN_IF_ERROR(PersistApplied());
  for (const history::HistoryFile& h : later) AERO_RETURN_IF_ERROR(SaveHistoryCopy(fs_, dir_, h));
  // RECOV-10: a replica ships nothing; a position kept from the primary it
  // was would show a growing ship lag, and be resumed after a promote.
  AERO_RETURN_IF_ERROR(RemoveTree(fs_, Path(kShippedDir)));
  AERO_RETURN_IF_ERROR(fs_.SyncDir(DirName(Path(kShippedDir))));
  NodeState next = state_;
  next.role = Role::kReplica;
  next.fenced.reset();
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, next));
  state_ = next;
  AERO_ASSIGN_OR_RETURN(history_, HistoryCopies::Load(fs_, dir_, identity_.system_id, state_));
  return Status::Ok();
}

Status Node::SyncWal() {
  if (!wal_read_) return Status::Ok();
  return wal_read_->Sync();
}

Status Node::HaltOnDamage(Status damage, uint64_t commit) const {
  // LOG-27: only a reader may take the lock here; a writer's own reads
  // report the damage and leave the halt to its caller.
  if (access_ != Access::kRead || damage.code() != Code::kDamage) return damage;
  const HaltReason reason{"corrupt", Path(kWalFile), damage.message(), commit};
  Result<bool> recorded = HaltIfUnlocked(fs_, dir_, reason);
  if (!recorded.ok()) return recorded.status();
  if (!*recorded) return NotRecorded(damage, dir_);
  return damage.WithHint("this node is halted; restore it from a healthy copy (a replica: "
                         "'snapshot install' from its primary's archive)");
}

namespace {

// Runs `record` on `dir` opened for writing, under the node lock taken for
// this step only; false, nothing written, when another process holds it.
template <typename Record>
Result<bool> IfUnlocked(Fs& fs, const std::string& dir, Record record) {
  Result<std::unique_ptr<Node>> n = Node::Open(fs, dir, Access::kWrite);
  if (!n.ok()) {
    if (n.status().code() == Code::kLocked) return false;
    return n.status();
  }
  AERO_RETURN_IF_ERROR(record(**n));
  return true;
}

}  // namespace

Result<bool> HaltIfUnlocked(Fs& fs, const std::string& dir, const HaltReason& reason) {
  return IfUnlocked(fs, dir, [&](Node& n) { return n.Halt(reason); });
}

Result<bool> FenceIfUnlocked(Fs& fs, const std::string& dir, const Fenced& fenced) {
  return IfUnlocked(fs, dir, [&](Node& n) { return n.RecordFenced(fenced); });
}

namespace {
constexpr std::string_view kNotRecordedHint = "stop the writer, then re-run to record it";
}  // namespace

Status NotRecorded(const Status& refusal, const std::string& dir) {
  Status s(refusal.code(),
           refusal.message() + "; not recorded: a writer holds '" +
               JoinPath(dir, kLockFile) + "'",
           std::string(kNotRecordedHint));
  return s.WithReason(refusal.reason());
}

bool IsNotRecorded(const Status& s) { return !s.ok() && s.hint() == kNotRecordedHint; }

Status Node::CheckHistoryCopy(const history::HistoryFile& h) const {
  if (h.branch_commit <= state_.base_commit || h.branch_commit > state_.applied_commit) return Status::Ok();
  AERO_ASSIGN_OR_RETURN(auto digests, DigestsAt({h.branch_commit}));
  auto it = digests.find(h.branch_commit);
  if (it == digests.end() || it->second == h.branch_digest) return Status::Ok();
  return Status(Code::kDamage,
                Problem("invalid node file", JoinPath(Path(kHistoryDir), history::HistoryFileName(h.epoch)),
                        BranchContradicts(h.branch_commit)),
                "restore the history files from the claim archive (the same names), or rebuild this "
                "node from a healthy one");
}

Result<std::map<uint64_t, history::Digest>> Node::DigestsAt(
    const std::vector<uint64_t>& wanted, uint64_t* damaged_at) const {
  std::map<uint64_t, history::Digest> out;
  std::set<uint64_t> need;
  for (uint64_t c : wanted) {
    if (c == state_.base_commit) {
      out[c] = state_.base_digest;
    } else if (c == state_.applied_commit) {
      out[c] = state_.applied_digest;
    } else if (c < state_.applied_commit) {
      need.insert(c);
    }
  }
  if (need.empty()) return out;
  // NODE-11 first: the commits where this node finished a segment, for the
  // price of one small read instead of a scan of the whole log.
  Result<DigestIndex> index = ReadDigestIndex(fs_, Path(kDigestIndexFile));
  if (index.ok()) {
    for (auto it = need.begin(); it != need.end();) {
      auto hit = index->digests.find(*it);
      if (hit != index->digests.end()) {
        out[*it] = hit->second;
        it = need.erase(it);
      } else {
        ++it;
      }
    }
  }
  need.erase(need.begin(), need.upper_bound(state_.base_commit));  // not in the log
  if (need.empty() || wal_ignored_ || !wal_read_) return out;
  AERO_RETURN_IF_ERROR(wal_read_->Seek(0));
  wal::ScanOptions opt;
  opt.base_commit = state_.base_commit;
  opt.base_digest = state_.base_digest;
  const uint64_t last = *need.rbegin();
  uint64_t reached = state_.base_commit;
  wal::ScanResult r = wal::WalScanner(wal_read_.get(), opt).Run({}, [&](const wal::WriteSet& ws) {
    if (need.count(ws.commit_id) && ws.digest_after) out[ws.commit_id] = *ws.digest_after;
    reached = ws.commit_id;
    return ws.commit_id < last;
  });
  // LOG-27: the log must hold every commit up to applied; a scan that stops
  // short of one it was asked for met damage in the acknowledged log.
  if (damaged_at) *damaged_at = reached + 1;
  AERO_RETURN_IF_ERROR(ScanReached(r, reached, last, Path(kWalFile)));
  return out;
}

Status Node::Close() {
  AERO_RETURN_IF_ERROR(PersistApplied());
  if (access_ != Access::kWrite || !state_dirty_) return Status::Ok();
  AERO_RETURN_IF_ERROR(SaveState(fs_, dir_, state_));
  state_dirty_ = false;
  return Status::Ok();
}

}  // namespace aero::node
