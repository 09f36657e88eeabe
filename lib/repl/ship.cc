#include "repl/ship.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/random.h"
#include "common/sha256.h"
#include "crypto/decrypting_fs.h"
#include "history/async_chain.h"
#include "node/layout.h"
#include "node/permit.h"
#include "node/own_folder.h"
#include "node/shipped_position.h"
#include "node/store.h"
#include "repl/ship_bodies.h"
#include "repl/sign_hooks.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "wal/record.h"
#include "wal/wal_scan.h"

namespace aero::repl {

namespace {

using history::Digest;
using Position = node::ShippedPosition;

// One segment being cut: whole write sets [first, last] at WAL bytes [start, end).
struct Cut {
  segment::SegmentHeader header;
  uint64_t start = 0, end = 0;
  uint64_t last_start = 0;  // where its last write set starts
  std::shared_ptr<StreamedBody> body;  // LOG-30: the scan's bytes; null: copied from the log
  bool empty() const { return header.first_commit == 0; }
};

// A segment's temp file, written and fsynced, not yet renamed.
struct Written {
  std::string name, final_path, tmp;
  segment::WrittenSegment seg;  // the segment: its size and seal (what a signature states, SIG-1)
  uint64_t file_bytes = 0;      // the file: larger in an encryption envelope (ENC-12)
  bool streamed = false;        // LOG-30
};

// ship-wal in named steps (specs/REPLICATION_LOG_FLOW.md, "Shipping"):
// OpenNode (1), LockTarget and CheckTarget (2), LoadPosition (3), then Cut
// (4) with Publish (5) running beside the scan, and Damage (6).
class Shipper {
 public:
  Shipper(Fs& fs, const ShipOptions& o, ShipReport& rep)
      : fs_(fs), o_(o), rep_(rep), own_keys_(OwnKeys(o)), target_fs_(fs, &own_keys_) {}

  Status Run() {
    Status s = RunSteps();
    // COMPAT-7: a log AeroDB truncated in place during this run reads as
    // damage or another history; it is AeroDB's checkpoint, not ours to judge.
    if (!s.ok() && s.code() != Code::kLocked && AeroCheckpointRaced()) {
      return Status(Code::kLocked,
                    Problem("log checkpointed while shipping", wal_path_,
                            "AeroDB's checkpoint truncated it during this run (" + s.message() + ")"),
                    "re-run ship-wal; it follows the checkpoint by CommitId");
    }
    return s;
  }

 private:
  Status RunSteps() {
    AERO_ASSIGN_OR_RETURN(signer_, LoadSidecarSigner(o_.signing_key));  // SIG-12: before anything is written
    AERO_RETURN_IF_ERROR(OpenNode());
    AERO_RETURN_IF_ERROR(LockTarget());
    AERO_RETURN_IF_ERROR(CheckTarget());
    AERO_RETURN_IF_ERROR(RemoveLeftTemps());
    AERO_RETURN_IF_ERROR(MarkClaimArchive());
    AERO_RETURN_IF_ERROR(CheckTargetHistory(listed_.history_files));  // LOG-21: step 2's listing
    listed_ = archive::Catalog{};  // served: not held beside step 7's listing
    AERO_RETURN_IF_ERROR(SignHistory());  // SIG-9: each sidecar before its file
    AERO_RETURN_IF_ERROR(PublishHistory());
    AERO_RETURN_IF_ERROR(LoadPosition());
    if (pos_.commit == state_.applied_commit) return Status::Ok();  // nothing new
    // LOG-25: what is cut must be durable; a write set the open saw may
    // still be in a live writer's page cache.
    AERO_RETURN_IF_ERROR(node_->SyncWal());
    AERO_RETURN_IF_ERROR(CheckResume());
    AERO_RETURN_IF_ERROR(CutAndPublish());
    // LOG-21: a promotion that raced with this run is seen now, not at the
    // next run: the segments just published stay (superseded where beyond
    // the new branch point), and this node is fenced.
    return RecheckTargetHistory();
  }

  // COMPAT-7: in an enrolled directory, whether AeroDB checkpointed since
  // the open: the log holds fewer bytes than the open proved, is another
  // file, or an open now finds another base (or a history cut).
  bool AeroCheckpointRaced() {
    if (!node_ || !node_->enrolment()) return false;
    Result<FileInfo> now = fs_.Stat(wal_path_);
    if (!now.ok() && now.status().code() != Code::kNotFound) return false;  // FM-139: the fault's own 10
    const std::optional<FileInfo>& held = node_->wal_info();
    if (!now.ok() || !held || now->inode != held->inode || now->device != held->device ||
        now->size < state_.applied_wal_offset) {
      return true;
    }
    Result<std::unique_ptr<node::Node>> again = node::Node::Open(fs_, o_.data_dir, node::Access::kRead);
    if (!again.ok()) return again.status().code() == Code::kGap;
    return (*again)->state().base_commit != state_.base_commit;
  }

  // Step 1 (LOG-25): read-only, no node lock; the write sets the open saw
  // are made durable before any is cut.
  Status OpenNode() {
    AERO_ASSIGN_OR_RETURN(node_, node::Node::Open(fs_, o_.data_dir, node::Access::kRead));
    state_ = node_->state();
    system_id_ = node_->identity().system_id;
    wal_path_ = JoinPath(o_.data_dir, node::kWalFile);
    // MODEL-9: halted (6) first, then fenced/promoting/role (5).
    AERO_RETURN_IF_ERROR(node::Permit(node_->authority(), node::Operation::kShip, o_.data_dir));
    return PersistAeroCheckpoint();
  }

  // COMPAT-7: the open followed AeroDB's checkpoint at N with H(N) from a
  // shipped position. This run may move that position past N, so the new
  // base goes into state.json first (a writer's open persists it, under the
  // node lock for this step only); if the lock is held, nothing is shipped.
  Status PersistAeroCheckpoint() {
    if (!node_->open_report().followed_aero_checkpoint) return Status::Ok();
    Result<std::unique_ptr<node::Node>> w = node::Node::Open(fs_, o_.data_dir, node::Access::kWrite);
    if (w.ok()) return Status::Ok();
    if (w.status().code() != Code::kLocked) return w.status();
    return Status(Code::kLocked,
                  Problem("cannot record AeroDB's checkpoint", o_.data_dir,
                          "another aerodb-repl run holds the node lock, and the base at commit " +
                              std::to_string(*node_->open_report().followed_aero_checkpoint) +
                              " must be recorded before shipping past it"),
                  "re-run ship-wal when that run has finished; nothing was shipped");
  }

  // The target through the one factory (OBJ-1): a directory or an s3:// archive.
  Status OpenTarget() {
    AERO_ASSIGN_OR_RETURN(target_, archive::OpenArchive(target_fs_, o_.target));
    return Status::Ok();
  }

  // Whether `name` is in the target: lstat in a directory (a symlink or a
  // directory counts), a HEAD in an object store.
  Result<bool> InTarget(const std::string& name) {
    if (archive::IsObjectStore(o_.target)) {
      Result<std::unique_ptr<ReadableFile>> f = target_->OpenRead(name);
      if (f.ok()) return true;
      if (f.status().code() == Code::kNotFound) return false;
      return f.status();
    }
    Result<FileInfo> there = fs_.LStat(target_->PathOf(name));
    if (there.ok()) return true;
    if (there.status().code() == Code::kNotFound) return false;
    return there.status();
  }

  // Step 2: the target exists, and no other run ships to it (LOG-25).
  Status LockTarget() {
    if (archive::IsObjectStore(o_.target)) {
      AERO_RETURN_IF_ERROR(OpenTarget());
      rep_.target = target_->location();  // OBJ-12: the normalized s3:// URL
    } else {
      AERO_ASSIGN_OR_RETURN(const std::optional<FileInfo> tinfo, StatIfThere(fs_, o_.target));  // FM-139
      if (!tinfo || !tinfo->is_dir) {
        return Status(Code::kNotFound,
                      Problem("target not found", o_.target,
                              tinfo ? "a file, not a directory" : "no such directory"),
                      "create the outbox or archive directory first");
      }
      AERO_RETURN_IF_ERROR(node::RefuseInsideOwnFolder(o_.data_dir, o_.target, "--to"));  // NODE-13
      AERO_RETURN_IF_ERROR(OpenTarget());
      AERO_ASSIGN_OR_RETURN(rep_.target, RealPath(o_.target));
    }
    // LOG-2: a directory by its realpath, a store by its endpoint and URL.
    const std::string key_source =
        archive::IsObjectStore(o_.target) ? target_->KeySource() : rep_.target;
    pos_path_ = node::ShippedPositionPath(o_.data_dir, key_source);
    AERO_RETURN_IF_ERROR(fs_.MakeDir(JoinPath(o_.data_dir, node::kShippedDir)));
    const std::string lock_path = node::ShippedLockPath(o_.data_dir, key_source);
    Result<std::unique_ptr<FileLock>> lock = fs_.Lock(lock_path);
    if (!lock.ok()) {
      if (lock.status().code() != Code::kLocked) return lock.status();
      return Status(Code::kLocked,
                    Problem("ship in progress", rep_.target,
                            "another ship-wal to this target holds '" + lock_path + "'"),
                    "wait for it to finish; runs to other targets are not blocked");
    }
    target_lock_ = std::move(lock).value();
    // LOG-2: a position saved before a store's key held its endpoint (the
    // URL alone) is this target's: moved to the new key once, under its lock.
    if (key_source != rep_.target && fs_.Stat(pos_path_).status().code() == Code::kNotFound) {
      const std::string old = node::ShippedPositionPath(o_.data_dir, rep_.target);
      if (fs_.Stat(old).ok()) {
        AERO_RETURN_IF_ERROR(fs_.Rename(old, pos_path_));
        AERO_RETURN_IF_ERROR(fs_.SyncDir(JoinPath(o_.data_dir, node::kShippedDir)));
        (void)fs_.Remove(node::ShippedLockPath(o_.data_dir, rep_.target));
      }
    }
    return LockDirectory();
  }

  // LOG-31: the run's id, which its temp names carry; then the directory
  // itself, which every run into it locks whatever its path or node.
  Status LockDirectory() {
    std::array<uint8_t, 8> id{};
    AERO_RETURN_IF_ERROR(RandomBytes(id.data(), id.size(), "the run id of ship-wal"));
    run_ = ToHex(id);
    if (archive::IsObjectStore(o_.target)) return Status::Ok();  // OBJ-7: publishes are conditional
    Result<std::unique_ptr<FileLock>> dir = fs_.LockDirectory(o_.target);
    if (dir.ok() && *dir) {
      dir_lock_ = std::move(dir).value();
      return Status::Ok();
    }
    if (!dir.ok()) {
      if (dir.status().code() != Code::kLocked) return dir.status();
      return Status(Code::kLocked,
                    Problem("ship in progress", rep_.target,
                            "another ship-wal, or another process, holds a lock on this directory"),
                    "wait for it to finish; if two databases ship into one directory, give each its own "
                    "(a flock(1) on the directory by another tool holds it too)");
    }
    // NFS and the like: runs by another path are not serialised; the run's
    // temp names are its own, so neither writes the other's file.
    rep_.directory_lock_warning = Status(
        Code::kIo,
        Problem("cannot lock", rep_.target,
                "its file system does not lock a directory for every host (NFS, SMB, FUSE, 9p, AFS); runs into it "
                "by another path are not serialised"),
        "nothing is lost: each run writes its own temp files (LOG-31); leftovers there are removed by a run "
        "that can lock the directory, or by hand once no run is shipping");
    return Status::Ok();
  }

  // LOG-31, once the target is checked: under the directory's lock no
  // other run writes here, so every temp file of ship-wal's shapes is an
  // earlier run's leftover.
  Status RemoveLeftTemps() {
    if (!dir_lock_) return Status::Ok();  // another run may be writing them
    for (const archive::CatalogSkip& e : listed_.skipped) {  // the check's listing, taken under the lock
      if (!e.temp || e.type != archive::ArchiveEntry::Type::kFile || !IsShipTemp(e.name)) continue;
      Status removed = fs_.Remove(JoinPath(o_.target, e.name));
      if (removed.code() == Code::kNotFound) continue;
      if (!removed.ok()) {
        // FM-138: another user's leftover in a shared (sticky) target is
        // not this run's to remove; it never stops the publish.
        rep_.left_temps_warning =
            Status(removed.code(), Problem("left temp file not removed", JoinPath(o_.target, e.name), removed.message()),
                   "nothing is lost: readers ignore it (ARC-3); remove it as its owner");
        continue;
      }
      ++rep_.left_temps_removed;
    }
    return Status::Ok();
  }

  // ".NAME[.RUN].tmp" (NAME a segment name, a history file's name or the
  // claim marker, each perhaps followed by ".sig": its sidecar) or
  // ".EEEEEEEE-FFFFFFFFFFFFFFFF[.RUN].seg.body.tmp".
  static bool IsShipTemp(std::string_view n) {
    if (n.size() < 6 || n[0] != '.' || n.substr(n.size() - 4) != ".tmp") return false;
    n = n.substr(1, n.size() - 5);
    constexpr std::string_view kBody = ".seg.body", kSig = ".sig";
    const bool body = n.size() > kBody.size() && n.substr(n.size() - kBody.size()) == kBody;
    if (body) n.remove_suffix(kBody.size());
    if (n.size() > 17 && n[n.size() - 17] == '.' && IsLowerHex(n.substr(n.size() - 16))) n.remove_suffix(17);
    if (body) return n.size() == 25 && n[8] == '-' && IsLowerHex(n.substr(0, 8)) && IsLowerHex(n.substr(9));
    if (n.size() > kSig.size() && n.substr(n.size() - kSig.size()) == kSig) n.remove_suffix(kSig.size());
    return segment::ParseSegmentName(n).has_value() || history::ParseHistoryFileName(n).has_value() ||
           n == history::kClaimArchiveMarker;
  }
  static bool IsLowerHex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  }

  // LOG-31: a temp name in the target that only this run writes.
  std::string TempName(const std::string& name) const { return HiddenName(name, "." + run_ + ".tmp"); }

  // Step 2: what the target already holds. A newer epoch fences this node
  // (LOG-17); a segment of another database means the wrong target (5).
  Status CheckTarget() {
    // ARC-3: the target as every reader lists it.
    AERO_ASSIGN_OR_RETURN(listed_, archive::SegmentCatalog(*target_).List());
    const archive::Catalog& listed = listed_;
    std::optional<segment::SegmentNameInfo> newest;
    std::string newest_name;
    std::optional<uint64_t> fence_first;
    uint32_t fence_epoch = 0;
    for (const archive::CatalogSegment& e : listed.segments) {
      const segment::SegmentNameInfo& info = e.info;
      if (info.epoch > state_.epoch) {
        // Only a complete segment of this database with a valid header
        // counts: a stray or half-copied file must not fence a primary for good.
        // FM-139: one that cannot be read is not known to be stray: the fault.
        // (An encrypted one without its key, ENC-14, or one gone since the
        // listing proves nothing either way, as before.)
        Result<std::unique_ptr<ReadableFile>> f = target_->OpenRead(e.name());
        if (!f.ok() && f.status().code() == Code::kIo) return f.status();
        if (!f.ok()) continue;
        segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &info);
        if (c.state == segment::SegmentState::kIoError && c.io.code() == Code::kIo) return c.io;
        if (c.state != segment::SegmentState::kValid || !(c.header.system_id == system_id_)) {
          continue;
        }
        if (info.epoch > fence_epoch) {
          fence_epoch = info.epoch;
          fence_first.reset();
        }
        if (info.epoch == fence_epoch) {
          fence_first = std::min(fence_first.value_or(UINT64_MAX), info.first_commit);
        }
      }
      if (!newest || info.first_commit > newest->first_commit) {
        newest = info;
        newest_name = e.name();
      }
    }
    if (fence_epoch > 0) return Fence(fence_epoch, *fence_first - 1);
    if (!newest) return Status::Ok();
    Result<std::unique_ptr<ReadableFile>> f = target_->OpenRead(newest_name);
    if (!f.ok() && f.status().code() == Code::kIo) return f.status();  // FM-139: the check is not skipped on a fault
    if (!f.ok()) return Status::Ok();  // gone since the listing, or encrypted without its key (ENC-14)
    segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &*newest);
    if (c.state == segment::SegmentState::kIoError && c.io.code() == Code::kIo) return c.io;
    if (c.state == segment::SegmentState::kValid && c.header.system_id == system_id_ &&
        c.header.epoch == state_.epoch) {
      target_last_ = c.header.last_commit;  // LOG-23: where a target without a position ends
    }
    if (c.state != segment::SegmentState::kCorrupt && c.expected_size > 0 &&
        !(c.header.system_id == system_id_)) {
      return Status(Code::kRefused,
                    Problem("foreign file", target_->PathOf(newest_name),
                            "system id " + c.header.system_id.ToHex() + ", this node is " +
                                system_id_.ToHex()),
                    "this target belongs to another database; ship to the right directory");
    }
    return Status::Ok();
  }

  // MODEL-7: `fenced` is recorded before refusing, under the node lock
  // taken for this step only (LOG-25).
  Status Fence(uint32_t epoch, uint64_t branch_commit) {
    const node::Fenced f{epoch, branch_commit, rep_.target};
    node::Authority fenced;  // the refusal as every later run gets it (MODEL-9)
    fenced.fenced = f;
    const Status refusal = node::Permit(fenced, node::Operation::kShip, o_.data_dir);
    AERO_ASSIGN_OR_RETURN(bool recorded, node::FenceIfUnlocked(fs_, o_.data_dir, f));
    return recorded ? refusal : node::NotRecorded(refusal, o_.data_dir);
  }

  // HFILE-5: the claim-archive marker. --claim-archive writes it when
  // absent; a marker of another system is the wrong target (5) either way.
  Status MarkClaimArchive() {
    const std::string name(history::kClaimArchiveMarker);
    Status checked = archive::CheckClaimArchive(*target_, system_id_);
    if (checked.ok()) {
      rep_.claim_archive = true;
      return Status::Ok();
    }
    if (checked.code() != Code::kNotFound) return checked;
    if (!o_.claim_archive) return Status::Ok();  // an outbox: no marker, none wanted
    // Identical bytes for one system: a racing primary of the same database
    // publishes the same file, and either publish leaves the right marker.
    AERO_RETURN_IF_ERROR(target_->ClaimsAllowed());  // OBJ-7
    Status published = archive::PublishBytesExclusive(fs_, *target_, TempName(name), name,
                                                      history::EncodeClaimArchiveMarker(system_id_));
    if (published.code() == Code::kRefused) published = archive::CheckClaimArchive(*target_, system_id_);
    AERO_RETURN_IF_ERROR(published);
    rep_.claim_archive = rep_.marked_claim_archive = true;
    return Status::Ok();
  }

  // LOG-21, formats/history-file.md "Publication": the target's history
  // files. One of a later epoch whose lineage continues this node's epoch
  // fences it (MODEL-7); one that contradicts this node's lineage is
  // another claim of an epoch (4).
  Status CheckTargetHistory(const std::vector<std::string>& names) {
    AERO_ASSIGN_OR_RETURN(std::vector<history::HistoryFile> files,
                          archive::ReadHistoryFiles(*target_, system_id_, names));
    const std::vector<history::LineageEntry> mine = node_->history().LineageThrough(state_.epoch);
    for (const history::HistoryFile& h : files) {
      const size_t common = std::min<size_t>(h.lineage.size(), mine.size());
      if (!std::equal(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(common), h.lineage.begin())) {
        return RivalClaim(h, "its lineage is not this node's: another node claimed an epoch of it");
      }
      if (h.epoch == state_.epoch && h.claimant != node_->history().At(h.epoch)->claimant) {
        return RivalClaim(h, "epoch " + std::to_string(h.epoch) + " was claimed by another node too");
      }
      if (h.epoch > state_.epoch) {
        // SIG-10: in required mode (the node's own trust directory, SIG-4)
        // only a signed claim fences this node; an unsigned or forged one
        // is refused with its own code, the node left writable.
        AERO_ASSIGN_OR_RETURN(std::unique_ptr<SignatureGate> gate,
                              MakeSignatureGate(fs_, *target_, "", o_.data_dir, system_id_));
        if (gate) AERO_RETURN_IF_ERROR(gate->JudgeHistoryFile(history::HistoryFileName(h.epoch)).ToStatus());
        return Fence(state_.epoch + 1, h.lineage[state_.epoch].branch_commit);
      }
    }
    return Status::Ok();
  }

  // LOG-21 after a publish: a new listing, step 2's being from before it.
  Status RecheckTargetHistory() {
    AERO_ASSIGN_OR_RETURN(archive::Catalog now, archive::SegmentCatalog(*target_).List());
    return CheckTargetHistory(now.history_files);
  }

  // FM-56: two claims of one epoch (local promotes, or two claim archives).
  Status RivalClaim(const history::HistoryFile& h, const std::string& detail) {
    return Status(Code::kDiverged, Problem("diverged", target_->PathOf(history::HistoryFileName(h.epoch)), detail),
                  "two nodes claimed this history: compare the two primaries ('aerodb-repl "
                  "check-history -D A -D B'), keep one and rebuild the other as a replica in a new "
                  "directory");
  }

  // SIG-9: the sidecars of this node's own history files (CheckTargetHistory
  // found no other claim under their names), before PublishHistory.
  Status SignHistory() {
    if (!signer_) return Status::Ok();
    for (const history::HistoryFile& h : node_->history().files()) {
      if (h.epoch > state_.epoch) break;
      AERO_RETURN_IF_ERROR(signer_->SignHistory(fs_, *target_, h, run_));
    }
    return Status::Ok();
  }

  // LOG-21: the history files of this node's lineage that the target lacks,
  // before any segment of the run. Exclusive: a racing claim under the same
  // name is found by the next CheckTargetHistory (4).
  Status PublishHistory() {
    for (const history::HistoryFile& h : node_->history().files()) {
      if (h.epoch > state_.epoch) break;
      const std::string name = history::HistoryFileName(h.epoch);
      AERO_ASSIGN_OR_RETURN(bool there, InTarget(name));
      if (there) continue;  // CheckTargetHistory judged it
      AERO_RETURN_IF_ERROR(node_->CheckHistoryCopy(h));  // RECOV-2: never publish a copy the log contradicts
      AERO_RETURN_IF_ERROR(target_->ClaimsAllowed());  // OBJ-7
      Status published = archive::PublishBytesExclusive(fs_, *target_, TempName(name), name,
                                                        history::EncodeHistoryFile(h));
      if (published.code() == Code::kRefused) return RecheckTargetHistory();
      AERO_RETURN_IF_ERROR(published);
      rep_.history_files.push_back(name);
    }
    return Status::Ok();
  }

  // Step 3 (LOG-2): where this target stands.
  Status LoadPosition() {
    AERO_ASSIGN_OR_RETURN(std::optional<Position> saved, node::LoadShippedPosition(fs_, pos_path_));
    // MODEL-8 (after promote): a primary of epoch E >= 2 ships only the
    // write sets it created; those through b_E are other primaries'. A
    // position below b_E was saved before this epoch (a rejoined node
    // promoted again) and is not resumed.
    const history::HistoryFile* mine = node_->history().At(state_.epoch);
    if (saved && !(mine && saved->commit < mine->branch_commit)) {
      pos_ = *saved;
    } else {
      pos_ = Position{rep_.target, state_.epoch, state_.base_commit, state_.base_digest,
                      state_.base_commit, 0, std::nullopt, std::nullopt};
      if (mine && mine->branch_commit > state_.base_commit) {
        pos_.commit = mine->branch_commit;
        pos_.digest = mine->branch_digest;
      }
    }
    // LOG-23: a target with no position here (moved or copied: its path is
    // new) that holds our segments of this epoch ending below the base would
    // get a gap from a ship at the base; its newest segment is the position.
    if (!saved && target_last_ && *target_last_ < state_.base_commit &&
        *target_last_ >= (mine ? mine->branch_commit : 0)) {
      pos_.commit = *target_last_;
    }
    if (pos_.commit < state_.base_commit) {  // LOG-23
      if (!o_.restart_at_base) {
        return Status(
            Code::kGap,
            Problem("gap before commit " + std::to_string(state_.base_commit + 1) + " in",
                    rep_.target,
                    "commits " + std::to_string(pos_.commit + 1) + ".." +
                        std::to_string(state_.base_commit) +
                        " were checkpointed before being shipped"),
            // COMPAT-8: the commits are in the base snapshot only; say where.
            "commits " + std::to_string(pos_.commit + 1) + ".." +
                std::to_string(state_.base_commit) + " are only in " +
                JoinPath(JoinPath(o_.data_dir, node::kSnapshotsDir),
                         state_.base_snapshot.value_or("?")) +
                ": replicas behind commit " + std::to_string(state_.base_commit) +
                " need 'snapshot install' of a 'snapshot export' of this node; continue with "
                "--restart-at-base");
      }
      pos_ = Position{rep_.target, state_.epoch, state_.base_commit, state_.base_digest,
                      state_.base_commit, 0, std::nullopt, std::nullopt};
      AERO_RETURN_IF_ERROR(node::SaveShippedPosition(fs_, o_.data_dir, pos_path_, pos_));
    }
    if (pos_.commit > state_.applied_commit) {
      return Status(Code::kDiverged,
                    Problem("shipped position ahead of this node", pos_path_,
                            "it records commit " + std::to_string(pos_.commit) +
                                ", this node holds " + std::to_string(state_.applied_commit)),
                    "the directory was restored from an older copy: compare it with the target "
                    "('aerodb-repl verify TARGET' shows its last commit and digest) before "
                    "shipping from it");
    }
    rep_.from_commit = rep_.shipped_commit = pos_.commit;
    return Status::Ok();
  }

  // LOG-24: where the scan starts. A position without `last_set` (written
  // before LOG-24) is not resumed at its offset: the scan starts at the base
  // and checks the position's digest as it passes it (FM-12), once.
  Status CheckResume() {
    resume_ = pos_.base == state_.base_commit && pos_.wal_offset > 0 &&
              pos_.wal_offset <= state_.applied_wal_offset && pos_.last_set_offset &&
              pos_.last_set_sha;
    if (!resume_) return Status::Ok();
    // The resume trusts `pos.digest` without hashing the log from base; the
    // last shipped write set's bytes must still be this log's.
    AERO_ASSIGN_OR_RETURN(Digest here, HashWal(*pos_.last_set_offset, pos_.wal_offset));
    if (here == *pos_.last_set_sha) return CheckResumeCommit();
    return Status(Code::kDiverged,
                  Problem("shipped position disagrees with the log", pos_path_,
                          "the write set of commit " + std::to_string(pos_.commit) + " (bytes " +
                              std::to_string(*pos_.last_set_offset) + ".." +
                              std::to_string(pos_.wal_offset) +
                              " of wal/wal.log) is not the one shipped"),
                  "the position comes from another copy of this database: ship this node to a "
                  "target of its own, or remove the position once you know the target holds "
                  "this node's history");
  }

  // LOG-24: the write set that ends at the position's offset must be its
  // commit: a position whose commit was edited (its offset and last_set
  // intact) would otherwise have the scan meet commit c' + 1 where c + 1 is
  // expected, and halt a primary whose log is sound. The file is wrong: 1,
  // the node not halted.
  Status CheckResumeCommit() {
    if (pos_.wal_offset < wal::kCommitRecordBytes) {
      return node::InvalidShippedPosition(pos_path_, "'wal_offset' is inside the first record");
    }
    char rec[wal::kCommitRecordBytes];
    AERO_RETURN_IF_ERROR(ReadExactlyAt(*hash_file_, pos_.wal_offset - sizeof rec, rec, sizeof rec));
    uint64_t commit = 0, sequence = 0;
    if (wal::DecodeCommitRecord(std::string_view(rec, sizeof rec), &commit, &sequence) &&
        commit == pos_.commit) {
      return Status::Ok();
    }
    return node::InvalidShippedPosition(
        pos_path_, "the write set ending at byte " + std::to_string(pos_.wal_offset) +
                       " of wal/wal.log is not commit " + std::to_string(pos_.commit));
  }

  // LOG-25: every read of the log goes through the file the open validated.
  Result<std::unique_ptr<ReadableFile>> OpenWal() {
    AERO_ASSIGN_OR_RETURN(auto f, fs_.OpenRead(wal_path_));
    AERO_ASSIGN_OR_RETURN(FileInfo now, f->Info());
    const std::optional<FileInfo>& held = node_->wal_info();
    if (!held || held->device != now.device || held->inode != now.inode) {
      return Status(Code::kLocked,
                    Problem("log replaced while shipping", wal_path_, "a checkpoint replaced it"),
                    "re-run ship-wal; it resumes from the saved position");
    }
    return f;
  }

  // SHA-256 of log bytes [from, to), read in chunks through one file held
  // from the start, so that the position is saved even after a checkpoint
  // replaced the log (calls are never concurrent: positions are saved in
  // CommitId order).
  Result<Digest> HashWal(uint64_t from, uint64_t to) {
    if (!hash_file_) {
      AERO_ASSIGN_OR_RETURN(hash_file_, OpenWal());
    }
    ReadableFile* f = hash_file_.get();
    Sha256 sha;
    std::string buf(static_cast<size_t>(std::min<uint64_t>(1 << 20, to - from)), '\0');
    for (uint64_t at = from; at < to;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - at));
      AERO_RETURN_IF_ERROR(ReadExactlyAt(*f, at, buf.data(), n));
      sha.Update(std::string_view(buf.data(), n));
      at += n;
    }
    return sha.Finish();  // history::Digest is a Sha256Digest
  }

  Result<Digest> DigestAt(uint64_t commit) {
    if (commit == opt_.base_commit) return *opt_.base_digest;
    std::optional<Digest> d = chain_->Get(commit);
    if (!d) {
      return Status(Code::kInternal,
                    Problem("no history digest at commit", wal_path_, std::to_string(commit)));
    }
    return *d;
  }

  // Step 4 (LOG-1): whole write sets from the position to applied, checked
  // as apply would check them (LOG-22) before any segment holds them;
  // segments are published beside the scan (step 5).
  Status CutAndPublish() {
    AERO_ASSIGN_OR_RETURN(auto scan_file, OpenWal());
    if (!hash_file_) {
      AERO_ASSIGN_OR_RETURN(hash_file_, OpenWal());
    }
    opt_.start_offset = resume_ ? pos_.wal_offset : 0;
    progress_total_ = state_.applied_wal_offset > opt_.start_offset
                          ? state_.applied_wal_offset - opt_.start_offset
                          : 0;
    Progress(opt_.start_offset);
    opt_.base_commit = resume_ ? pos_.commit : state_.base_commit;
    opt_.base_digest = resume_ ? pos_.digest : state_.base_digest;
    // HIST-2 runs on a worker thread beside the scan (CRCs, REC rules); each
    // WAL byte is read once by the scan, hashed once, and handed from the
    // scan's read block to its segment's writer thread (LOG-30).
    chain_.emplace(*opt_.base_digest);
    opt_.chain = &*chain_;
    wal::WalScanner::RecordFn on_record;
    if (!o_.zstd && !o_.encryption && o_.stream_hold_bytes > 0) {  // LOG-30
      router_.emplace(
          fs_, [this](uint64_t first) { return BodyTemp(first); }, o_.max_segment_bytes,
          o_.stream_hold_bytes);
      if (pos_.commit == *opt_.base_commit) router_->Arm();  // the scan starts after the position
      on_record = [this](const wal::Record& rec) { OnRecord(rec); };
    }
    wal::ScanResult r = wal::WalScanner(scan_file.get(), opt_).Run(
        on_record, [this](const wal::WriteSet& ws) { return OnWriteSet(ws); });
    if (router_) cut_.body = router_->TakeOpen();
    if (!cut_.empty()) chain_->Keep(cut_.header.last_commit);
    Status published = WaitInflight();
    Status position_saved = SavePosition();  // what was published, even before a failure
    AERO_RETURN_IF_ERROR(failure_);
    AERO_RETURN_IF_ERROR(published);
    AERO_RETURN_IF_ERROR(position_saved);
    if (stopped_) return Status::Ok();  // FOLLOW-4: what was cut is published, its position saved
    AERO_RETURN_IF_ERROR(CheckScanned(r));
    if (!cut_.empty()) {
      AERO_ASSIGN_OR_RETURN(Written w, WriteTemp(cut_));
      AERO_RETURN_IF_ERROR(PublishWritten(cut_, w));
    }
    AERO_RETURN_IF_ERROR(SavePosition());
    Progress(state_.applied_wal_offset);
    return Status::Ok();
  }

  // OPS-7: the scan's offset as bytes of this run's WAL range, every MiB or
  // 1/64 of the range, whichever is less (never past the total).
  void Progress(uint64_t offset) {
    if (!o_.progress) return;
    const uint64_t done = std::min(offset - opt_.start_offset, progress_total_);
    if (done < progress_next_ && done < progress_total_) return;
    progress_next_ = done + std::min<uint64_t>(1u << 20, progress_total_ / 64 + 1);
    o_.progress(done, progress_total_);
  }

  // LOG-30: each record the scan checked goes to its segment's temp file.
  void OnRecord(const wal::Record& rec) {
    router_->OnRecord(rec, BodyRouter::OpenCut{cut_.empty(), cut_.start},
                      prev_commit_ ? *prev_commit_ + 1 : pos_.commit + 1);
  }

  // Where a streamed body is written before its last commit is known.
  std::string BodyTemp(uint64_t first_commit) const {
    char name[64];
    std::snprintf(name, sizeof(name), ".%08x-%016llx.%s.seg.body.tmp", static_cast<unsigned>(state_.epoch),
                  static_cast<unsigned long long>(first_commit), run_.c_str());
    return target_->TempPath(name);
  }

  // The scan's callback: false stops it.
  bool OnWriteSet(const wal::WriteSet& ws) {
    Progress(ws.end_offset);
    // Ship publishes nothing apply would refuse: each write set must follow
    // the one before it (REC-8 sequences, REC-9 CommitIds) before any
    // segment holds it; the first that does not stops the scan (LOG-22).
    if (prev_commit_ && ws.commit_id != *prev_commit_ + 1) {
      wal_damage_ = "commit-order: commit " + std::to_string(ws.commit_id) + " follows commit " +
                    std::to_string(*prev_commit_) + " at offset " +
                    std::to_string(ws.start_offset);
      return false;
    }
    if (prev_sequence_ && ws.first_sequence != *prev_sequence_ + 1) {
      wal_damage_ = "sequence: " + std::to_string(ws.first_sequence) + " follows " +
                    std::to_string(*prev_sequence_) + " at offset " +
                    std::to_string(ws.start_offset);
      return false;
    }
    prev_commit_ = ws.commit_id;
    prev_sequence_ = ws.last_sequence;
    if (ws.commit_id <= pos_.commit) {  // already shipped (a resume after a checkpoint)
      if (router_) router_->Skip();
      if (ws.commit_id == pos_.commit) {
        chain_->Keep(pos_.commit);
        check_pos_ = true;
        if (router_) router_->Arm();
      }
      return ws.commit_id < state_.applied_commit;
    }
    if (!cut_.empty() && ws.end_offset - cut_.start > o_.max_segment_bytes) {
      chain_->Keep(cut_.header.last_commit);  // the write set before this one
      if (router_) cut_.body = router_->CloseCut();
      failure_ = Launch(cut_);
      if (!failure_.ok()) return false;
      cut_ = Cut{};
      if (o_.stop && o_.stop->load()) return !(stopped_ = true);  // FOLLOW-4: at a segment boundary, stop
    }
    if (cut_.empty()) {
      cut_.header.system_id = system_id_;
      cut_.header.epoch = state_.epoch;
      cut_.header.first_commit = ws.commit_id;
      cut_.header.first_sequence = ws.first_sequence;
      cut_.start = ws.start_offset;
      if (router_) router_->Begin(ws.start_offset, ws.commit_id);
    } else if (router_) {
      router_->Join();
    }
    cut_.header.last_commit = ws.commit_id;
    cut_.header.last_sequence = ws.last_sequence;
    cut_.header.record_count += ws.records;
    cut_.end = ws.end_offset;
    cut_.last_start = ws.start_offset;
    return ws.commit_id < state_.applied_commit;
  }

  // Step 6 (LOG-22): the scan must have reached applied, in order, with the
  // digest the node acknowledged, before the last segment is written.
  Status CheckScanned(const wal::ScanResult& r) {
    auto order = std::find_if(r.findings.begin(), r.findings.end(),
                              [](const wal::ScanFinding& f) { return f.kind == "commit-order"; });
    std::string detail = wal_damage_;
    if (detail.empty() && !cut_.empty() && cut_.header.last_commit == state_.applied_commit) {
      const std::optional<Digest> at_applied = chain_->Get(state_.applied_commit);
      if (at_applied && *at_applied != state_.applied_digest) {
        detail = "the history digest at commit " + std::to_string(state_.applied_commit) +
                 " is not the one state.json acknowledged";
      }
    }
    if (detail.empty() && r.last_commit == state_.applied_commit && order == r.findings.end()) {
      return Status::Ok();
    }
    if (detail.empty()) {
      if (r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
      detail = order != r.findings.end() ? order->detail : r.stop.detail;
    }
    const uint64_t at = !wal_damage_.empty() && prev_commit_
                            ? *prev_commit_ + 1
                            : r.last_commit.value_or(pos_.commit) + 1;
    const Status refusal(Code::kDamage,
                         Problem("wal cannot be trusted", wal_path_,
                                 detail + " before commit " +
                                     std::to_string(state_.applied_commit) +
                                     " that this primary acknowledged"),
                         "this primary is halted; restore it from a healthy copy");
    if (AeroCheckpointRaced()) return refusal;  // Run() reports 7; no halt
    // LOG-22, under the node lock taken for this step only (LOG-25).
    AERO_ASSIGN_OR_RETURN(bool recorded,
                          node::HaltIfUnlocked(fs_, o_.data_dir,
                                               node::HaltReason{"corrupt", wal_path_, detail, at}));
    return recorded ? refusal : node::NotRecorded(refusal, o_.data_dir);
  }

  // Step 5, first half: the temp file, streamed (LOG-30) or copied, and
  // fsynced. May run for two segments at once.
  Result<Written> WriteTemp(Cut& c) {
    // LOG-30: the body the scan handed over; null if it must be copied. On
    // any return before Finish the temp file is removed.
    std::unique_ptr<segment::StreamedSegment> streamed;
    if (c.body) {
      std::shared_ptr<StreamedBody> body = std::move(c.body);
      AERO_ASSIGN_OR_RETURN(streamed, body->Take(c.start, c.end));
    }
    if (c.header.first_commit == pos_.commit + 1) {
      if (check_pos_) {
        AERO_ASSIGN_OR_RETURN(Digest at_pos, DigestAt(pos_.commit));
        if (at_pos != pos_.digest) {
          return Status(Code::kDiverged,
                        Problem("shipped position disagrees with the log", pos_path_,
                                "digest at commit " + std::to_string(pos_.commit) + " differs"),
                        "the target holds another history than this node's log: ship this node "
                        "to a target of its own ('aerodb-repl verify TARGET' shows what it holds)");
        }
      }
      c.header.digest_before = pos_.digest;
    } else {
      AERO_ASSIGN_OR_RETURN(c.header.digest_before, DigestAt(c.header.first_commit - 1));
    }
    AERO_ASSIGN_OR_RETURN(c.header.digest_after, DigestAt(c.header.last_commit));
    Written w;
    w.name = segment::SegmentName(c.header.epoch, c.header.first_commit, c.header.last_commit);
    w.final_path = target_->PathOf(w.name);
    if (streamed) {
      w.tmp = streamed->path();
      AERO_ASSIGN_OR_RETURN(w.seg, streamed->Finish(c.header));
      w.file_bytes = w.seg.bytes;
      w.streamed = true;
      return w;
    }
    w.tmp = target_->TempPath(TempName(w.name));
    // Its own reader: two segments may be copied at once.
    AERO_ASSIGN_OR_RETURN(auto copy_file, OpenWal());
    Result<segment::WrittenSegment> seg = segment::WriteSegment(fs_, w.tmp, c.header, *copy_file,
                                                                c.start, c.end, o_.zstd, Encrypt());
    if (!seg.ok()) {
      (void)fs_.Remove(w.tmp);  // nothing half-written is left in the target
      return seg.status();
    }
    w.seg = *seg;
    w.file_bytes = o_.encryption ? crypto::EncryptedSize(w.seg.bytes) : w.seg.bytes;
    return w;
  }

  // Step 5, second half: the rename, in CommitId order (LOG-3, ARC-1).
  Status PublishWritten(const Cut& c, const Written& w) {
    ShippedSegment out;
    out.epoch = c.header.epoch;
    out.first_commit = c.header.first_commit;
    out.last_commit = c.header.last_commit;
    out.sha256 = w.seg.seal;
    Status there = signer_ ? fs_.LStat(w.final_path).status() : Status::Ok();
    if (!there.ok() && there.code() != Code::kNotFound) {  // FM-139: unknown is not absent (unsigned for good)
      (void)fs_.Remove(w.tmp);
      return there;
    }
    if (signer_ && there.code() == Code::kNotFound) {  // SIG-9: the sidecar first
      Status signed_ok = signer_->SignSegment(fs_, *target_, w.name, c.header, w.seg.bytes, w.seg.seal, run_);
      if (!signed_ok.ok()) {
        (void)fs_.Remove(w.tmp);
        return signed_ok;
      }
    }
    out.encrypted = o_.encryption != nullptr;
    out.streamed = w.streamed;
    Status renamed = target_->PublishExclusive(w.tmp, w.name);
    // LOG-4: a file under the name is judged; one a transport moved out of
    // the outbox meanwhile (gone when opened) is published again.
    Status judged = Status::Ok();
    for (int tries = 0; renamed.code() == Code::kRefused; ++tries) {
      judged = JudgeExisting(c, w, &out);
      if (judged.code() != Code::kNotFound || tries == 3) break;
      if (signer_) {  // SIG-9: its sidecar before it, as at the first publish
        judged = signer_->SignSegment(fs_, *target_, w.name, c.header, w.seg.bytes, w.seg.seal, run_);
        if (!judged.ok()) break;
      }
      renamed = target_->PublishExclusive(w.tmp, w.name);
    }
    if (renamed.code() == Code::kRefused) {
      (void)fs_.Remove(w.tmp);
      AERO_RETURN_IF_ERROR(judged);
    } else {
      if (!renamed.ok()) (void)fs_.Remove(w.tmp);  // not published: not left behind either
      AERO_RETURN_IF_ERROR(renamed);
      AERO_RETURN_IF_ERROR(target_->MakeDurable());
      out.bytes = w.file_bytes;
    }
    // LOG-3: the position follows the published segments, saved every
    // position_every_bytes and at the end of the run: a crash in between
    // re-ships at most that much, which LOG-4 recognises.
    unsaved_ = Position{rep_.target, state_.epoch, c.header.last_commit, c.header.digest_after,
                        state_.base_commit, c.end, std::nullopt, std::nullopt};
    unsaved_->last_set_offset = c.last_start;
    unsaved_bytes_ += out.bytes;
    log::Lib().debug("{} {}: commits {}..{}, {} bytes", out.already_there ? "identical" : "published",
                     out.name(), out.first_commit, out.last_commit, out.bytes);  // OPS-5
    rep_.segments.push_back(out);
    rep_.shipped_commit = unsaved_->commit;
    // LOG-33: a later segment asks for H(L) of this one at the lowest (its
    // digest_before), never for a digest below this one's first commit.
    chain_->ForgetBelow(c.header.first_commit);
    if (unsaved_bytes_ >= o_.position_every_bytes) return SavePosition();
    return Status::Ok();
  }

  // LOG-4: a valid segment of the same history under the name is a re-ship;
  // anything else is refused, and neither file is touched.
  Status JudgeExisting(const Cut& c, const Written& w, ShippedSegment* out) {
    AERO_RETURN_IF_ERROR(archive::RefuseIrregular(*target_, w.name));  // never a re-ship (LOG-4)
    AERO_ASSIGN_OR_RETURN(auto f, target_->OpenRead(w.name));
    segment::SegmentNameInfo ni{c.header.epoch, c.header.first_commit, c.header.last_commit};
    segment::SegmentCheck existing = segment::VerifySegment(*f, &ni);
    switch (existing.state) {
      case segment::SegmentState::kIoError: return existing.io;
      case segment::SegmentState::kInTransit:
        return Status(Code::kInTransit,
                      Problem("segment in transit", w.final_path,
                              "another copy is being written under this name: " + existing.detail),
                      "re-run ship-wal once that copy has finished");
      case segment::SegmentState::kCorrupt:
        return Status(Code::kDamage,
                      Problem("corrupt segment", w.final_path,
                              existing.detail + "; this node's segment is not published"),
                      "move the damaged file aside, then re-run ship-wal");
      case segment::SegmentState::kValid: break;
    }
    const segment::SegmentHeader& eh = existing.header;
    if (!(eh.system_id == c.header.system_id) || eh.digest_before != c.header.digest_before ||
        eh.digest_after != c.header.digest_after) {
      return Status(Code::kDiverged,
                    Problem("diverged", w.final_path,
                            "a different file with this name exists (its sha256 " +
                                ToHex(existing.trailer_sha) + ", this node's " + ToHex(out->sha256) + ")"),
                    "the target holds another history under this name: compare both "
                    "('aerodb-repl verify FILE') before removing either file");
    }
    out->already_there = true;
    out->sha256 = existing.trailer_sha;
    out->bytes = existing.size;
    if (Result<FileInfo> raw = crypto::RawInfo(*f); raw.ok()) out->bytes = raw->size;  // the file's, as published
    if (signer_) {  // SIG-9: the sidecar of the file that is there
      AERO_RETURN_IF_ERROR(signer_->SignSegment(fs_, *target_, w.name, eh, existing.size, existing.trailer_sha, run_));
    }
    // The crashed run that renamed it may not have fsynced the directory:
    // make the entry durable before the position says it was shipped (LOG-3).
    return target_->MakeDurable();
  }

  // Segments are published on other threads while the scan goes on: at most
  // kPublishDepth in flight, each renamed only once the one before it is
  // published; a failure stops every later one before its rename.
  static constexpr size_t kPublishDepth = 2;

  Status Launch(Cut c) {
    if (inflight_.size() >= kPublishDepth) AERO_RETURN_IF_ERROR(WaitOldest());
    std::shared_future<Status> before =
        inflight_.empty() ? std::shared_future<Status>() : inflight_.back();
    inflight_.push_back(std::async(std::launch::async, [this, c, before]() mutable {
                          Result<Written> w = WriteTemp(c);
                          Status prior = before.valid() ? before.get() : Status::Ok();
                          // Drop the link: else each task's state holds the one before
                          // it, and releasing a run of 10,000 segments recurses 10,000
                          // deep (a stack overflow under TSan).
                          before = std::shared_future<Status>();
                          if (!prior.ok()) {
                            if (w.ok()) (void)fs_.Remove(w->tmp);  // never published after a failure
                            return prior;
                          }
                          if (!w.ok()) return w.status();
                          return PublishWritten(c, *w);
                        }).share());
    return Status::Ok();
  }

  Status WaitOldest() {
    Status s = inflight_.front().get();
    inflight_.pop_front();
    return s;
  }

  Status WaitInflight() {
    Status first;
    while (!inflight_.empty()) {
      Status s = WaitOldest();
      if (first.ok()) first = s;
    }
    return first;
  }

  // LOG-3, LOG-26: the position of what was published. A position that
  // cannot be saved (the node's disk is full) is reported, not a failure:
  // the segments are durable in the target, and the next run re-ships them
  // as identical (LOG-4).
  Status SavePosition() {
    if (!unsaved_) return Status::Ok();
    if (unsaved_->last_set_offset) {  // LOG-24: one write set, read back from the page cache
      AERO_ASSIGN_OR_RETURN(unsaved_->last_set_sha,
                            HashWal(*unsaved_->last_set_offset, unsaved_->wal_offset));
    }
    Status saved = node::SaveShippedPosition(fs_, o_.data_dir, pos_path_, *unsaved_);
    if (!saved.ok()) {
      if (saved.code() != Code::kIo) return saved;
      rep_.position_saved = false;
      rep_.position_warning =
          Status(Code::kIo,
                 Problem("shipped position not saved", pos_path_, saved.message()),
                 "the next run re-ships from commit " + std::to_string(SavedCommit()) +
                     " and finds the published segments identical (LOG-4); " +
                     (saved.hint().empty() ? "free space under '" + o_.data_dir + "' to keep the position"
                                           : saved.hint()));  // LOG-26: the cause's own hint
      return Status::Ok();
    }
    rep_.position_saved = true;
    rep_.position_warning = Status::Ok();
    saved_commit_ = unsaved_->commit;
    unsaved_.reset();
    unsaved_bytes_ = 0;
    return Status::Ok();
  }

  uint64_t SavedCommit() const { return saved_commit_.value_or(pos_.commit); }

  // ENC-8: the target is read through its plaintext (an identical re-ship
  // of an encrypted segment is recognised by its content, LOG-4); ENC-30:
  // with the keys of --encryption-keys too, so a segment a rotated-out key
  // wrote is still recognised.
  static crypto::KeyStore OwnKeys(const ShipOptions& o) {
    crypto::KeyStore keys = o.read_keys ? *o.read_keys : crypto::KeyStore();
    if (o.encryption) keys.Add(o.encryption->key);
    return keys;
  }

  // ENC-12: the segment's bytes go into an envelope, one chunk at a time.
  segment::WrapWriter Encrypt() const {
    if (!o_.encryption) return {};
    const crypto::EncryptionKey* key = o_.encryption;
    return [key](std::unique_ptr<WritableFile> raw, uint64_t size) {
      return crypto::OpenEncrypting(std::move(raw), *key, size);
    };
  }

  Fs& fs_;
  const ShipOptions& o_;
  ShipReport& rep_;
  crypto::KeyStore own_keys_;
  crypto::DecryptingFs target_fs_;  // ENC-8: a segment already there is judged by its plaintext
  std::unique_ptr<archive::Archive> target_;  // OBJ-12: a directory or an s3:// archive, from LockTarget
  archive::Catalog listed_;  // step 2's listing of the target: LOG-21's first read, LOG-31's sweep
  std::unique_ptr<SidecarSigner> signer_;  // SIG-9, --signing-key
  std::unique_ptr<node::Node> node_;
  node::NodeState state_;
  history::SystemId system_id_;
  std::string wal_path_, pos_path_;
  std::unique_ptr<FileLock> target_lock_;  // LOG-25, held for the run
  std::unique_ptr<FileLock> dir_lock_;     // LOG-31: the directory itself, where it can be locked
  std::string run_;                        // LOG-31: 16 hex, in every temp name of this run
  std::unique_ptr<ReadableFile> hash_file_;  // LOG-24 hashes
  Position pos_;
  std::optional<uint64_t> target_last_;  // the target's newest segment of ours, this epoch (LOG-23)
  bool resume_ = false;
  wal::ScanOptions opt_;
  std::optional<history::AsyncDigestChain> chain_;
  std::optional<BodyRouter> router_;  // LOG-30: plain bodies streamed from the scan
  // The scan's state.
  bool check_pos_ = false;  // the scan passes pos.commit, so its digest is checked
  Cut cut_;
  Status failure_;
  std::optional<uint64_t> prev_commit_, prev_sequence_;
  std::string wal_damage_;
  bool stopped_ = false;  // FOLLOW-4: a stop request ended the scan at a segment boundary
  // Publishing's state.
  std::deque<std::shared_future<Status>> inflight_;
  std::optional<Position> unsaved_;  // published, not yet recorded
  uint64_t unsaved_bytes_ = 0;
  std::optional<uint64_t> saved_commit_;
  uint64_t progress_total_ = 0, progress_next_ = 0;  // OPS-7
};

}  // namespace

Status ShipWal(Fs& fs, const ShipOptions& o, ShipReport* report) {
  ShipReport scratch;
  Shipper shipper(fs, o, report ? *report : scratch);
  return shipper.Run();
}

}  // namespace aero::repl
