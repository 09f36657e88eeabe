#include "repl/enrol.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/sha256.h"
#include "history/system_id.h"
#include "node/layout.h"
#include "node/state.h"
#include "wal/wal_scan.h"

namespace aero::repl {
namespace {

// COMPAT-5: the only names init writes outside replication/.
constexpr std::string_view kInitTmp = ".replication.init.tmp";
constexpr std::string_view kRetiredTmp = ".replication.retired.tmp";
constexpr std::string_view kInitLock = ".replication.init.lock";

// One of AeroDB's snapshots/<id>/, by its manifest.
struct AeroSnapshot {
  std::string id;
  uint64_t format = 0;                     // 1 Phase-1, 2 MVCC
  std::optional<uint64_t> commit_boundary;  // format 2 only
};

// COMPAT-1..COMPAT-5, COMPAT-9 in their steps: the target, the judge, the
// base, the applied position, the write.
class Enroller {
 public:
  Enroller(Fs& fs, const EnrolOptions& o, EnrolReport& rep)
      : fs_(fs), o_(o), rep_(rep), wal_path_(JoinPath(o.data_dir, node::kWalFile)) {}

  Status Run() {
    rep_.data_dir = o_.data_dir;
    Status s = Steps();
    // FM-64: a refused init leaves AeroDB's directory as it was, without
    // its lock file (removed while held: Lock re-checks the name, MODEL-10).
    if (!s.ok() && init_lock_) (void)fs_.Remove(Path(kInitLock));
    return s;
  }

 private:
  Status Steps() {
    AERO_RETURN_IF_ERROR(CheckTarget());
    AERO_RETURN_IF_ERROR(Judge());
    AERO_ASSIGN_OR_RETURN(system_id_, history::NewSystemId());
    AERO_RETURN_IF_ERROR(FindBase());
    AERO_RETURN_IF_ERROR(ScanFromBase());
    return Write();
  }

  std::string Path(std::string_view rel) const { return JoinPath(o_.data_dir, rel); }

  // COMPAT-1: an AeroDB data directory, not enrolled (unless --re-enrol of
  // one that init enrolled). Leftovers of a crashed init are removed.
  Status CheckTarget() {
    Result<FileInfo> d = fs_.Stat(o_.data_dir);
    if (!d.ok() && d.status().code() != Code::kNotFound) return d.status();
    if (!d.ok() || !d->is_dir) {
      return Status(Code::kNotFound,
                    Problem("not a directory", o_.data_dir, d.ok() ? "a file" : "it does not exist"),
                    "give AeroDB's data directory, the one that holds wal/wal.log");
    }
    Result<FileInfo> wal = fs_.Stat(wal_path_);
    if (!wal.ok() && wal.status().code() != Code::kNotFound) return wal.status();
    if (!wal.ok()) {
      return Status(Code::kNotFound,
                    Problem("not an AeroDB data directory", o_.data_dir, "no wal/wal.log"),
                    "give AeroDB's data directory, the one that holds wal/wal.log");
    }
    AERO_ASSIGN_OR_RETURN(init_lock_, fs_.Lock(Path(kInitLock)));
    // Leftovers of an init that crashed: its temp folder (before or after
    // its rename), or a retired history (a re-enrol that crashed after its
    // first rename, or before its cleanup). Neither is ever read.
    AERO_RETURN_IF_ERROR(RemoveTree(fs_, Path(kInitTmp)));
    AERO_RETURN_IF_ERROR(RemoveTree(fs_, Path(kRetiredTmp)));
    Result<FileInfo> repl = fs_.LStat(Path(node::kReplicationDir));
    if (!repl.ok() && repl.status().code() != Code::kNotFound) return repl.status();
    enrolled_ = repl.ok();
    if (enrolled_) AERO_RETURN_IF_ERROR(CheckReEnrol());
    return Status::Ok();
  }

  Status CheckReEnrol() {
    Result<node::Identity> id = node::LoadIdentity(fs_, o_.data_dir);
    // COMPAT-1: the refusal says what replication/ holds, with a hint that
    // leads somewhere (the trial's single message sent it in a circle).
    if (!id.ok()) {
      if (id.status().code() == Code::kIo) return id.status();
      return Status(Code::kRefused,
                    Problem("incomplete replication/", o_.data_dir,
                            "it holds no readable identity.json: " + id.status().message()),
                    "an interrupted copy or a folder made by hand, not a node: move '" +
                        JoinPath(o_.data_dir, node::kReplicationDir) + "' aside, then run init again");
    }
    const std::string which = " (system id " + id->system_id.ToHex() + ")";
    if (Result<node::NodeState> st = node::LoadState(fs_, o_.data_dir, *id);
        st.ok() && st->role == node::Role::kReplica) {
      return Status(Code::kRefused, Problem("a replica", o_.data_dir, "replication/ holds a replica" + which),
                    "apply-wal and snapshot install feed a replica; init enrols a primary's AeroDB directory");
    }
    AERO_ASSIGN_OR_RETURN(std::optional<node::Enrolment> e, node::LoadEnrolment(fs_, o_.data_dir));
    // COMPAT-1: a primary that init did not enrol is never offered
    // --re-enrol, which would refuse it in turn (a trial went in a circle).
    if (!e) {
      return Status(Code::kRefused,
                    Problem(o_.re_enrol ? "not enrolled by init" : "already a node", o_.data_dir,
                            "its replication/ was made by the reference node or an install" + which),
                    "ship from it with 'aerodb-repl ship-wal -D " + o_.data_dir +
                        " --to DIR'; --re-enrol replaces only a history that 'aerodb-repl init' started");
    }
    if (!o_.re_enrol) {
      return Status(Code::kRefused,
                    Problem("already enrolled", o_.data_dir, "replication/ exists" + which),
                    "ship from it with 'aerodb-repl ship-wal -D " + o_.data_dir +
                        " --to DIR'; to start a new history instead, add --re-enrol");
    }
    if (id.ok()) rep_.previous_system_id = id->system_id.ToHex();
    // Our own writers (snapshot export, unhalt) stay out while it is replaced.
    AERO_ASSIGN_OR_RETURN(node_lock_, fs_.Lock(Path(node::kLockFile)));
    return Status::Ok();
  }

  // COMPAT-2: verify DIR's judge of the AeroDB files; its notices are kept.
  Status Judge() {
    VerifyReport v = VerifyAeroDbFiles(fs_, o_.data_dir);
    const Code outcome = v.outcome();
    for (const Finding& f : v.findings) {
      if (f.severity == Severity::kNotice) rep_.notices.push_back(f);
    }
    if (outcome != Code::kOk) {
      for (const Finding& f : v.findings) {
        if (SeverityCode(f.severity) != outcome) continue;
        return Status(outcome, f.message,
                      "nothing was written; 'aerodb-repl verify " + o_.data_dir +
                          "' lists every finding" + (f.hint.empty() ? "" : "; " + f.hint));
      }
    }
    if (v.wal) wal_ = *v.wal;
    return Status::Ok();
  }

  Result<std::vector<AeroSnapshot>> ListSnapshots() {
    std::vector<AeroSnapshot> out;
    Result<std::vector<DirEntry>> entries = fs_.ListDir(Path(node::kSnapshotsDir));
    if (!entries.ok()) {
      if (entries.status().code() == Code::kNotFound) return out;
      return entries.status();
    }
    for (const DirEntry& e : *entries) {
      if (!e.is_dir || e.name.empty() || e.name[0] == '.') continue;
      Result<std::string> text = ReadSmallFile(
          fs_, JoinPath(JoinPath(Path(node::kSnapshotsDir), e.name), node::kSnapshotManifest),
          node::kMaxSnapshotManifestBytes);
      if (!text.ok()) continue;  // Judge refused an unreadable manifest already
      nlohmann::json m = nlohmann::json::parse(*text, nullptr, false);
      AeroSnapshot s{e.name, 0, std::nullopt};
      if (!m.is_object()) continue;
      if (auto v = m.find("format_version"); v != m.end() && v->is_number_unsigned()) {
        s.format = v->get<uint64_t>();
      }
      if (auto b = m.find("commit_boundary"); b != m.end() && b->is_number_unsigned()) {
        s.commit_boundary = b->get<uint64_t>();
      }
      out.push_back(s);
    }
    return out;
  }

  // checkpoint.json's snapshot id, in either form (COMPAT-11); nullopt if none.
  Result<std::optional<std::string>> MarkerSnapshot() {
    Result<std::string> text = ReadSmallFile(fs_, Path(node::kCheckpointFile));
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound) return std::optional<std::string>();
      return text.status();
    }
    nlohmann::json cp = nlohmann::json::parse(*text, nullptr, false);
    if (cp.is_discarded() || !cp.is_object() || !cp.contains("snapshot_id") ||
        !cp["snapshot_id"].is_string()) {
      return Status(Code::kDamage,
                    Problem("invalid checkpoint marker", Path(node::kCheckpointFile),
                            "no snapshot_id string"),
                    "nothing was written; AeroDB's checkpoint.json names its last snapshot");
    }
    return std::optional<std::string>(cp["snapshot_id"].get<std::string>());
  }

  // COMPAT-3, COMPAT-4: the snapshot under the WAL, if any, and its digest.
  Status FindBase() {
    if (wal_.commit_records == 0 && wal_.data_records > 0) {
      return Status(Code::kRefused,
                    Problem("Phase-1 WAL: no CommitId", wal_path_,
                            std::to_string(wal_.data_records) +
                                " data records and no MvccCommit record"),
                    "aerodb-repl replicates AeroDB's MVCC log, whose commit records number the "
                    "write sets; 'aerodb-repl verify' reads this log. If AeroDB is writing its "
                    "first MVCC transaction right now, retry when it has committed");
    }
    AERO_ASSIGN_OR_RETURN(std::vector<AeroSnapshot> snapshots, ListSnapshots());
    AERO_ASSIGN_OR_RETURN(std::optional<std::string> marker, MarkerSnapshot());
    const AeroSnapshot* named = nullptr;
    for (const AeroSnapshot& s : snapshots) {
      if (marker && s.id == *marker) named = &s;
    }
    if (marker && !named) {
      return Status(Code::kDamage,
                    Problem("checkpoint marker names a missing snapshot",
                            Path(node::kCheckpointFile), "snapshots/" + *marker + "/"),
                    "nothing was written; restore AeroDB's snapshot directory");
    }
    std::optional<uint64_t> want;
    if (wal_.first_commit) {
      if (*wal_.first_commit > 1) want = *wal_.first_commit - 1;
    } else if (named) {
      if (named->format != 2 || !named->commit_boundary) return PhaseOneSnapshot(named->id);
      want = named->commit_boundary;
    }
    // COMPAT-3: AeroDB writes its marker before it truncates the log, so a
    // marker behind the log's base is no state AeroDB leaves: damage, as
    // every open judges it.
    if (named && named->commit_boundary && want && *named->commit_boundary < *want) {
      return Status(Code::kDamage,
                    Problem("checkpoint marker behind the log", Path(node::kCheckpointFile),
                            "it names snapshot " + named->id + " at commit " +
                                std::to_string(*named->commit_boundary) + ", but the log starts at commit " +
                                std::to_string(*want + 1)),
                    "nothing was written; restore checkpoint.json from a good copy, or point it at "
                    "the snapshot the log continues");
    }
    if (!want || *want == 0) return Status::Ok();  // base 0: HIST-1's seed
    const AeroSnapshot* base = nullptr;
    if (named && named->commit_boundary == want) {
      base = named;
    } else {
      for (const AeroSnapshot& s : snapshots) {  // the greatest id of that boundary
        if (s.commit_boundary == want && (!base || s.id > base->id)) base = &s;
      }
    }
    if (!base) {
      return Status(Code::kGap,
                    Problem("gap under the log", wal_path_,
                            "it starts at commit " + std::to_string(*want + 1) +
                                " and no snapshot in snapshots/ has commit_boundary " +
                                std::to_string(*want)),
                    "commits 1.." + std::to_string(*want) +
                        " are in no file: restore AeroDB's snapshot of that checkpoint, or "
                        "enrol a copy taken before it");
    }
    if (base->format != 2) return PhaseOneSnapshot(base->id);
    base_commit_ = *want;
    base_snapshot_ = base->id;
    return Status::Ok();
  }

  Status PhaseOneSnapshot(const std::string& id) {
    return Status(Code::kRefused,
                  Problem("Phase-1 snapshot: no CommitId", Path(node::kSnapshotsDir) + "/" + id,
                          "its manifest has no format_version 2 commit_boundary"),
                  "aerodb-repl replicates AeroDB's MVCC history; a Phase-1 directory can be "
                  "copied whole while AeroDB is stopped");
  }

  // HIST-1 or HIST-5, then HIST-2 over the whole write sets: `applied`.
  Status ScanFromBase() {
    if (base_snapshot_) {
      Sha256 sha;
      AERO_ASSIGN_OR_RETURN(
          auto f, fs_.OpenRead(JoinPath(JoinPath(Path(node::kSnapshotsDir), *base_snapshot_),
                                        node::kSnapshotStorage)));
      std::string buf(256 * 1024, '\0');
      for (;;) {
        AERO_ASSIGN_OR_RETURN(size_t n, f->Read(buf.data(), buf.size()));
        if (n == 0) break;
        sha.Update(buf.data(), n);
      }
      base_digest_ = history::EnrolledBaseDigest(system_id_, base_commit_, sha.Finish());
    } else {
      base_digest_ = history::SeedDigest(system_id_);
    }
    AERO_ASSIGN_OR_RETURN(auto wal, fs_.OpenRead(wal_path_));
    wal::ScanOptions opt;
    opt.base_commit = base_commit_;
    opt.base_digest = base_digest_;
    uint64_t last_sequence = 0;
    wal::ScanResult r = wal::WalScanner(wal.get(), opt).Run({}, [&](const wal::WriteSet& ws) {
      last_sequence = ws.last_sequence;
      return true;
    });
    if (r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
    if (!r.findings.empty() || r.stop.kind == wal::StopKind::kCorrupt ||
        r.stop.kind == wal::StopKind::kUnsupportedType) {
      // The judge passed this log a moment ago: AeroDB rewrote it since.
      return Status(Code::kInTransit,
                    Problem("log changed while enrolling", wal_path_,
                            r.findings.empty() ? r.stop.detail : r.findings.front().detail),
                    "AeroDB rewrote it (a checkpoint?); nothing was written: run init again");
    }
    state_.role = node::Role::kPrimary;
    state_.epoch = 1;
    state_.base_commit = base_commit_;
    state_.base_digest = base_digest_;
    state_.base_snapshot = base_snapshot_;
    state_.applied_commit = base_commit_;
    state_.applied_digest = base_digest_;
    if (r.write_sets > 0) {
      state_.applied_commit = r.position.commit;
      state_.applied_digest = *r.position.digest;
      state_.applied_wal_offset = r.committed_end;
      state_.next_sequence = last_sequence + 1;
    }
    rep_.tail_bytes = r.file_size - r.committed_end;
    return Status::Ok();
  }

  // COMPAT-5, COMPAT-9: replication/ is built whole in the temp folder and
  // renamed in; a re-enrol first retires the old one.
  Status Write() {
    const std::string tmp = Path(kInitTmp);
    AERO_RETURN_IF_ERROR(fs_.MakeDir(tmp));
    AERO_RETURN_IF_ERROR(fs_.MakeDir(JoinPath(tmp, node::kReplicationDir)));
    AERO_RETURN_IF_ERROR(node::SaveIdentity(fs_, tmp, node::Identity{system_id_}));
    AERO_RETURN_IF_ERROR(node::SaveState(fs_, tmp, state_));
    node::Enrolment e{base_commit_, base_snapshot_, state_.applied_commit};
    AERO_RETURN_IF_ERROR(
        WriteFileAtomically(fs_, JoinPath(tmp, node::kEnrolmentFile), node::EnrolmentToJson(e)));
    AERO_RETURN_IF_ERROR(WriteFileAtomically(fs_, JoinPath(tmp, node::kLockFile), ""));
    AERO_RETURN_IF_ERROR(fs_.SyncDir(JoinPath(tmp, node::kReplicationDir)));
    AERO_RETURN_IF_ERROR(fs_.SyncDir(tmp));
    if (enrolled_) {
      AERO_RETURN_IF_ERROR(fs_.Rename(Path(node::kReplicationDir), Path(kRetiredTmp)));
      AERO_RETURN_IF_ERROR(fs_.SyncDir(o_.data_dir));
    }
    // FM-53: the new replication/'s lock, held until the rename is durable,
    // so no run opens the node in the window an undo takes it away in.
    Result<std::unique_ptr<FileLock>> held = fs_.Lock(JoinPath(tmp, node::kLockFile));
    AERO_RETURN_IF_ERROR(
        fs_.Rename(JoinPath(tmp, node::kReplicationDir), Path(node::kReplicationDir)));
    Status durable = fs_.SyncDir(tmp);
    if (durable.ok()) durable = fs_.SyncDir(o_.data_dir);  // COMPAT-5: the rename is durable
    if (!durable.ok()) {
      // FM-53: not known to be durable, so undone: the re-run enrols again
      // instead of meeting "already enrolled" (and a re-enrolment's old
      // replication/ is put back).
      const bool undone =
          held.ok() && fs_.Rename(Path(node::kReplicationDir), JoinPath(tmp, node::kReplicationDir)).ok();
      if (undone && enrolled_) (void)fs_.Rename(Path(kRetiredTmp), Path(node::kReplicationDir));
      return Status(durable.code(),
                    durable.message() + (undone ? " (undone: not enrolled)" : " (enrolled, not known to be durable)"),
                    durable.hint());
    }
    // Enrolled. Leftovers are harmless, and the next init removes them.
    (void)RemoveTree(fs_, Path(kRetiredTmp));
    (void)RemoveTree(fs_, tmp);
    (void)fs_.Remove(Path(kInitLock));
    rep_.system_id = system_id_.ToHex();
    rep_.base_commit = base_commit_;
    rep_.base_snapshot = base_snapshot_;
    rep_.applied_commit = state_.applied_commit;
    rep_.applied_digest = state_.applied_digest;
    return Status::Ok();
  }

  Fs& fs_;
  const EnrolOptions& o_;
  EnrolReport& rep_;
  const std::string wal_path_;
  std::unique_ptr<FileLock> init_lock_, node_lock_;
  bool enrolled_ = false;  // replication/ exists (a --re-enrol)
  WalSummary wal_;
  history::SystemId system_id_{};
  uint64_t base_commit_ = 0;
  std::optional<std::string> base_snapshot_;
  history::Digest base_digest_{};
  node::NodeState state_;
};

}  // namespace

Status Enrol(Fs& fs, const EnrolOptions& options, EnrolReport* report) {
  EnrolReport scratch;
  return Enroller(fs, options, report ? *report : scratch).Run();
}

}  // namespace aero::repl
