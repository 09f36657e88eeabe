#include "repl/check_history.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "history/digest.h"
#include "history/lineage.h"
#include "node/store.h"
#include "repl/sign_hooks.h"
#include "sign/trust.h"
#include "segment/segment_reader.h"
#include "snapshot/archive_reader.h"

namespace aero::repl {

using history::Digest;

const char* RelationName(Relation r) {
  switch (r) {
    case Relation::kIdentical: return "identical";
    case Relation::kBehind: return "behind";
    case Relation::kAhead: return "ahead";
    case Relation::kDiverged: return "diverged";
    case Relation::kUnrelated: return "unrelated";
    case Relation::kUnprovable: return "unprovable";
  }
  return "unknown";
}

Code RelationCode(Relation r) {
  switch (r) {
    case Relation::kIdentical: return Code::kOk;
    case Relation::kBehind: return Code::kGap;
    case Relation::kAhead: return Code::kAhead;
    case Relation::kDiverged: return Code::kDiverged;
    case Relation::kUnrelated: return Code::kRefused;
    case Relation::kUnprovable: return Code::kNotFound;
  }
  return Code::kInternal;
}

std::string RelationHint(const CheckHistoryReport& r, const HistorySide& a, const HistorySide& b) {
  const std::string qa = "'" + a.path + "'", qb = "'" + b.path + "'";
  const bool a_node = a.kind == HistorySide::Kind::kNode;
  const std::string rebuild = "keep a copy of it (those commits exist nowhere else), then rebuild it from a "
                              "snapshot of the lineage it must follow: aerodb-repl snapshot install "
                              "--discard-existing -D DIR ARCHIVE";
  switch (r.relation) {
    case Relation::kIdentical:
      return "";
    case Relation::kBehind:
      return a_node ? qa + " holds nothing " + qb + " lacks: it can catch up from the segments of " + qb +
                          " (aerodb-repl apply-wal -D " + a.path +
                          " --from INBOX); an old primary first joins that lineage with aerodb-repl "
                          "rejoin -D " + a.path + " --archive CLAIM_ARCHIVE"
                    : qa + " is a prefix of " + qb + ": nothing in it is lost, " + qb +
                          " is the newer history";
    case Relation::kAhead:
      return qa + " holds commits " + qb + " lacks: if " + qb + " is a lagging replica or an older "
             "archive, nothing is wrong (it catches up from " + qa + "); if " + qb + " is the lineage " +
             qa + " must follow (a new primary's), " + qa + " cannot follow it as it is: " + rebuild;
    case Relation::kDiverged:
      return qa + " and " + qb + " are two histories after commit " + std::to_string(r.last_common.value_or(0)) +
             ": neither can follow the other; for the side that is not the lineage to follow, " + rebuild;
    case Relation::kUnrelated:
      return "two different databases (their system ids differ): check the paths; a replica follows only "
             "the database it was installed from";
    case Relation::kUnprovable:
      return "compare against a side that holds that digest: the node itself (-D DIR) rather than an "
             "archive of it, or an archive that holds the file named";
  }
  return "";
}

namespace {

// What one side knows (RECOV-9): every commit of an interval (a node's
// log), and single commits (segment boundaries, branch points, a
// snapshot's base and boundary); always H(0), the seed of its system id.
class Side {
 public:
  virtual ~Side() = default;
  virtual Result<std::map<uint64_t, Digest>> At(const std::vector<uint64_t>& commits) = 0;

  bool Knows(uint64_t c) const {
    return points_.count(c) > 0 || (interval_ && c >= interval_->first && c <= interval_->second);
  }
  const history::SystemId& system() const { return system_; }
  uint64_t last() const { return last_; }
  const std::string& label() const { return label_; }
  // The epoch that owns `commit` on this side; 0 when its lineage is not known.
  uint32_t EpochOf(uint64_t commit) const { return lineage_known_ ? lineage_.Owner(commit) : 0; }
  uint32_t epoch() const { return std::max(lineage_.max_epoch(), min_epoch_); }
  const std::optional<std::pair<uint64_t, uint64_t>>& interval() const { return interval_; }
  const history::Lineage& lineage() const { return lineage_; }
  // A node: every write set after its own branch point is of its epoch.
  std::optional<uint32_t> writer_epoch() const { return writer_epoch_; }
  const std::map<uint64_t, Digest>& points() const { return points_; }

 protected:
  history::SystemId system_;
  uint64_t last_ = 0;
  std::string label_;
  history::Lineage lineage_;
  uint32_t min_epoch_ = 1;
  bool lineage_known_ = true;
  std::optional<uint32_t> writer_epoch_;
  std::optional<std::pair<uint64_t, uint64_t>> interval_;
  std::map<uint64_t, Digest> points_;  // digests known without a read

  Result<std::map<uint64_t, Digest>> FromPoints(const std::vector<uint64_t>& commits) const {
    std::map<uint64_t, Digest> out;
    for (uint64_t c : commits) {
      auto it = points_.find(c);
      if (it != points_.end()) out[c] = it->second;
    }
    return out;
  }
};

// A data directory, opened read-only (a halted node too).
class NodeSide final : public Side {
 public:
  static Result<std::unique_ptr<Side>> Open(Fs& fs, const std::string& dir) {
    auto side = std::make_unique<NodeSide>();
    AERO_ASSIGN_OR_RETURN(side->node_, node::Node::Open(fs, dir, node::Access::kRead));
    const node::NodeState& st = side->node_->state();
    side->system_ = side->node_->identity().system_id;
    side->label_ = dir;
    side->last_ = st.applied_commit;
    side->interval_ = std::make_pair(st.base_commit, st.applied_commit);
    side->points_[0] = history::SeedDigest(side->system_);
    side->points_[st.base_commit] = st.base_digest;
    side->points_[st.applied_commit] = st.applied_digest;
    side->min_epoch_ = st.epoch;
    side->writer_epoch_ = st.epoch;
    std::vector<history::SourcedFile> files;
    for (const history::HistoryFile& h : side->node_->history().files()) files.push_back({h, dir});
    AERO_ASSIGN_OR_RETURN(side->lineage_, history::Lineage::Of(files));
    return std::unique_ptr<Side>(std::move(side));
  }

  Result<std::map<uint64_t, Digest>> At(const std::vector<uint64_t>& commits) override {
    using Digests = std::map<uint64_t, Digest>;
    AERO_ASSIGN_OR_RETURN(Digests out, FromPoints(commits));
    std::vector<uint64_t> need;
    for (uint64_t c : commits) {
      if (!out.count(c) && Knows(c)) need.push_back(c);
    }
    if (need.empty()) return out;
    uint64_t damaged_at = 0;
    AERO_ASSIGN_OR_RETURN(auto got, node_->DigestsAt(need, &damaged_at));  // one scan per batch
    out.insert(got.begin(), got.end());
    return out;
  }

 private:
  std::unique_ptr<node::Node> node_;
};

// A directory of segments and history files: their boundaries.
class ArchiveSide final : public Side {
 public:
  static Result<std::unique_ptr<Side>> Open(Fs& fs, const std::string& dir, const sign::TrustSet& trust,
                                            CheckHistoryReport& rep) {
    auto side = std::make_unique<ArchiveSide>();
    side->label_ = dir;
    AERO_ASSIGN_OR_RETURN(std::unique_ptr<archive::Archive> opened, archive::OpenArchive(fs, dir));  // OBJ-12
    archive::Archive& a = *opened;
    AERO_ASSIGN_OR_RETURN(archive::Catalog cat, archive::SegmentCatalog(a).List());
    struct Bound {
      segment::SegmentHeader h;
      std::string name;
    };
    std::vector<Bound> valid;
    for (const archive::CatalogSegment& e : cat.segments) {
      AERO_ASSIGN_OR_RETURN(auto f, a.OpenRead(e.name()));
      segment::SegmentCheck c = segment::CheckSegmentHeader(*f, &e.info);
      if (c.state == segment::SegmentState::kIoError) return c.io;
      if (c.state != segment::SegmentState::kValid) continue;  // in transit or damaged: proves nothing
      valid.push_back({c.header, e.name()});
    }
    if (valid.empty()) {
      return Status(Code::kNotFound, Problem("nothing to compare", dir, "no valid segment"),
                    "give a directory that holds segments, a data directory (-D) or a snapshot archive");
    }
    side->system_ = valid.front().h.system_id;
    if (!trust.empty()) AERO_RETURN_IF_ERROR(JudgeClaims(a, cat, trust, side->system_, rep));
    AERO_ASSIGN_OR_RETURN(side->lineage_, archive::ReadLineage(a, side->system_, {}, dir));
    side->points_[0] = history::SeedDigest(side->system_);
    for (uint32_t e = 2; e <= side->lineage_.max_epoch(); ++e) {
      if (const history::SourcedFile* f = side->lineage_.File(e)) {
        AERO_RETURN_IF_ERROR(side->Add(f->file.branch_commit, f->file.branch_digest, f->path));
        side->last_ = std::max(side->last_, f->file.branch_commit);  // RECOV-9: H(b_E) is known
      }
    }
    for (const Bound& b : valid) {
      if (!(b.h.system_id == side->system_)) continue;  // another database's file is not this history
      // LOG-20: write sets beyond the next epoch's branch point are not history.
      const std::optional<uint64_t> next = side->lineage_.Branch(b.h.epoch + 1);
      const uint64_t last = next ? std::min(b.h.last_commit, *next) : b.h.last_commit;
      if (b.h.first_commit > last) continue;
      AERO_RETURN_IF_ERROR(side->Add(b.h.first_commit - 1, b.h.digest_before, a.PathOf(b.name)));
      if (last == b.h.last_commit) AERO_RETURN_IF_ERROR(side->Add(last, b.h.digest_after, a.PathOf(b.name)));
      side->last_ = std::max(side->last_, last);
    }
    return std::unique_ptr<Side>(std::move(side));
  }

  Result<std::map<uint64_t, Digest>> At(const std::vector<uint64_t>& commits) override {
    return FromPoints(commits);
  }

 private:
  // SIG-14: every history file judged by SIG-10's judge before the lineage
  // is built from them; the first that is not signed is the error.
  static Status JudgeClaims(archive::Archive& a, const archive::Catalog& cat, const sign::TrustSet& trust,
                            const history::SystemId& system, CheckHistoryReport& rep) {
    rep.signatures_checked = true;
    for (const std::string& name : cat.history_files) {
      sign::Judgement j = JudgeHistoryInArchive(a, name, trust, system);
      rep.signatures.push_back({a.PathOf(name), sign::OutcomeName(j.outcome), j.ok() ? j.statement.key_id : ""});
      AERO_RETURN_IF_ERROR(j.ToStatus());
    }
    return Status::Ok();
  }

  // Two files that give one commit two digests: the directory itself holds
  // two histories (as verify DIR reports, ARC-3).
  Status Add(uint64_t commit, const Digest& d, const std::string& from) {
    auto [it, fresh] = points_.emplace(commit, d);
    if (fresh || it->second == d) {
      origin_.emplace(commit, from);
      return Status::Ok();
    }
    return Status(Code::kDiverged,
                  Problem("diverged at commit " + std::to_string(commit), from,
                          "'" + origin_[commit] + "' gives another digest there"),
                  "the directory mixes two histories: compare each with the node it came from");
  }
  std::map<uint64_t, std::string> origin_;
};

// A snapshot archive, verified whole first (SNAP-6): its base and boundary.
class SnapshotSide final : public Side {
 public:
  static Result<std::unique_ptr<Side>> Open(Fs& fs, const std::string& path) {
    auto side = std::make_unique<SnapshotSide>();
    side->label_ = path;
    AERO_RETURN_IF_ERROR(archive::RequireArchiveFile(
        fs, path, "give --snapshot the file that snapshot export wrote; nothing was compared"));
    AERO_ASSIGN_OR_RETURN(auto f, fs.OpenRead(path));
    snapshot::ArchiveCheck c = snapshot::ReadArchive(*f);
    if (c.state == snapshot::ArchiveState::kIoError) return c.io;
    if (c.state == snapshot::ArchiveState::kInTransit) {
      return Status(Code::kInTransit, Problem("archive in transit", path, c.detail),
                    "re-run once the copy has finished");
    }
    if (c.state != snapshot::ArchiveState::kValid || !c.manifest) {
      return Status(Code::kDamage, Problem("invalid archive", path, c.detail), "get a good copy of the archive");
    }
    const snapshot::Manifest& m = *c.manifest;
    side->system_ = m.system_id;
    side->min_epoch_ = m.epoch;
    side->lineage_known_ = m.epoch == 1;  // the manifest's lineage is not read yet (FM-62)
    side->last_ = m.boundary_commit;
    side->points_[0] = history::SeedDigest(m.system_id);
    side->points_[m.base_commit] = m.base_digest;
    side->points_[m.boundary_commit] = m.boundary_digest;
    return std::unique_ptr<Side>(std::move(side));
  }

  Result<std::map<uint64_t, Digest>> At(const std::vector<uint64_t>& commits) override {
    return FromPoints(commits);
  }
};

Result<std::unique_ptr<Side>> OpenSide(Fs& fs, const HistorySide& s, const sign::TrustSet& trust,
                                       CheckHistoryReport& rep) {
  switch (s.kind) {
    case HistorySide::Kind::kNode: return NodeSide::Open(fs, s.path);
    case HistorySide::Kind::kArchive: return ArchiveSide::Open(fs, s.path, trust, rep);
    case HistorySide::Kind::kSnapshot: return SnapshotSide::Open(fs, s.path);
  }
  return Status(Code::kInternal, Problem("unknown side kind", s.path));
}

// RECOV-8, RECOV-9: the comparison, in named steps.
class Comparer {
 public:
  Comparer(Side& a, Side& b, CheckHistoryReport& rep) : a_(a), b_(b), rep_(rep) {}

  Status Run() {
    rep_.a = {a_.system().ToHex(), a_.last(), a_.epoch()};
    rep_.b = {b_.system().ToHex(), b_.last(), b_.epoch()};
    if (!(a_.system() == b_.system())) {
      rep_.relation = Relation::kUnrelated;
      return Status::Ok();
    }
    AERO_ASSIGN_OR_RETURN(bool superseded, Superseded());
    if (superseded) return Status::Ok();
    const uint64_t m = std::min(a_.last(), b_.last());
    const uint64_t top = NewestCommon(m);
    AERO_ASSIGN_OR_RETURN(bool equal, EqualAt(top));
    if (equal && top == m) return Ordered(m);
    if (equal) return Unprovable(m, top);
    return Diverged(top);
  }

 private:
  // The lineage decides before the digests can: a node of epoch E whose
  // log goes past the branch point b of epoch E+1 in the other side's
  // lineage holds write sets E+1 owns (LOG-20). With equal digests at b,
  // the two part exactly at b + 1.
  Result<bool> Superseded() {
    for (Side* x : {&a_, &b_}) {
      Side& y = x == &a_ ? b_ : a_;
      if (!x->writer_epoch()) continue;
      const std::optional<uint64_t> b = y.lineage().Branch(*x->writer_epoch() + 1);
      if (!b || x->last() <= *b || !x->Knows(*b) || !y.Knows(*b)) continue;
      AERO_ASSIGN_OR_RETURN(bool equal, EqualAt(*b));
      if (!equal) continue;  // parted earlier: the digests find where
      rep_.relation = Relation::kDiverged;
      rep_.last_common = *b;
      rep_.first_differing = *b + 1;
      rep_.a_epoch = a_.EpochOf(*b + 1);
      rep_.b_epoch = b_.EpochOf(*b + 1);
      if (x == &a_) rep_.a_epoch = *x->writer_epoch();
      if (x == &b_) rep_.b_epoch = *x->writer_epoch();
      return true;
    }
    return false;
  }

  // The newest commit at or below `m` both sides know (0 always is).
  uint64_t NewestCommon(uint64_t m) const {
    uint64_t best = 0;
    if (a_.interval() && b_.interval()) {
      const uint64_t lo = std::max(a_.interval()->first, b_.interval()->first);
      const uint64_t hi = std::min({a_.interval()->second, b_.interval()->second, m});
      if (hi >= lo) best = hi;
    }
    for (const Side* s : {&a_, &b_}) {
      const Side& other = s == &a_ ? b_ : a_;
      for (auto it = s->points().begin(); it != s->points().end() && it->first <= m; ++it) {
        if (it->first > best && other.Knows(it->first)) best = it->first;
      }
    }
    return best;
  }

  Result<bool> EqualAt(uint64_t c) {
    AERO_ASSIGN_OR_RETURN(auto da, a_.At({c}));
    AERO_ASSIGN_OR_RETURN(auto db, b_.At({c}));
    rep_.probes += 2;
    return da.count(c) && db.count(c) && da[c] == db[c];
  }

  Status Ordered(uint64_t m) {
    if (a_.last() == b_.last()) {
      rep_.relation = Relation::kIdentical;
    } else if (a_.last() < b_.last()) {
      rep_.relation = Relation::kBehind;
      rep_.commits = b_.last() - m;
    } else {
      rep_.relation = Relation::kAhead;
      rep_.commits = a_.last() - m;
    }
    return Status::Ok();
  }

  Status Unprovable(uint64_t m, uint64_t agreed) {
    rep_.relation = Relation::kUnprovable;
    rep_.last_common = agreed;
    std::string lacks;
    for (const Side* s : {&a_, &b_}) {
      if (!s->Knows(m)) lacks += (lacks.empty() ? "'" : " and '") + s->label() + "'";
    }
    rep_.missing = "equal through commit " + std::to_string(agreed) + "; no digest at commit " +
                   std::to_string(m) + " in " + lacks +
                   " (a segment that ends there, or the node itself, would prove it)";
    return Status::Ok();
  }

  // Up to 63 commits both sides know, strictly between lo and hi, spread
  // evenly: one batch, one read of each side.
  std::vector<uint64_t> Probes(uint64_t lo, uint64_t hi) const {
    std::set<uint64_t> c;
    if (a_.interval() && b_.interval() && hi > lo + 1) {
      const uint64_t ilo = std::max({a_.interval()->first, b_.interval()->first, lo + 1});
      const uint64_t ihi = std::min({a_.interval()->second, b_.interval()->second, hi - 1});
      if (ihi >= ilo) {
        const uint64_t span = ihi - ilo + 1;
        const uint64_t n = std::min<uint64_t>(span, 63);
        for (uint64_t i = 0; i < n; ++i) c.insert(ilo + (span - 1) * i / std::max<uint64_t>(n - 1, 1));
      }
    }
    for (const Side* s : {&a_, &b_}) {
      const Side& other = s == &a_ ? b_ : a_;
      for (auto it = s->points().upper_bound(lo); it != s->points().end() && it->first < hi; ++it) {
        if (other.Knows(it->first)) c.insert(it->first);
      }
    }
    std::vector<uint64_t> all(c.begin(), c.end());
    if (all.size() <= 63) return all;
    std::vector<uint64_t> some;
    for (size_t i = 0; i < 63; ++i) some.push_back(all[i * (all.size() - 1) / 62]);
    return some;
  }

  // Equal at lo (0 at worst: one system, one seed), different at hi: the
  // transition, narrowed one batch at a time.
  Status Diverged(uint64_t hi) {
    uint64_t lo = 0;
    for (;;) {
      const std::vector<uint64_t> probes = Probes(lo, hi);
      if (probes.empty()) break;
      AERO_ASSIGN_OR_RETURN(auto da, a_.At(probes));
      AERO_ASSIGN_OR_RETURN(auto db, b_.At(probes));
      rep_.probes += 2 * probes.size();
      uint64_t next_lo = lo, next_hi = hi;
      for (uint64_t c : probes) {
        if (!da.count(c) || !db.count(c)) continue;
        if (da[c] == db[c]) {
          next_lo = c;
        } else {
          next_hi = c;
          break;
        }
      }
      if (next_lo == lo && next_hi == hi) break;  // nothing decided: no narrower proof
      lo = next_lo;
      hi = next_hi;
    }
    rep_.relation = Relation::kDiverged;
    rep_.last_common = lo;
    rep_.first_differing = hi;
    rep_.a_epoch = a_.EpochOf(lo + 1);
    rep_.b_epoch = b_.EpochOf(lo + 1);
    return Status::Ok();
  }

  Side& a_;
  Side& b_;
  CheckHistoryReport& rep_;
};

}  // namespace

Result<CheckHistoryReport> CheckHistory(Fs& fs, const HistorySide& a, const HistorySide& b) {
  return CheckHistory(fs, a, b, "");
}

Result<CheckHistoryReport> CheckHistory(Fs& fs, const HistorySide& a, const HistorySide& b,
                                        const std::string& trusted_keys) {
  // OBJ-12: an --archive side may be s3://; a node or a snapshot file is local.
  for (const HistorySide* s : {&a, &b}) {
    if (s->kind != HistorySide::Kind::kArchive) AERO_RETURN_IF_ERROR(archive::RefuseObjectStore(s->path, "check-history"));
  }
  // SIG-4, SIG-14: the flag's keys and every -D side's trust directory.
  AERO_ASSIGN_OR_RETURN(sign::TrustSet trust, sign::LoadTrustSet(fs, trusted_keys, ""));
  for (const HistorySide* s : {&a, &b}) {
    if (s->kind != HistorySide::Kind::kNode) continue;
    AERO_ASSIGN_OR_RETURN(sign::TrustSet own, sign::LoadTrustSet(fs, "", s->path));
    trust.Merge(own);
  }
  CheckHistoryReport rep;
  AERO_ASSIGN_OR_RETURN(auto sa, OpenSide(fs, a, trust, rep));
  AERO_ASSIGN_OR_RETURN(auto sb, OpenSide(fs, b, trust, rep));
  AERO_RETURN_IF_ERROR(Comparer(*sa, *sb, rep).Run());
  return rep;
}

}  // namespace aero::repl
