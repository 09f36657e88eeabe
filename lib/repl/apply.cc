#include "repl/apply.h"

#include <algorithm>
#include <map>
#include <optional>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "common/background_writer.h"
#include "common/file_util.h"
#include "common/log.h"
#include "crypto/encrypted_file.h"
#include "history/digest.h"
#include "history/lineage.h"
#include "node/place_tree.h"
#include "node/layout.h"
#include "node/own_folder.h"
#include "node/store.h"
#include "repl/inbox_memo.h"
#include "repl/sign_hooks.h"
#include "sign/trust.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_reader.h"

namespace aero::repl {

namespace {

using history::Digest;

using InboxEntry = archive::CatalogSegment;

// ARC-3: the inbox's segments in apply order (LOG-5), and what it skips.
Result<archive::Catalog> ListInbox(archive::Archive& a, ApplyReport& rep) {
  AERO_ASSIGN_OR_RETURN(archive::Catalog c, archive::ListInbox(a));
  rep.skipped = c.skipped;
  return c;
}

// LOG-28, LOG-33: the segments a run judged, for the memo: those at or
// below the applied commit when judged, folded into a sum (a run that ends
// in 0 has acknowledged at least that far), and the few above it (a
// superseded range) with their last commit, to be filtered at the end.
struct JudgedNow {
  MemoSum at_or_below;
  std::vector<std::pair<uint64_t, Sha256Digest>> above;
};

class Applier {
 public:
  Applier(archive::Archive& inbox, node::Node& node, const ApplyOptions& o, ApplyReport& rep)
      : inbox_(inbox), node_(node), o_(o), rep_(rep) {}

  // LOG-28: each segment judged (duplicate, not-checked, applied), by the
  // identity of the file that was read.
  const JudgedNow& judged() const { return judged_; }
  // SIG-5: required mode (not owned; nullptr: no trusted key).
  void RequireSignatures(SignatureGate* gate) { gate_ = gate; }

  // `history_files`: the inbox's, from the listing `entries` came from.
  Status Run(const std::vector<InboxEntry>& entries, const std::vector<std::string>& history_files) {
    rep_.from_commit = rep_.applied_commit = node_.state().applied_commit;
    AERO_RETURN_IF_ERROR(node_.BeginAppend());
    AERO_RETURN_IF_ERROR(LoadLineage(history_files));
    AERO_RETURN_IF_ERROR(PrepareOwnDigests(entries));
    // LOG-33: row 7 looks our H(L) up at a listed segment's last commit L
    // alone, so an applied segment's end digest is kept only where another
    // listed segment ends (a map node per segment was most of a
    // bootstrap's memory); 8 bytes a segment for the lookup.
    ends_.clear();
    ends_.reserve(entries.size());
    for (const InboxEntry& e : entries) ends_.push_back(e.info.last_commit);
    std::sort(ends_.begin(), ends_.end());
    Status s;
    // OPS-7: the sizes of the files to take, counted as each is taken.
    std::vector<uint64_t> sizes;
    uint64_t total = 0, done = 0;
    if (o_.progress) {
      for (const InboxEntry& e : entries) {
        Result<std::unique_ptr<ReadableFile>> f = inbox_.OpenRead(e.name());
        Result<uint64_t> size = f.ok() ? (*f)->Size() : Result<uint64_t>(f.status());
        sizes.push_back(size.ok() ? *size : 0);
        total += sizes.back();
      }
      o_.progress(0, total);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const InboxEntry& e = entries[i];
      if (o_.until && node_.state().applied_commit >= *o_.until) break;
      if (o_.stop && o_.stop->load()) break;  // FOLLOW-4: between segments
      s = Take(e);
      if (!s.ok()) break;
      if (o_.progress) o_.progress(done += sizes[i], total);
    }
    if (s.ok() && o_.progress && done < total) o_.progress(total, total);  // --until, or all judged
    // Segments are acknowledged together (FinishAppend, then Persist): one WAL
    // fsync and one state.json per ApplyOptions::ack_every_bytes, and always before
    // the run ends, whatever stopped it (LOG-13).
    Status persisted = Persist();
    if (!persisted.ok()) {
      for (auto& seg : rep_.segments) {  // verified and appended, never acknowledged
        if (seg.outcome == "applied" && seg.applied_to > rep_.applied_commit) {
          seg.outcome = "unacknowledged";
        }
      }
    }
    return s.ok() ? persisted : s;
  }

 private:
  std::string PathOf(const InboxEntry& e) const { return inbox_.PathOf(e.name()); }

  // LOG-13: acknowledges what FinishAppend applied in memory; the
  // report's applied_commit is always what is durable.
  Status Persist() {
    AERO_RETURN_IF_ERROR(node_.PersistApplied());
    rep_.applied_commit = node_.state().applied_commit;
    return Status::Ok();
  }

  // Row 7 needs our own H(L) for duplicates; one WAL scan serves the run.
  Status PrepareOwnDigests(const std::vector<InboxEntry>& entries) {
    std::vector<uint64_t> wanted;
    for (const InboxEntry& e : entries) {
      if (e.info.last_commit <= node_.state().applied_commit) wanted.push_back(e.info.last_commit);
    }
    uint64_t damaged_at = 0;
    Result<std::map<uint64_t, Digest>> own = node_.DigestsAt(wanted, &damaged_at);
    if (own.ok()) {
      own_ = std::move(own).value();
      return Status::Ok();
    }
    if (own.status().code() != Code::kDamage) return own.status();
    // LOG-27: the replica's own acknowledged log is damaged mid-log.
    const Status damage = own.status().WithHint(
        "this node is halted; restore it from a healthy copy (a replica: 'snapshot install' "
        "from its primary's archive)");
    return Halt("corrupt", JoinPath(o_.data_dir, node::kWalFile), damage.message(), damaged_at,
                damage);
  }

  // Step 2 (LOG-15, LOG-20, RECOV-3): the inbox's history files and the
  // replica's copies as one chain; a replica past the branch point of the
  // next epoch applied write sets that epoch superseded.
  Status LoadLineage(const std::vector<std::string>& history_files) {
    const node::NodeState& st = node_.state();
    if (gate_) AERO_RETURN_IF_ERROR(gate_->CheckHistoryFiles());  // SIG-10: before any claim is used
    archive::Archive& inbox = inbox_;
    Result<history::Lineage> lineage =
        archive::ReadLineage(inbox, node_.identity().system_id, node_.history().files(),
                             JoinPath(o_.data_dir, node::kHistoryDir), history_files);
    if (!lineage.ok()) {
      const Status& s = lineage.status();
      if (s.code() == Code::kDiverged) {
        // RECOV-2: a copy of the node's own that its log contradicts is
        // damage in this node (1, as verify says), not the inbox's history.
        for (const history::HistoryFile& h : node_.history().files()) {
          AERO_RETURN_IF_ERROR(node_.CheckHistoryCopy(h));
        }
      }
      switch (s.code()) {
        case Code::kDamage: return Halt("corrupt", o_.inbox, s.message(), st.applied_commit + 1, s);
        case Code::kRefused: return Halt("foreign", o_.inbox, s.message(), st.applied_commit + 1, s);
        case Code::kDiverged: return Halt("diverged", o_.inbox, s.message(), st.applied_commit + 1, s);
        default: return s;  // in transit (8), I/O
      }
    }
    lineage_ = std::move(lineage).value();
    if (lineage_.max_epoch() <= st.epoch) return Status::Ok();
    const uint64_t b = *lineage_.Branch(st.epoch + 1);
    const history::SourcedFile* next = lineage_.File(st.epoch + 1);
    const bool past = st.applied_commit > b;
    if (past || (st.applied_commit == b && next && next->file.branch_digest != st.applied_digest)) {
      const std::string subject = next ? next->path : o_.inbox;
      const std::string detail =
          past ? "commits " + std::to_string(b + 1) + ".." + std::to_string(st.applied_commit) +
                     " of epoch " + std::to_string(st.epoch) + " were superseded by epoch " +
                     std::to_string(st.epoch + 1) + ", which began after commit " + std::to_string(b)
               : "epoch " + std::to_string(st.epoch + 1) + " began after commit " + std::to_string(b) +
                     " from another history (digest " + history::DigestToHex(next->file.branch_digest) +
                     ", this node has " + history::DigestToHex(st.applied_digest) + ")";
      return Halt("diverged", subject, detail, past ? b + 1 : b,
                  Status(Code::kDiverged, Problem("diverged", subject, detail),
                         "this replica applied write sets the new primary does not have: rebuild it "
                         "from the new primary ('snapshot install --discard-existing' from its archive)"));
    }
    return Status::Ok();
  }

  // LOG-20: the epoch switch before the first write set of epoch S > R, at
  // A = b_S: every epoch R+1..S branches from this replica's digest.
  Status SwitchTo(uint32_t epoch) {
    const node::NodeState& st = node_.state();
    std::vector<history::HistoryFile> files;
    for (uint32_t e = st.epoch + 1; e <= epoch; ++e) {
      const history::SourcedFile* f = lineage_.File(e);
      if (!f) {
        return Status(Code::kInTransit,
                      Problem("history file in transit", inbox_.PathOf(history::HistoryFileName(e)),
                              "the switch to epoch " + std::to_string(epoch) + " needs it"),
                      "re-run apply-wal once the history file has arrived");
      }
      if (f->file.branch_commit != st.applied_commit || f->file.branch_digest != st.applied_digest) {
        const std::string detail = "epoch " + std::to_string(e) + " began after commit " +
                                   std::to_string(f->file.branch_commit) + " with digest " +
                                   history::DigestToHex(f->file.branch_digest) + ", this node has " +
                                   history::DigestToHex(st.applied_digest) + " at commit " +
                                   std::to_string(st.applied_commit);
        return Halt("diverged", f->path, detail, st.applied_commit,
                    Status(Code::kDiverged, Problem("diverged", f->path, detail),
                           "this replica cannot follow that history: rebuild it in a new directory "
                           "from the primary it should follow"));
      }
      files.push_back(f->file);
    }
    return node_.SwitchEpoch(files);
  }

  Status Halt(const std::string& code, const std::string& subject, const std::string& detail,
              uint64_t commit, Status outcome) {
    AERO_RETURN_IF_ERROR(node_.Halt({code, subject, detail, commit}));
    rep_.halted = true;
    return outcome;
  }

  Status Diverged(const InboxEntry& e, uint64_t commit, const Digest& theirs,
                  const Digest& ours) {
    const std::string detail = "segment digest " + history::DigestToHex(theirs) +
                               ", this node has " + history::DigestToHex(ours);
    return Halt("diverged", PathOf(e), "at commit " + std::to_string(commit) + ": " + detail,
                commit,
                Status(Code::kDiverged,
                       Problem("diverged at commit " + std::to_string(commit), PathOf(e), detail),
                       "this replica cannot follow that history: keep only its own history's "
                       "segments in the inbox, or rebuild it in a new directory from the "
                       "primary it should follow"));
  }

  Status Corrupt(const InboxEntry& e, const std::string& detail) {  // LOG-12, row 2
    return Halt("corrupt", PathOf(e), detail, node_.state().applied_commit + 1,
                Status(Code::kDamage, Problem("corrupt segment", PathOf(e), detail),
                       "replace the file from the archive, then run 'aerodb-repl unhalt'"));
  }

  Status InTransit(const InboxEntry& e, const std::string& detail) {  // LOG-6, row 1
    return Status(Code::kInTransit, Problem("segment in transit", PathOf(e), detail),
                  "re-run apply-wal once the transfer has finished");
  }

  // LOG-6, row 1: a file the replica needs none of (its name's last commit
  // at or below A) never stalls the run while it is copied: passed over,
  // judged as a duplicate by the first run that finds it complete.
  Status InTransitAtOrBelowA(const InboxEntry& e, const std::string& detail) {
    if (e.info.last_commit > node_.state().applied_commit) return InTransit(e, detail);
    rep_.segments.push_back({e.info.epoch, e.info.first_commit, e.info.last_commit, 0, 0, "in-transit"});
    return Status::Ok();
  }

  // ENC-31: a plain file of fewer bytes than a magic is a copy just begun,
  // not yet known to be plain (in transit, 8): its detail, else nullopt.
  static std::optional<std::string> ShortOfMagic(ReadableFile& file) {
    Result<uint64_t> size = file.Size();
    if (!size.ok() || *size >= segment::kSegmentMagic.size()) return std::nullopt;
    return std::to_string(*size) + " bytes present: not yet known to be encrypted";
  }

  // LOG-6 before SIG-5's sidecar: whether a file the replica needs none of
  // is still being copied, from its envelope or header alone (nothing of it
  // is used, so no signature is needed to pass it over; a sidecar that has
  // not arrived yet must not stall the run on it).
  std::optional<std::string> StillArriving(const InboxEntry& e, ReadableFile& file) {
    if (e.info.last_commit > node_.state().applied_commit) return std::nullopt;
    const crypto::Envelope* env = crypto::EnvelopeOf(file);
    if (env != nullptr) {
      if (env->state == Verdict::kInTransit) return "encrypted file: " + env->detail;
      if (env->state != Verdict::kValid) return std::nullopt;
    } else if (o_.require_encryption) {
      return ShortOfMagic(file);
    }
    const segment::SegmentCheck c = segment::CheckSegmentHeader(file, &e.info);
    if (c.state == segment::SegmentState::kInTransit) return c.detail;
    return std::nullopt;
  }

  Status Take(const InboxEntry& e) {
    // Row 10 first, from the name (LOG-7): every later entry starts at F or
    // after (LOG-5), so nothing past A can be applied, and a file past the
    // gap is not opened: judged when it is the next one, never halting now.
    const uint64_t A = node_.state().applied_commit;
    if (e.info.first_commit > A + 1) {
      // Row 6 by the name: a write set past the next epoch's branch point
      // is no part of this replica's history, gap or not (LOG-20).
      // A name no segment can have (epoch 0, first above last) is no
      // superseded one: the gap.
      const bool sane = e.info.epoch >= 1 && e.info.first_commit <= e.info.last_commit;
      if (!sane || !lineage_.Superseded(e.info.epoch, e.info.first_commit, e.info.last_commit)) {
        return GapOrForeign(e, A);
      }
      rep_.segments.push_back({e.info.epoch, e.info.first_commit, e.info.last_commit, 0, 0, "superseded"});
      return Status::Ok();
    }
    Result<std::unique_ptr<ReadableFile>> opened = inbox_.OpenRead(e.name());
    if (!opened.ok()) {
      if (opened.status().code() == Code::kNotFound) return Status::Ok();  // moved away meanwhile
      // FM-20: cut while its magic was read (a copy over it); LOG-6 for a file already applied.
      if (opened.status().code() == Code::kInTransit && e.info.last_commit <= A) {
        return InTransitAtOrBelowA(e, opened.status().message());
      }
      return opened.status();
    }
    ReadableFile& file = **opened;
    const size_t before = rep_.segments.size();
    Status s = Judge(e, file);
    for (size_t i = before; i < rep_.segments.size(); ++i) {  // OPS-5
      const AppliedSegment& seg = rep_.segments[i];
      log::Lib().debug("{} {}: commits {}..{}", seg.outcome, seg.name(), seg.first_commit,
                       seg.last_commit);
    }
    // LOG-28: judged, so passed over by later runs; a file still in transit
    // is not judged yet (LOG-6).
    if (s.ok() && rep_.segments.size() > before && rep_.segments.back().outcome != "in-transit") {
      Result<FileInfo> info = crypto::RawInfo(file);  // LOG-28: as Stat sees it
      if (info.ok()) {
        const Sha256Digest id = IdentityDigest(e.name(), *info);
        if (e.info.last_commit <= node_.state().applied_commit) {
          judged_.at_or_below.Add(id);
        } else {
          judged_.above.emplace_back(e.info.last_commit, id);
        }
      }
    }
    return s;
  }

  // Row 3, LOG-11: another database's file halts the replica.
  Status Foreign(const InboxEntry& e, const segment::SegmentHeader& h, uint64_t A) {
    const std::string detail = "system id " + h.system_id.ToHex() + ", this node is " +
                               node_.identity().system_id.ToHex();
    return Halt("foreign", PathOf(e), detail, A + 1,
                Status(Code::kRefused, Problem("foreign segment", PathOf(e), detail),
                       "remove files of other databases from the inbox, then run "
                       "'aerodb-repl unhalt'"));
  }

  // Row 10, LOG-7, at the first entry past the gap: only its header's
  // system id is read, since another database's file never closes a gap
  // (LOG-11: it halts, 5); anything else about it waits for the gap.
  Status GapOrForeign(const InboxEntry& e, uint64_t A) {
    Result<std::unique_ptr<ReadableFile>> opened = inbox_.OpenRead(e.name());
    if (opened.ok()) {
      const segment::SegmentCheck c = segment::CheckSegmentHeader(**opened, &e.info);
      if (c.state == segment::SegmentState::kValid && !(c.header.system_id == node_.identity().system_id)) {
        return Foreign(e, c.header, A);
      }
    }
    return Gap(e, A);
  }

  // Row 10, LOG-7: commits A+1..F-1 are in no segment of the inbox.
  Status Gap(const InboxEntry& e, uint64_t A) const {
    const uint64_t F = e.info.first_commit;
    return Status(Code::kGap,
                  Problem("gap before commit " + std::to_string(A + 1) + " in", o_.inbox,
                          "next segment starts at " + std::to_string(F) + " ('" + e.name() +
                              "'); commits " + std::to_string(A + 1) + ".." +
                              std::to_string(F - 1) + " are missing"),
                  "the missing segment has not arrived; re-run apply-wal after the transfer "
                  "(if it no longer exists anywhere, use 'snapshot install')");
  }

  // ENC-31: required encryption refuses a plain segment; nothing of it is
  // used and the replica is not halted (the encrypted copy goes on).
  Status Plaintext(const InboxEntry& e) {
    return Status(Code::kRefused, Problem("plaintext segment", PathOf(e), "encryption is required here"),
                  "replace it with the encrypted copy (ship-wal --encryption-key), then re-run apply-wal")
        .WithReason("plaintext");
  }

  // ENC-6, ENC-7, ENC-11: an encrypted segment's envelope is judged before
  // its plaintext: in transit (row 1), corrupt (row 2, a halt), no key (5,
  // no halt). nullopt: a plain file, or an envelope that checks out.
  std::optional<Status> JudgeEnvelope(const InboxEntry& e, ReadableFile& file) {
    const crypto::Envelope* env = crypto::EnvelopeOf(file);
    if (env == nullptr) return std::nullopt;
    switch (env->state) {
      case Verdict::kValid: return std::nullopt;
      case Verdict::kInTransit: return InTransitAtOrBelowA(e, "encrypted file: " + env->detail);
      // SIG-7: in required mode a damaged copy of a signed file is a bad
      // signature (1, no halt), as for a plain segment.
      case Verdict::kCorrupt:
        return gate_ ? gate_->NotTheSignedFile(e.name(), "encrypted file: " + env->detail)
                     : Corrupt(e, "encrypted file: " + env->detail);
      case Verdict::kIoError: return env->io;
    }
    return std::nullopt;
  }

  // The classification of one segment (rows 1-10).
  Status Judge(const InboxEntry& e, ReadableFile& file) {
    const node::NodeState& st = node_.state();
    const uint64_t A = st.applied_commit;
    if (gate_) {
      if (std::optional<std::string> arriving = StillArriving(e, file)) return InTransitAtOrBelowA(e, *arriving);
    }
    sign::Judgement signed_by;  // SIG-5: the sidecar before the file can halt anything
    if (gate_) AERO_RETURN_IF_ERROR(gate_->CheckSegmentSidecar(e.name(), &signed_by));
    if (o_.require_encryption && crypto::EnvelopeOf(file) == nullptr) {  // ENC-31
      if (std::optional<std::string> short_of = ShortOfMagic(file)) return InTransitAtOrBelowA(e, *short_of);
      return Plaintext(e);
    }
    if (std::optional<Status> s = JudgeEnvelope(e, file)) return *s;
    segment::SegmentCheck c = segment::CheckSegmentHeader(file, &e.info);
    switch (c.state) {
      case segment::SegmentState::kInTransit: return InTransitAtOrBelowA(e, c.detail);
      case segment::SegmentState::kCorrupt: return gate_ ? gate_->NotTheSignedFile(e.name(), c.detail) : Corrupt(e, c.detail);
      case segment::SegmentState::kIoError: return c.io;
      case segment::SegmentState::kValid: break;
    }
    if (gate_) AERO_RETURN_IF_ERROR(gate_->CompareSegment(signed_by, e.name(), c));  // SIG-7
    const segment::SegmentHeader& h = c.header;
    if (!(h.system_id == node_.identity().system_id)) return Foreign(e, h, A);  // LOG-11, row 3
    if (h.epoch > lineage_.max_epoch()) {  // row 4: its history file (LOG-15) has not arrived
      const std::string hist = inbox_.PathOf(history::HistoryFileName(h.epoch));
      return Status(Code::kInTransit,
                    Problem("history file in transit", hist, "segment " + e.name() + " needs it"),
                    "re-run apply-wal once the history file has arrived");
    }
    const uint64_t F = h.first_commit, L_header = h.last_commit;
    const uint64_t b_s = *lineage_.Branch(h.epoch);
    if (h.epoch >= 2 && F <= b_s) {  // row 5, LOG-15: write sets its epoch does not own
      const std::string detail = "epoch " + std::to_string(h.epoch) + " began after commit " + std::to_string(b_s);
      return Halt("diverged", PathOf(e), "at commit " + std::to_string(F) + ": " + detail, F,
                  Status(Code::kDiverged, Problem("diverged at commit " + std::to_string(F), PathOf(e), detail),
                         "this segment was not shipped by the primary of its epoch: remove it, then run "
                         "'aerodb-repl unhalt'"));
    }
    // Row 6, LOG-20: write sets beyond the next epoch's branch point are
    // superseded; the rows below take the segment through L only.
    const uint64_t L = lineage_.LastOwned(h.epoch, L_header);
    if (F > L) {
      rep_.segments.push_back({e.info.epoch, F, L_header, 0, 0, "superseded"});
      return Status::Ok();
    }
    if (L <= A) {  // row 7, LOG-8: a duplicate is checked against our history
      auto it = own_.find(L);
      if (L < L_header || it == own_.end()) {  // cut short: its H(L) is not in the header
        rep_.segments.push_back({e.info.epoch, F, L_header, 0, 0, "not-checked"});
        return Status::Ok();
      }
      if (it->second != h.digest_after) return Diverged(e, L, h.digest_after, it->second);
      rep_.segments.push_back({e.info.epoch, F, L_header, 0, 0, "duplicate"});
      return Status::Ok();
    }
    if (F == A + 1 && h.digest_before != st.applied_digest) {  // row 9, LOG-10
      // Judged whole first, nothing appended: a segment whose own bytes
      // fail is damage, as verify calls the same file; only one valid in
      // itself is another history.
      const segment::SegmentCheck whole = segment::VerifySegment(file, &e.info);
      switch (whole.state) {
        case segment::SegmentState::kIoError: return whole.io;
        case segment::SegmentState::kInTransit: return InTransit(e, whole.detail);  // as verify says
        case segment::SegmentState::kCorrupt:
          return gate_ ? gate_->NotTheSignedFile(e.name(), whole.detail) : Corrupt(e, whole.detail);
        case segment::SegmentState::kValid: break;
      }
      return Diverged(e, A, h.digest_before, st.applied_digest);
    }
    if (F == A + 1 && st.applied_wal_offset != 0 && h.first_sequence != st.next_sequence &&
        h.first_sequence != 1) {  // LOG-32 (into an empty log, any first sequence: REC-8)
      const std::string detail = "its first sequence " + std::to_string(h.first_sequence) +
                                 " does not follow this replica's last, " +
                                 std::to_string(st.next_sequence - 1) + " (REC-8)";
      return gate_ ? gate_->NotTheSignedFile(e.name(), detail) : Corrupt(e, detail);
    }
    if (h.epoch > st.epoch) AERO_RETURN_IF_ERROR(SwitchTo(h.epoch));  // LOG-20, at A = b_S
    return Append(e, file, c, L);
  }

  // Rows 8 and 9 (LOG-9, LOG-10), in one pass (LOG-13): the records of
  // write sets A+1..end_commit are appended as the verification streams
  // past them; nothing is acknowledged until the whole file has verified
  // and the WAL is fsynced. A failure cuts the WAL back; a crash leaves
  // bytes past applied.wal_offset that a replica's next open drops (NODE-4).
  // `last`: the segment's last commit, or the branch point of a later epoch
  // that supersedes the rest (row 6).
  Status Append(const InboxEntry& e, ReadableFile& file, const segment::SegmentCheck& c, uint64_t last) {
    const node::NodeState& st = node_.state();
    const uint64_t A = st.applied_commit;
    const uint64_t F = c.header.first_commit, L = last;
    const uint64_t end_commit = o_.until ? std::min(L, *o_.until) : L;
    bool appending = F == A + 1;  // an overlap starts after commit A
    bool done = false;
    uint64_t end_sequence = 0;
    // The WAL is written on another thread while the scan goes on; the node
    // is not touched here again until Finish().
    BackgroundWriter wal_writer([this](std::string_view b) { return node_.AppendBytes(b); });
    segment::VerifyHooks hooks;
    hooks.keep_digests = {end_commit};
    if (F <= A) {
      hooks.keep_digests.push_back(A);
      // FM-40: appending starts after write set A only once the segment's
      // H(A) is ours; another history appends not one byte.
      hooks.sync_digests.push_back(A);
    }
    hooks.on_write_set = [&](const wal::WriteSet& ws) {
      if (ws.commit_id == A) {
        appending = ws.digest_after && *ws.digest_after == st.applied_digest;
      } else if (ws.commit_id == end_commit) {
        end_sequence = ws.last_sequence;
        done = true;
      }
      return true;
    };
    hooks.on_record = [&](const wal::Record& rec) {
      if (!appending || done) return;
      wal_writer.Write(rec.bytes, rec.owner);  // a reference, not a copy
    };
    segment::SegmentCheck v = segment::VerifySegment(file, &e.info, hooks);
    const Status append_status = wal_writer.Finish();
    auto abort = [&](Status s) {
      Status aborted = node_.AbortAppend();
      return aborted.ok() ? s : aborted;
    };
    if (v.state == segment::SegmentState::kInTransit) return abort(InTransit(e, v.detail));
    if (v.state == segment::SegmentState::kIoError) return abort(v.io);
    if (v.state != segment::SegmentState::kValid) {
      // A file whose size changed while it was read is being rewritten in
      // place (cp over it): not damage yet, an unfinished transfer (FM-20).
      Result<FileInfo> now = file.Info();
      if (now.ok() && now->size != c.size) {
        return abort(InTransit(e, "the file changed size while it was read (" +
                                      std::to_string(c.size) + " -> " +
                                      std::to_string(now->size) + " bytes)"));
      }
      return abort(gate_ ? gate_->NotTheSignedFile(e.name(), v.detail) : Corrupt(e, v.detail));  // SIG-7
    }
    if (!append_status.ok()) return abort(append_status);
    if (F <= A) {  // row 8, LOG-9
      auto at_a = v.digests.find(A);
      if (at_a == v.digests.end() || at_a->second != st.applied_digest) {
        return abort(Diverged(e, A, at_a == v.digests.end() ? Digest{} : at_a->second,
                              st.applied_digest));
      }
    }
    auto end_at = v.digests.find(end_commit);
    if (end_at == v.digests.end()) {
      return abort(Status(Code::kInternal, Problem("no history digest at commit", PathOf(e),
                                                   std::to_string(end_commit))));
    }
    const Digest end_digest = end_at->second;
    AERO_RETURN_IF_ERROR(node_.FinishAppend(end_commit, end_digest, end_sequence + 1));
    rep_.segments.push_back({e.info.epoch, F, c.header.last_commit, A + 1, end_commit, "applied"});
    const auto [lo, hi] = std::equal_range(ends_.begin(), ends_.end(), end_commit);
    if (hi - lo > (end_commit == e.info.last_commit ? 1 : 0)) own_[end_commit] = end_digest;  // LOG-33
    if (node_.unpersisted_bytes() >= o_.ack_every_bytes ||
        node_.unpersisted_segments() >= o_.ack_every_segments) {  // LOG-13, LOG-33
      return Persist();
    }
    return Status::Ok();
  }

  archive::Archive& inbox_;  // OBJ-12: a directory or an s3:// archive
  node::Node& node_;
  const ApplyOptions& o_;
  ApplyReport& rep_;
  std::map<uint64_t, Digest> own_;
  std::vector<uint64_t> ends_;  // every listed segment's last commit, sorted (LOG-33)
  JudgedNow judged_;  // LOG-33: a sum, not the identities
  history::Lineage lineage_;  // step 2: epochs 1..N and their branch points
  SignatureGate* gate_ = nullptr;  // SIG-5
};

// LOG-28: the segments an earlier run judged are passed over without being
// opened, when the inbox lists exactly the names that run recorded.
class JudgedBefore {
 public:
  JudgedBefore(Fs& fs, const ApplyOptions& o, ApplyReport& rep) : fs_(fs), o_(o), rep_(rep) {
    if (archive::IsObjectStore(o.inbox)) return;  // no memo for an object store: every segment is judged
    Result<std::string> real = RealPath(o.inbox);
    if (!real.ok()) return;  // listed a moment ago: the memo is only a cache
    real_ = *real;
    path_ = InboxMemoPath(o.data_dir, real_);
    memo_ = LoadInboxMemo(fs, path_, real_);
  }

  // The entries still to judge, in apply order.
  std::vector<InboxEntry> PassOver(const std::vector<InboxEntry>& entries) {
    if (!memo_ || memo_->applied > rep_.from_commit) return entries;
    MemoSum below;  // LOG-33: folded in as listed, none held
    for (const InboxEntry& e : entries) {
      if (e.info.last_commit > memo_->applied) continue;
      const std::string name = e.name();
      Result<FileInfo> info = fs_.Stat(JoinPath(o_.inbox, name));  // no byte is read
      if (!info.ok()) return entries;
      below.Add(IdentityDigest(name, *info));
    }
    if (!(below.For(memo_->applied) == *memo_)) return entries;  // a file came, went or changed
    passed_ = below;
    rep_.previously_checked = memo_->names;
    std::vector<InboxEntry> todo;
    for (const InboxEntry& e : entries) {
      if (e.info.last_commit > memo_->applied) todo.push_back(e);
    }
    return todo;
  }

  // After a run that ended in 0: what is judged at or below the durable
  // applied commit now. A memo that cannot be written costs the next run a
  // re-read, nothing else.
  void Record(const JudgedNow& judged_now) {
    if (real_.empty()) return;
    const uint64_t a = rep_.applied_commit;
    MemoSum judged = passed_;
    judged.Add(judged_now.at_or_below);
    for (const auto& [last_commit, identity] : judged_now.above) {
      if (last_commit <= a) judged.Add(identity);
    }
    const InboxMemo next = judged.For(a);
    if (memo_ && *memo_ == next) return;  // nothing new: no write
    (void)SaveInboxMemo(fs_, o_.data_dir, path_, real_, next);
  }

 private:
  Fs& fs_;
  const ApplyOptions& o_;
  ApplyReport& rep_;
  std::string real_, path_;
  std::optional<InboxMemo> memo_;
  MemoSum passed_;  // what PassOver passed over
};

Status RefuseNonEmpty(const std::string& dir) {
  return Status(Code::kRefused,
                Problem("refusing to apply", dir, "the directory is not empty and not a node"),
                "give an empty directory to bootstrap a new replica, or the replica's own");
}

// LOG-16: a new replica from the WAL alone, built beside DIR (MODEL-10).
// SIG-23: the keys of --trusted-keys join the replica's own trust
// directory, so a run without the flag still requires signatures.
Status KeepFlagKeys(Fs& fs, const std::string& flag_dir, const std::string& data_dir) {
  if (flag_dir.empty()) return Status::Ok();
  AERO_ASSIGN_OR_RETURN(sign::TrustSet flag, sign::LoadTrustSet(fs, flag_dir, ""));
  return sign::KeepTrustSet(fs, data_dir, flag);
}

Status Bootstrap(Fs& fs, archive::Archive& inbox, const ApplyOptions& o, ApplyReport& rep) {
  if (!o.trusted_keys.empty()) {  // SIG-4: a missing or empty trust directory (2) before the inbox
    AERO_RETURN_IF_ERROR(sign::LoadTrustSet(fs, o.trusted_keys, "").status());
  }
  AERO_ASSIGN_OR_RETURN(archive::Catalog catalog, ListInbox(inbox, rep));
  const std::vector<InboxEntry>& entries = catalog.segments;
  if (entries.empty()) {
    return Status(Code::kNotFound, Problem("no segments", o.inbox),
                  "ship from the primary first: aerodb-repl ship-wal -D PRIMARY --to DIR");
  }
  const InboxEntry& first = entries.front();
  if (first.info.first_commit > 1) {
    return Status(Code::kGap,
                  Problem("gap before commit 1 in", o.inbox,
                          "the oldest segment starts at " +
                              std::to_string(first.info.first_commit)),
                  "a replica bootstrapped from the WAL needs every commit from 1; use "
                  "'aerodb-repl snapshot install'");
  }
  const std::string path = inbox.PathOf(first.name());
  AERO_ASSIGN_OR_RETURN(auto file, inbox.OpenRead(first.name()));
  segment::SegmentCheck c = segment::CheckSegmentHeader(*file, &first.info);
  // ENC-6, ENC-7, ENC-33: an envelope's verdict before its plaintext's, as
  // the Applier judges it (a preallocated encrypted copy is not "0 bytes").
  if (const crypto::Envelope* env = crypto::EnvelopeOf(*file); env && env->state != Verdict::kValid) {
    c.state = env->state;  // one verdict type (common/verdict.h)
    c.detail = "encrypted file: " + env->detail;
    c.io = env->io;
  }
  if (c.state == segment::SegmentState::kInTransit) {
    return Status(Code::kInTransit, Problem("segment in transit", path, c.detail),
                  "re-run apply-wal once the transfer has finished");
  }
  if (c.state == segment::SegmentState::kIoError) return c.io;
  if (c.state != segment::SegmentState::kValid) {
    return Status(Code::kDamage, Problem("corrupt segment", path, c.detail),
                  "replace the file from the archive, then re-run apply-wal");
  }
  // SIG-4: a new replica has no trust directory of its own yet: the flag's.
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<SignatureGate> gate,
                        MakeSignatureGate(fs, inbox, o.trusted_keys, "", c.header.system_id));
  const std::string parent = DirName(o.data_dir);
  const std::string base = BaseName(o.data_dir);
  const std::string tmp = JoinPath(parent, HiddenName(base, ".bootstrap.tmp"));  // MODEL-10: ours alone
  const std::string lock_path = JoinPath(parent, HiddenName(base, ".bootstrap.lock"));
  AERO_ASSIGN_OR_RETURN(auto lock, fs.Lock(lock_path));
  AERO_RETURN_IF_ERROR(RemoveTree(fs, tmp));
  AERO_RETURN_IF_ERROR(
      node::Node::Build(fs, tmp, c.header.system_id, node::Role::kReplica, 1));  // LOG-20: switches follow
  AERO_RETURN_IF_ERROR(KeepFlagKeys(fs, o.trusted_keys, tmp));  // SIG-23: visible with the tree
  Status loop;
  bool applied = false;
  JudgedNow judged;  // LOG-28, for the memo
  {
    AERO_ASSIGN_OR_RETURN(auto n, node::Node::Open(fs, tmp, node::Access::kWrite));
    Applier applier(inbox, *n, o, rep);
    applier.RequireSignatures(gate.get());
    loop = applier.Run(entries, catalog.history_files);
    applied = rep.applied_commit > 0;  // durable: Run reports only what it acknowledged
    rep.from_commit = 0;
    judged = applier.judged();
  }
  if (!applied) {
    rep.halted = false;  // nothing was created, so nothing is halted
    AERO_RETURN_IF_ERROR(RemoveTree(fs, tmp));
    (void)fs.Remove(lock_path);
    return loop;
  }
  // The write sets applied are verified history, so the replica exists even
  // if a later segment stopped (or halted) the run.
  // FM-38: a DIR something wrote into meanwhile (an install) is 5, not 10.
  if (Status moved = node::PlaceNewTree(
          fs, tmp, o.data_dir, "refusing to create the replica", "apply-wal was bootstrapping it",
          "nothing was acknowledged; if another run or a snapshot install made the replica "
          "there, re-run apply-wal to catch it up; else move what is there aside and re-run");
      !moved.ok()) {
    // Nothing is acknowledged until DIR exists: the run applied nothing.
    rep.applied_commit = 0;
    for (auto& seg : rep.segments) {
      if (seg.outcome == "applied") seg.outcome = "unacknowledged";
    }
    (void)fs.Remove(lock_path);
    return moved;
  }
  (void)fs.Remove(lock_path);  // a racing run finds DIR taken and refuses
  rep.bootstrapped = true;
  // LOG-28: a bootstrap that ends in 0 records what it judged, as any run
  // does, so the next run does not judge every segment again.
  if (loop.ok()) JudgedBefore(fs, o, rep).Record(judged);
  return loop;
}

// apply-wal(1): a run that stops before the replica is opened still
// reports the acknowledged position, read without the lock (state.json is
// replaced whole); nothing when there is no replica to read.
void PeekPosition(Fs& fs, const std::string& dir, ApplyReport& rep) {
  Result<node::Identity> identity = node::LoadIdentity(fs, dir);
  if (!identity.ok()) return;
  Result<node::NodeState> st = node::LoadState(fs, dir, *identity);
  if (st.ok()) rep.from_commit = rep.applied_commit = st->applied_commit;
}

Status ApplyExisting(Fs& fs, const ApplyOptions& o, ApplyReport& rep);

}  // namespace

Status ApplyWal(Fs& fs, const ApplyOptions& o, ApplyReport* report) {
  ApplyReport scratch;
  ApplyReport& rep = report ? *report : scratch;
  Status s = ApplyExisting(fs, o, rep);
  if (!s.ok() && !rep.bootstrapped && rep.applied_commit == 0) PeekPosition(fs, o.data_dir, rep);
  return s;
}

namespace {

Status ApplyExisting(Fs& fs, const ApplyOptions& o, ApplyReport& rep) {
  // OBJ-12: the inbox through the one factory, a directory or an s3:// archive.
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<archive::Archive> inbox_archive, archive::OpenArchive(fs, o.inbox));
  if (!archive::IsObjectStore(o.inbox)) {
    AERO_RETURN_IF_ERROR(node::RefuseInboxInsideOwnFolder(o.data_dir, o.inbox));  // NODE-13
  }
  Result<FileInfo> info = fs.Stat(o.data_dir);
  if (!info.ok() && info.status().code() != Code::kNotFound) return info.status();
  if (!info.ok()) return Bootstrap(fs, *inbox_archive, o, rep);
  if (!info->is_dir) {
    return Status(Code::kRefused,
                  Problem("refusing to apply", o.data_dir,
                          info->is_regular ? "a file, not a directory" : "not a directory"),
                  "give the replica's directory, or a new one to bootstrap a replica");
  }
  AERO_ASSIGN_OR_RETURN(auto entries, fs.ListDir(o.data_dir));
  if (entries.empty()) return Bootstrap(fs, *inbox_archive, o, rep);
  AERO_ASSIGN_OR_RETURN(const bool is_node, node::HasIdentity(fs, o.data_dir));  // FM-137
  if (!is_node) return RefuseNonEmpty(o.data_dir);
  AERO_ASSIGN_OR_RETURN(auto n, node::Node::Open(fs, o.data_dir, node::Access::kWrite));
  rep.from_commit = rep.applied_commit = n->state().applied_commit;
  AERO_RETURN_IF_ERROR(n->BeginAppend());  // MODEL-9: halted (6) and role (5) before the inbox
  AERO_RETURN_IF_ERROR(KeepFlagKeys(fs, o.trusted_keys, o.data_dir));  // SIG-23
  AERO_ASSIGN_OR_RETURN(archive::Catalog inbox, ListInbox(*inbox_archive, rep));
  JudgedBefore judged(fs, o, rep);
  const std::vector<InboxEntry> todo = judged.PassOver(inbox.segments);
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<SignatureGate> gate,
                        MakeSignatureGate(fs, *inbox_archive, o.trusted_keys, o.data_dir,
                                          n->identity().system_id));  // SIG-30
  Applier applier(*inbox_archive, *n, o, rep);
  applier.RequireSignatures(gate.get());
  Status s = applier.Run(todo, inbox.history_files);
  if (s.ok()) judged.Record(applier.judged());
  return s;
}

}  // namespace

}  // namespace aero::repl
