#include "repl/install.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/open_archive.h"
#include "common/file_util.h"
#include "common/json_fields.h"
#include "common/log.h"
#include "crypto/encrypted_file.h"
#include "node/layout.h"
#include "node/own_folder.h"
#include "node/place_tree.h"
#include "node/state.h"
#include "repl/snapshot_sign.h"
#include "sign/signature_format.h"
#include "sign/trust.h"
#include "snapshot/archive_reader.h"

namespace aero::repl {

namespace {

Status FromCheck(const snapshot::ArchiveCheck& c, const std::string& path) {
  switch (c.state) {
    case snapshot::ArchiveState::kValid:
      return Status::Ok();
    case snapshot::ArchiveState::kInTransit:
      return Status(Code::kInTransit, Problem("archive in transit", path, c.detail),
                    "re-run once the copy has finished; nothing was installed");
    case snapshot::ArchiveState::kCorrupt:
      return Status(Code::kDamage, Problem("invalid archive", path, c.detail),
                    "nothing was installed; get a good copy of the archive");
    case snapshot::ArchiveState::kIoError:
      return c.io.ok() ? Status(Code::kIo, c.detail) : c.io;
  }
  return Status(Code::kInternal, "unknown archive state");
}

// Creates every directory of `rel` (a member path) under `root`.
Status MakeParents(Fs& fs, const std::string& root, const std::string& rel,
                   std::vector<std::string>* made) {
  std::string dir = root;
  size_t start = 0;
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', start)) {
    dir = JoinPath(dir, rel.substr(start, slash - start));
    if (std::find(made->begin(), made->end(), dir) == made->end()) {
      AERO_RETURN_IF_ERROR(fs.MakeDir(dir));
      made->push_back(dir);
    }
    start = slash + 1;
  }
  return Status::Ok();
}

Status Write(Fs& fs, const std::string& path, std::string_view bytes) {
  AERO_ASSIGN_OR_RETURN(auto f, fs.OpenWrite(path, OpenMode::kCreateExclusive));
  AERO_RETURN_IF_ERROR(f->Append(bytes));
  AERO_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

// snapshot install in named steps (specs/REPLICATION_SNAPSHOT_TRANSFER.md,
// SNAP-10, SNAP-11): CheckTarget, CheckInputs, JudgeSidecar, then, beside
// the target, VerifyAndExtract (one pass over the archive), WriteNodeFiles,
// and PutInPlace.
class Installer {
 public:
  Installer(Fs& fs, const InstallOptions& o, InstallReport& rep)
      : fs_(fs), o_(o), rep_(rep), parent_(DirName(o.data_dir)), name_(BaseName(o.data_dir)),
        tmp_(JoinPath(parent_, HiddenName(name_, ".install.tmp"))),
        lock_path_(JoinPath(parent_, HiddenName(name_, ".install.lock"))) {}

  Status Run() {
    AERO_RETURN_IF_ERROR(CheckTarget());
    AERO_RETURN_IF_ERROR(CheckInputs());
    AERO_RETURN_IF_ERROR(JudgeSidecar());
    AERO_ASSIGN_OR_RETURN(archive_file_, OpenArchiveFile());
    AERO_RETURN_IF_ERROR(crypto::EnvelopeStatus(*archive_file_, "archive"));  // ENC-6, ENC-11
    AERO_ASSIGN_OR_RETURN(auto lock, fs_.Lock(lock_path_));
    // Whatever ends the install from here, the temp directory goes (a
    // finding in the archive, a full disk: nothing is left beside the
    // target, SNAP-10), then the lock file, while it is still held
    // (MODEL-10). After the rename the temp directory no longer exists;
    // after the exchange it holds the old tree, removed in any case.
    struct RemoveTemp {
      Fs& fs;
      const std::string& path;
      const std::string& lock_path;
      const bool& keep;  // the old tree after an exchange not yet durable
      ~RemoveTemp() {
        if (!keep) (void)RemoveTree(fs, path);
        (void)fs.Remove(lock_path);
      }
    } remove_temp{fs_, tmp_, lock_path_, keep_old_tree_};
    // A temp left behind may be an old tree kept because its swap was not
    // durable yet (SNAP-10): the parent's fsync first, or a power loss could
    // still undo that swap onto a tree half deleted.
    if (fs_.LStat(tmp_).ok()) AERO_RETURN_IF_ERROR(fs_.SyncDir(parent_));
    AERO_RETURN_IF_ERROR(RemoveTree(fs_, tmp_));
    AERO_RETURN_IF_ERROR(fs_.MakeDir(tmp_));
    dirs_ = {tmp_};
    AERO_RETURN_IF_ERROR(VerifyAndExtract());
    log::Lib().debug("verified and extracted '{}': {} members, boundary commit {}", o_.archive,
                     check_.manifest->members.size() + 1, check_.manifest->boundary_commit);  // OPS-5
    AERO_RETURN_IF_ERROR(WriteNodeFiles());
    AERO_RETURN_IF_ERROR(PutInPlace());
    const snapshot::Manifest& m = *check_.manifest;
    rep_.system_id = m.system_id.ToHex();
    rep_.epoch = m.epoch;
    rep_.base_commit = m.base_commit;
    rep_.applied_commit = m.boundary_commit;
    rep_.members = m.members.size() + 1;
    if (counter_) counter_->Set(counter_->total());
    return Status::Ok();
  }

 private:
  // The target: absent or empty, unless the operator asked to discard it.
  Status CheckTarget() {
    Result<FileInfo> info = fs_.Stat(o_.data_dir);
    if (!info.ok()) {
      return info.status().code() == Code::kNotFound ? Status::Ok() : info.status();
    }
    if (!info->is_dir) {
      return Status(Code::kRefused, Problem("not a directory", o_.data_dir, "a file stands where the replica goes"),
                    "give -D a directory that is absent or empty; nothing was installed");
    }
    AERO_ASSIGN_OR_RETURN(auto entries, fs_.ListDir(o_.data_dir));
    if (entries.empty()) return Status::Ok();
    if (!o_.discard_existing) {
      return Status(Code::kRefused,
                    Problem("refusing to install", o_.data_dir, "the directory is not empty"),
                    "install into a new directory, or pass --discard-existing to delete what is "
                    "there (destructive)");
    }
    replace_ = true;
    return Status::Ok();
  }

  // What would fail only after the archive is read is refused before it
  // is (SNAP-10): a target with no parent directory, an archive that is
  // missing or not a file. Reading a large archive takes seconds.
  Status CheckInputs() {
    AERO_RETURN_IF_ERROR(CheckParentDir(
        fs_, o_.data_dir,
        "create the parent directory first, or install elsewhere; nothing was read or written"));
    // OBJ-20: the archive and its name there (a directory, or an object store).
    AERO_ASSIGN_OR_RETURN(object_, OpenArchiveObject(fs_, o_.archive));
    if (archive::IsObjectStore(o_.archive)) return Status::Ok();  // a HEAD at OpenArchiveFile
    AERO_RETURN_IF_ERROR(archive::RequireArchiveFile(
        fs_, o_.archive, "give the file that snapshot export wrote; nothing was installed"));
    if (node::LiesInside(o_.archive, o_.data_dir)) {  // SNAP-10: the old tree's deletion takes it
      return Status(Code::kUsage,
                    Problem("refusing to install from", o_.archive,
                            "it is inside " + o_.data_dir + ", which install replaces"),
                    "move the archive out of the directory first; nothing was installed");
    }
    return Status::Ok();
  }

  // SIG-21 step 1: in required mode, the sidecar before any byte of the
  // archive is read.
  Status JudgeSidecar() {
    AERO_ASSIGN_OR_RETURN(trust_, sign::LoadTrustSet(fs_, o_.trusted_keys, o_.data_dir));  // SIG-4
    if (trust_.empty()) return Status::Ok();
    signed_by_ = JudgeSnapshotSidecar(*object_.archive, object_.name, trust_);
    return signed_by_.ToStatus();
  }

  // OBJ-20, ENC-32: the archive's plaintext, through the caller's Fs for a
  // file and through the Archive (a HEAD, then ranged GETs, seen through
  // the same Fs: Fs::View) for an object; a decrypting Fs sees an
  // envelope's plaintext either way.
  Result<std::unique_ptr<ReadableFile>> OpenArchiveFile() {
    if (!archive::IsObjectStore(o_.archive)) return fs_.OpenRead(o_.archive);
    Result<std::unique_ptr<ReadableFile>> raw = object_.archive->OpenRead(object_.name);
    if (!raw.ok() && raw.status().code() == Code::kNotFound) {
      return Status(Code::kNotFound, Problem("no archive", o_.archive, "no such object"),
                    "give the object that snapshot export wrote; nothing was installed");
    }
    return raw;
  }

  // The one pass (SNAP-10): the archive verified as `verify` verifies it
  // (SNAP-6), each member extracted into the temp directory beside the
  // target (MODEL-10) as its bytes are verified. The bytes installed are
  // the bytes verified; a finding ends the install, and Run's guard
  // removes the temp directory with whatever was extracted.
  Status VerifyAndExtract() {
    if (o_.progress) {  // OPS-7
      AERO_ASSIGN_OR_RETURN(const uint64_t size, archive_file_->Size());
      counter_ = std::make_unique<ProgressCounter>(o_.progress, size);
      counter_->Set(0);
      archive_file_ = CountReads(std::move(archive_file_), counter_.get());
    }
    // Each member's file: parents made and the file created here, in member
    // order, once its header passed every check (SNAP-8); ReadArchive
    // writes, syncs and closes it (on a worker for a large member of a
    // plain archive, SNAP-6).
    snapshot::MemberSink sink;
    sink.open = [this](const snapshot::Member& mem) -> Result<std::unique_ptr<WritableFile>> {
      AERO_RETURN_IF_ERROR(MakeParents(fs_, tmp_, mem.path, &dirs_));
      // Exclusive create: a member can never land on something already there.
      return fs_.OpenWrite(JoinPath(tmp_, mem.path), OpenMode::kCreateExclusive);
    };
    const snapshot::ReadOptions read{.read_at_min_bytes = o_.read_at_min_bytes};
    if (trust_.empty()) {
      check_ = snapshot::ReadArchive(*archive_file_, sink, read);
      return FromCheck(check_, o_.archive);
    }
    // SIG-21 step 2: every plaintext byte hashed as it is read (in order),
    // then the statement compared with what was read.
    HashingReadable hashed(*archive_file_);
    check_ = snapshot::ReadArchive(hashed, sink, read);
    AERO_RETURN_IF_ERROR(FromCheck(check_, o_.archive));
    return CompareSnapshot(signed_by_, hashed, *check_.manifest).ToStatus();
  }

  // The node's own files: every layout directory, the checkpoint marker,
  // identity, and state.json last of all (SNAP-11); then every directory
  // made, fsynced, deepest first.
  Status WriteNodeFiles() {
    const snapshot::Manifest& m = *check_.manifest;
    for (std::string_view d : node::kLayoutDirs) {
      const std::string p = JoinPath(tmp_, d);
      if (std::find(dirs_.begin(), dirs_.end(), p) == dirs_.end()) {
        AERO_RETURN_IF_ERROR(fs_.MakeDir(p));
        dirs_.push_back(p);
      }
    }
    AERO_ASSIGN_OR_RETURN(const std::optional<FileInfo> wal, StatIfThere(fs_, JoinPath(tmp_, node::kWalFile)));
    if (!wal) AERO_RETURN_IF_ERROR(Write(fs_, JoinPath(tmp_, node::kWalFile), ""));
    if (m.base_snapshot) {
      nlohmann::ordered_json cp;
      cp["format"] = node::kStateFormat;
      cp["snapshot_id"] = *m.base_snapshot;
      cp["commit_boundary"] = m.base_commit;
      cp["history_digest"] = history::DigestToHex(m.base_digest);
      cp["epoch"] = m.epoch;
      cp["wal_sequence"] = 0;  // not known for the base of an archive; informational
      AERO_RETURN_IF_ERROR(Write(fs_, JoinPath(tmp_, node::kCheckpointFile), json_fields::Dump(cp, 2) + "\n"));
    }
    AERO_RETURN_IF_ERROR(Write(fs_, JoinPath(tmp_, node::kLockFile), ""));
    AERO_RETURN_IF_ERROR(WriteTrustedKeys());
    AERO_RETURN_IF_ERROR(node::SaveIdentity(fs_, tmp_, node::Identity{m.system_id}));
    node::NodeState s;
    s.role = node::Role::kReplica;  // SNAP-11
    s.epoch = m.epoch;
    s.base_commit = m.base_commit;
    s.base_digest = m.base_digest;
    s.base_snapshot = m.base_snapshot;
    s.applied_commit = m.boundary_commit;
    s.applied_digest = m.boundary_digest;
    s.applied_wal_offset = m.boundary_wal_offset;
    s.next_sequence = m.next_sequence;
    AERO_RETURN_IF_ERROR(node::SaveState(fs_, tmp_, s));
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      AERO_RETURN_IF_ERROR(fs_.SyncDir(*it));
    }
    return Status::Ok();
  }

  // SIG-22: the trust set the archive was judged by becomes the replica's,
  // so it stays in required mode: each key as KEYID.pem, each retirement
  // as KEYID.retired, written in the temp tree (NODE-1 each, visible only
  // once the tree is renamed into place); the writer SIG-23 uses too.
  Status WriteTrustedKeys() { return sign::KeepTrustSet(fs_, tmp_, trust_); }

  // The new tree takes the target's name (SNAP-10, FM-37, FM-38).
  Status PutInPlace() {
    std::unique_ptr<FileLock> old_lock;
    if (replace_) {
      // A node being replaced must not be in use (NODE-6): 7 if it is. A
      // lock that cannot even be looked for is 10, never a swap past it
      // (FM-137).
      const std::string lock = JoinPath(o_.data_dir, node::kLockFile);
      Result<FileInfo> there = fs_.Stat(lock);
      if (!there.ok() && there.status().code() != Code::kNotFound) return there.status();
      if (there.ok()) {
        AERO_ASSIGN_OR_RETURN(old_lock, fs_.Lock(lock));
      }
    }
    if (replace_) {
      // --discard-existing: the new tree and the old one change places in
      // one step, so DIR names the whole old replica until the swap and the
      // whole new one after it; no crash leaves DIR absent (SNAP-10, FM-37).
      // Two renames (DIR aside, then the new tree in) had an instant with no
      // DIR, which apply-wal would take for a new replica to bootstrap. The
      // old tree, now under the temp name, goes last: a crash while deleting
      // it leaves a partial temp directory, which the next install deletes.
      AERO_RETURN_IF_ERROR(fs_.Exchange(tmp_, o_.data_dir));
      if (Status synced = fs_.SyncDir(parent_); !synced.ok()) {
        // The swap is done but not yet durable: a power loss may still undo
        // it, so the old tree stays whole under the temp name (SNAP-10:
        // DIR is the whole old replica or the whole new one).
        keep_old_tree_ = true;
        return Status(synced.code(),
                      Problem("installed, not yet durable", o_.data_dir,
                              "the new replica is in place, the old one kept in '" + tmp_ + "': " +
                                  synced.message()),
                      "fix the file system and run sync; then remove '" + tmp_ +
                          "' (a re-run of install --discard-existing removes it too)");
      }
      // FM-138: the install is done here; an old tree this user may not
      // delete is left beside DIR with a warning, never a failure.
      if (Status removed = RemoveTree(fs_, tmp_); !removed.ok()) {
        rep_.cleanup_warning = Status(
            removed.code(), Problem("old replica not removed", tmp_, removed.message()),
            "the new replica is installed in '" + o_.data_dir + "'; remove '" + tmp_ +
                "' as its owner (a later install with --discard-existing needs it gone)");
      }
      return Status::Ok();
    }
    // FM-38: a target something created or wrote into while install ran is
    // refused, as at the start, and nothing left beside it.
    return node::PlaceNewTree(fs_, tmp_, o_.data_dir, "refusing to install",
                              "the archive was installing",
                              "nothing was installed; find what writes there, then install into a "
                              "new directory, or pass --discard-existing (destructive)");
  }

  Fs& fs_;
  const InstallOptions& o_;
  InstallReport& rep_;
  const std::string parent_, name_, tmp_, lock_path_;
  bool replace_ = false;
  bool keep_old_tree_ = false;  // set when the exchange is done but its fsync failed
  std::unique_ptr<ReadableFile> archive_file_;
  std::unique_ptr<ProgressCounter> counter_;  // OPS-7, when options.progress
  snapshot::ArchiveCheck check_;  // the pass's verdict and the manifest
  std::vector<std::string> dirs_;  // made under tmp_, in order
  ArchiveObject object_;           // OBJ-20: where the archive is, and its name
  sign::TrustSet trust_;           // SIG-21: required mode when not empty
  sign::Judgement signed_by_;      // SIG-21 step 1's verdict
};

}  // namespace

Status InstallSnapshot(Fs& fs, const InstallOptions& o, InstallReport* report) {
  InstallReport scratch;
  Installer installer(fs, o, report ? *report : scratch);
  return installer.Run();
}

}  // namespace aero::repl
