#include "repl/prune.h"

#include <algorithm>
#include <map>
#include <set>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/registration.h"
#include "archive/s3_archive.h"
#include "history/lineage.h"
#include "s3/s3_time.h"
#include "segment/segment_reader.h"
#include "snapshot/archive_reader.h"

namespace aero::repl {

namespace {

constexpr const char* kLockName = ".prune.lock";

struct Point {  // a recovery point (RET-1)
  size_t index;  // into report.snapshots
  uint64_t boundary;
  std::string name;
};

class Pruner {
 public:
  Pruner(Fs& fs, const PruneOptions& o, PruneReport& rep)
      : fs_(fs), o_(o), rep_(rep) {}

  Status Run() {
    AERO_ASSIGN_OR_RETURN(archive_, archive::OpenArchive(fs_, o_.archive));  // OBJ-12
    AERO_RETURN_IF_ERROR(List());
    std::unique_ptr<FileLock> lock;
    if (!o_.dry_run) {
      AERO_ASSIGN_OR_RETURN(lock, Lock());
    }
    Status s = Plan();
    if (s.ok() && !o_.dry_run) s = Execute();
    if (s.ok()) s = AbortStaleUploads();  // OBJ-14: after the plan's removals
    if (lock) {
      lock.reset();
      (void)fs_.Remove(archive_->PathOf(kLockName));  // a leftover is a hidden name readers skip
    }
    return s;
  }

 private:
  Status Plan() {
    AERO_RETURN_IF_ERROR(JudgeSnapshots());
    AERO_RETURN_IF_ERROR(ReadLineage());
    ClassifyPoints();
    AERO_RETURN_IF_ERROR(ReadRegistrations());
    if (!ChooseKept()) return Status::Ok();
    Cut();
    PlanSnapshots();
    AERO_RETURN_IF_ERROR(PlanSegments());
    PlanSidecars();
    return Status::Ok();
  }

  // RET-13: NAME.sig of each planned file, and the orphans below the cut.
  void PlanSidecars() {
    std::set<std::string> present;
    for (const archive::CatalogSegment& e : catalog_.segments) present.insert(e.name());
    for (const archive::CatalogSkip& e : catalog_.skipped) present.insert(e.name);
    for (const auto* names : {&catalog_.history_files, &catalog_.snapshot_archives, &catalog_.registrations}) {
      present.insert(names->begin(), names->end());
    }
    const std::set<std::string> sigs(catalog_.sidecars.begin(), catalog_.sidecars.end());
    for (const std::string& name : rep_.plan) {
      if (sigs.count(name + ".sig")) rep_.sidecars.push_back(name + ".sig");
    }
    for (const std::string& sig : catalog_.sidecars) {
      const std::string file = sig.substr(0, sig.size() - 4);
      if (present.count(file)) continue;
      const std::optional<segment::SegmentNameInfo> info = segment::ParseSegmentName(file);
      // Above the cut it may be a publish in progress (SIG-9: the sidecar first).
      if (info && info->last_commit <= P_) rep_.orphan_sidecars.push_back(sig);
    }
  }

  Status List() {
    Result<archive::Catalog> c = archive::SegmentCatalog(*archive_).List();
    if (!c.ok()) {
      if (c.status().code() == Code::kNotFound) {
        // A path that exists but is a file (ENOTDIR) says so.
        Result<FileInfo> there = archive::IsObjectStore(o_.archive) ? Result<FileInfo>(c.status())
                                                                     : fs_.Stat(o_.archive);
        return Status(Code::kNotFound,
                      Problem("archive not found", o_.archive,
                              there.ok() && !there->is_dir ? "a file, not a directory" : "no such directory"),
                      "give the archive directory ship-wal publishes into");
      }
      return c.status();
    }
    catalog_ = std::move(c).value();
    return Status::Ok();
  }

  Result<std::unique_ptr<FileLock>> Lock() {
    if (archive::IsObjectStore(o_.archive)) return std::unique_ptr<FileLock>();  // OBJ-15: a bucket has no lock
    Result<std::unique_ptr<FileLock>> l = fs_.Lock(archive_->PathOf(kLockName));
    if (!l.ok() && l.status().code() == Code::kLocked) {
      return Status(Code::kLocked, Problem("locked", archive_->PathOf(kLockName), "another prune runs"),
                    "wait for it to finish, then re-run prune");
    }
    return l;
  }

  // RET-1: each snapshot archive judged whole by install's judge; RET-9:
  // the archive's system is the newest valid one's.
  Status JudgeSnapshots() {
    const PruneSnapshot* newest = nullptr;
    for (const std::string& name : catalog_.snapshot_archives) {
      PruneSnapshot s;
      s.name = name;
      s.action = "ignore";
      Result<std::unique_ptr<ReadableFile>> f = archive_->OpenRead(name);
      if (!f.ok()) {
        if (f.status().code() == Code::kNotFound) continue;  // moved away meanwhile
        if (f.status().code() != Code::kRefused) return f.status();
        s.reason = NoKeyReason(f.status());  // ENC-14: never removed unjudged
        rep_.snapshots.push_back(std::move(s));
        continue;
      }
      snapshot::ArchiveCheck c = snapshot::ReadArchive(**f);
      if (c.state == snapshot::ArchiveState::kIoError && c.io.code() == Code::kRefused) {
        s.reason = NoKeyReason(c.io);  // ENC-14: never removed unjudged
        rep_.snapshots.push_back(std::move(s));
        continue;
      }
      if (c.state == snapshot::ArchiveState::kIoError) return c.io;
      if (c.manifest) {
        s.manifest_read = true;
        s.epoch = c.manifest->epoch;
        s.boundary_commit = c.manifest->boundary_commit;
      }
      if (c.state != snapshot::ArchiveState::kValid) {
        s.reason = std::string(c.state == snapshot::ArchiveState::kInTransit ? "in transit: "
                                                                               : "invalid archive: ") +
                   c.detail;
      } else {
        manifests_[name] = *c.manifest;
      }
      rep_.snapshots.push_back(std::move(s));
    }
    // RET-9: a valid marker names the database, when one valid archive is
    // of it; another database's archive is then ignored whatever its
    // boundary. Otherwise the newest valid archive's system decides.
    std::optional<history::SystemId> marked;
    if (catalog_.claim_archive_marker) {
      for (const auto& [name, man] : manifests_) {
        if (archive::CheckClaimArchive(*archive_, man.system_id).ok()) {
          marked = man.system_id;
          break;
        }
      }
    }
    for (const PruneSnapshot& s : rep_.snapshots) {
      auto m = manifests_.find(s.name);
      if (m == manifests_.end() || (marked && !(m->second.system_id == *marked))) continue;
      if (!newest || s.boundary_commit > newest->boundary_commit) newest = &s;
    }
    if (newest) system_ = manifests_.at(newest->name).system_id;
    return Status::Ok();
  }

  // RET-9: the marker (when there is one) and the history files, or stop.
  Status ReadLineage() {
    if (!system_) return Status::Ok();
    rep_.system_id = system_->ToHex();
    if (catalog_.claim_archive_marker) {
      AERO_RETURN_IF_ERROR(archive::CheckClaimArchive(*archive_, *system_));
    }
    AERO_ASSIGN_OR_RETURN(lineage_, archive::ReadLineage(*archive_, *system_, {}, o_.archive));
    return Status::Ok();
  }

  // RET-1: a valid archive of this system on this lineage is a recovery point.
  void ClassifyPoints() {
    for (size_t i = 0; i < rep_.snapshots.size(); ++i) {
      PruneSnapshot& s = rep_.snapshots[i];
      auto m = manifests_.find(s.name);
      if (m == manifests_.end()) continue;
      const snapshot::Manifest& man = m->second;
      if (!(man.system_id == *system_)) {
        s.reason = "another database: system id " + man.system_id.ToHex();
        continue;
      }
      if (man.epoch > lineage_.max_epoch()) {
        s.reason = "epoch " + std::to_string(man.epoch) + " has no history file in this archive";
        continue;
      }
      bool same = true;
      for (const history::LineageEntry& e : man.lineage) {
        if (lineage_.Branch(e.epoch) != e.branch_commit) same = false;
      }
      if (!same) {
        s.reason = "its lineage is not this archive's";
        continue;
      }
      const std::optional<uint64_t> next = lineage_.Branch(man.epoch + 1);
      if (next && man.boundary_commit > *next) {
        s.reason = "superseded: epoch " + std::to_string(man.epoch + 1) + " began after commit " +
                   std::to_string(*next);
        continue;
      }
      points_.push_back({i, man.boundary_commit, s.name});
    }
    rep_.recovery_points = points_.size();
  }

  // RET-4, RET-5: every registration read; damage stops the run.
  Status ReadRegistrations() {
    for (const std::string& file : catalog_.registrations) {
      const std::string name = *archive::ParseRegistrationFileName(file);
      Result<std::string> bytes = archive::ReadArchiveFile(*archive_, file, archive::kMaxRegistrationBytes + 1);
      if (!bytes.ok()) {
        if (bytes.status().code() == Code::kNotFound) continue;  // retired meanwhile
        return bytes.status();
      }
      AERO_ASSIGN_OR_RETURN(archive::Registration r,
                            archive::DecodeRegistration(*bytes, name, archive_->PathOf(file)));
      PruneRegistration p;
      p.name = r.name;
      p.host = r.host;
      p.data_dir = r.data_dir;
      p.epoch = r.epoch;
      p.applied_commit = r.applied_commit;
      if (Result<FileInfo> info = fs_.Stat(archive_->PathOf(file)); info.ok()) {
        p.modified_unix = info->mtime_ns / 1000000000u;
      }
      if (system_ && !(r.system_id == *system_)) {
        p.ignored = "another database: system id " + r.system_id.ToHex();
      } else {
        const std::optional<uint64_t> next = lineage_.Branch(r.epoch + 1);
        p.pin = next ? std::min(r.applied_commit, *next) : r.applied_commit;
      }
      rep_.registrations.push_back(std::move(p));
    }
    return Status::Ok();
  }

  // RET-2: the N newest recovery points; false when there are fewer.
  bool ChooseKept() {
    std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
      if (a.boundary != b.boundary) return a.boundary > b.boundary;
      return a.name < b.name;
    });
    if (points_.size() < o_.keep_snapshots) {
      rep_.nothing_because = "only " + std::to_string(points_.size()) + " of " +
                             std::to_string(o_.keep_snapshots) + " snapshot(s) to keep";
      for (const Point& p : points_) rep_.snapshots[p.index].action = "keep";
      return false;
    }
    B_ = points_[o_.keep_snapshots - 1].boundary;
    rep_.oldest_kept_boundary = B_;
    return true;
  }

  void Cut() {  // RET-5
    P_ = B_;
    for (const PruneRegistration& r : rep_.registrations) {
      if (r.pin) P_ = std::min(P_, *r.pin);
    }
    rep_.cut = P_;
  }

  // RET-7, RET-10: recovery points below B, the lowest boundary first.
  void PlanSnapshots() {
    std::vector<const Point*> below;
    for (const Point& p : points_) {
      rep_.snapshots[p.index].action = p.boundary < B_ ? "remove" : "keep";
      if (p.boundary < B_) below.push_back(&p);
    }
    std::reverse(below.begin(), below.end());
    for (const Point* p : below) rep_.plan.push_back(p->name);
    rep_.plan_snapshots = below.size();
  }

  // RET-6: valid segments of this system wholly at or below P, never the
  // newest of the lineage, in apply order (LOG-5).
  Status PlanSegments() {
    const std::vector<archive::CatalogSegment>& segs = catalog_.segments;
    // The newest: the highest commit its epoch owns (LOG-20), then the
    // later epoch; a superseded tail of an older epoch never counts.
    auto reach = [&](const archive::CatalogSegment& s) {
      return std::make_pair(lineage_.LastOwned(s.info.epoch, s.info.last_commit), s.info.epoch);
    };
    std::optional<std::pair<uint64_t, uint32_t>> newest;
    std::vector<size_t> by_reach(segs.size());
    for (size_t i = 0; i < segs.size(); ++i) by_reach[i] = i;
    std::sort(by_reach.begin(), by_reach.end(), [&](size_t a, size_t b) { return reach(segs[a]) > reach(segs[b]); });
    for (size_t i : by_reach) {
      AERO_ASSIGN_OR_RETURN(std::optional<std::string> why, Judge(segs[i]));
      if (!why) {
        newest = reach(segs[i]);
        break;
      }
    }
    for (const archive::CatalogSegment& e : segs) {
      if (e.info.last_commit > P_) continue;
      AERO_ASSIGN_OR_RETURN(std::optional<std::string> why, Judge(e));
      if (!why && newest && reach(e) >= *newest) why = "the newest segment";
      if (why) {
        rep_.kept_segments.push_back({e.name(), false, *why});
        continue;
      }
      rep_.plan.push_back(e.name());
    }
    return Status::Ok();
  }

  // Why segment `e` must stay (RET-6), nullopt when it may go.
  Result<std::optional<std::string>> Judge(const archive::CatalogSegment& e) {
    Result<std::unique_ptr<ReadableFile>> f = archive_->OpenRead(e.name());
    if (!f.ok()) {
      if (f.status().code() == Code::kNotFound) return std::optional<std::string>("gone");
      if (f.status().code() == Code::kRefused) return std::optional<std::string>(NoKeyReason(f.status()));  // ENC-14
      return f.status();
    }
    segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &e.info);
    switch (c.state) {
      case segment::SegmentState::kIoError:
        // ENC-14: an envelope without its key is refused at its first read.
        if (c.io.code() == Code::kRefused) return std::optional<std::string>(NoKeyReason(c.io));
        return c.io;
      case segment::SegmentState::kInTransit: return std::optional<std::string>("in transit: " + c.detail);
      case segment::SegmentState::kCorrupt: return std::optional<std::string>("corrupt: " + c.detail);
      case segment::SegmentState::kValid: break;
    }
    if (!system_ || !(c.header.system_id == *system_)) {
      return std::optional<std::string>("another database: system id " + c.header.system_id.ToHex());
    }
    return std::optional<std::string>();
  }

  // ENC-14: an envelope read without its key (DecryptingFs refuses it,
  // ENC-11) is neither corrupt nor in transit: it cannot be judged.
  static std::string NoKeyReason(const Status& s) { return "encrypted, no key: " + s.message(); }

  // RET-10: oldest first, each removal durable before the next; RET-13:
  // NAME.sig after NAME, then the orphans.
  Status Execute() {
    const std::set<std::string> sigs(rep_.sidecars.begin(), rep_.sidecars.end());
    for (const std::string& name : rep_.plan) {
      AERO_RETURN_IF_ERROR(RemoveDurably(name));
      rep_.removed.push_back(name);
      if (!sigs.count(name + ".sig")) continue;
      AERO_RETURN_IF_ERROR(RemoveDurably(name + ".sig"));  // RET-13: the sidecar after its file
      rep_.removed_sidecars.push_back(name + ".sig");
    }
    for (const std::string& sig : rep_.orphan_sidecars) {
      AERO_RETURN_IF_ERROR(RemoveDurably(sig));
      rep_.removed_orphans.push_back(sig);
    }
    return Status::Ok();
  }

  Status RemoveDurably(const std::string& name) {
    Status s = archive_->Remove(name);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    return archive_->MakeDurable();
  }

  // OBJ-14: the store's uploads, stale by the store's own clock, aborted.
  Status AbortStaleUploads() {
    auto* store = dynamic_cast<archive::S3Archive*>(archive_.get());
    if (!store) return Status::Ok();
    AERO_ASSIGN_OR_RETURN(archive::S3Archive::UploadListing listing, store->ListUploadsDated());
    rep_.store_date = listing.date;
    const std::optional<int64_t> now = s3::ParseHttpDate(listing.date);
    const int64_t stale = static_cast<int64_t>(o_.stale_upload_hours) * 3600;
    for (const archive::S3Archive::DatedUpload& u : listing.uploads) {
      PruneUpload p;
      p.key = u.key;
      p.upload_id = u.upload_id;
      p.initiated = u.initiated;
      p.action = "keep";
      const std::optional<int64_t> began = s3::ParseIso8601(u.initiated);
      if (now && began) p.age_seconds = *now - *began;
      if (p.age_seconds >= 0 && p.age_seconds >= stale) p.action = "abort";  // OBJ-14
      rep_.uploads.push_back(p);
    }
    if (o_.dry_run) return Status::Ok();
    for (PruneUpload& p : rep_.uploads) {
      if (p.action != "abort") continue;
      AERO_RETURN_IF_ERROR(store->AbortUpload(p.key, p.upload_id));
      p.aborted = true;
    }
    return Status::Ok();
  }

  Fs& fs_;
  const PruneOptions& o_;
  PruneReport& rep_;
  std::unique_ptr<archive::Archive> archive_;
  archive::Catalog catalog_;
  std::map<std::string, snapshot::Manifest> manifests_;  // the valid ones, by name
  std::optional<history::SystemId> system_;
  history::Lineage lineage_;
  std::vector<Point> points_;
  uint64_t B_ = 0, P_ = 0;
};

}  // namespace

Status Prune(Fs& fs, const PruneOptions& o, PruneReport* report) {
  PruneReport scratch;
  PruneReport& rep = report ? *report : scratch;
  if (o.keep_snapshots == 0) {
    return Status(Code::kUsage, Problem("invalid --keep-snapshots", "0", "at least 1"),
                  "keep at least the newest snapshot");
  }
  return Pruner(fs, o, rep).Run();
}

}  // namespace aero::repl
