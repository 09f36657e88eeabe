#include "repl/rejoin.h"
#include "repl/sign_hooks.h"

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "history/lineage.h"
#include "node/layout.h"
#include "node/permit.h"
#include "node/store.h"
#include "segment/segment_reader.h"

namespace aero::repl {

namespace {

// RECOV-10, step by step.
class Rejoiner {
 public:
  Rejoiner(Fs& fs, const RejoinOptions& o, RejoinReport& rep)
      : fs_(fs), o_(o), rep_(rep) {}

  Status Run() {
    AERO_ASSIGN_OR_RETURN(archive_, archive::OpenArchive(fs_, o_.archive));  // OBJ-12
    AERO_RETURN_IF_ERROR(OpenNode());
    AERO_RETURN_IF_ERROR(ReadLineage());
    AERO_RETURN_IF_ERROR(CheckPrefix());
    return Commit();
  }

 private:
  // Step 1: the lock, NODE-4 and RECOV-2, then the one policy.
  Status OpenNode() {
    AERO_ASSIGN_OR_RETURN(node_, node::Node::Open(fs_, o_.data_dir, node::Access::kWrite));
    AERO_RETURN_IF_ERROR(node::Permit(node_->authority(), node::Operation::kRejoin, o_.data_dir));
    if (node_->enrolment()) {  // COMPAT-6: a replica's apply would write AeroDB's log
      return Status(Code::kRefused,
                    Problem("AeroDB writes this directory", o_.data_dir,
                            "a rejoined node is a replica, and apply-wal would append to the "
                            "log AeroDB writes"),
                    "stop AeroDB and make a replica of the new primary in a new directory "
                    "with 'snapshot install'");
    }
    rep_.epoch = node_->state().epoch;
    rep_.applied_commit = node_->state().applied_commit;
    return Status::Ok();
  }

  // Step 1: the claim archive's history files with the node's copies.
  Status ReadLineage() {
    const history::SystemId& sys = node_->identity().system_id;
    AERO_RETURN_IF_ERROR(archive::CheckClaimArchive(*archive_, sys));
    // SIG-10: in required mode (the node's own trust directory, SIG-4) no
    // unsigned or forged claim demotes it.
    AERO_ASSIGN_OR_RETURN(std::unique_ptr<SignatureGate> gate,
                          MakeSignatureGate(fs_, *archive_, "", o_.data_dir, sys));
    if (gate) AERO_RETURN_IF_ERROR(gate->CheckHistoryFiles());
    AERO_ASSIGN_OR_RETURN(lineage_, archive::ReadLineage(*archive_, sys, node_->history().files(),
                                                         JoinPath(o_.data_dir, node::kHistoryDir)));
    rep_.lineage_epoch = lineage_.max_epoch();
    if (lineage_.max_epoch() <= rep_.epoch) {
      return Status(Code::kRefused,
                    Problem("refusing to rejoin", o_.data_dir,
                            "this node is the primary of the newest epoch (" + std::to_string(rep_.epoch) + ")"),
                    "nothing to rejoin: no later epoch is claimed in '" + o_.archive + "'")
          .WithReason("notsuperseded");
    }
    return Status::Ok();
  }

  // Step 2: the node's history is a prefix of the lineage.
  Status CheckPrefix() {
    const node::NodeState& st = node_->state();
    const uint32_t next = st.epoch + 1;
    const uint64_t b = *lineage_.Branch(next);
    rep_.branch_commit = b;
    if (st.applied_commit > b) {
      rep_.superseded_from = b + 1;
      rep_.superseded_to = st.applied_commit;
      return Status(Code::kDiverged,
                    Problem("diverged", o_.data_dir,
                            "commits " + std::to_string(b + 1) + ".." + std::to_string(st.applied_commit) +
                                " were written after epoch " + std::to_string(next) + " began after commit " +
                                std::to_string(b) + "; no replica applies them"),
                    "rebuild this node from an archive of the new primary: move this directory "
                    "aside first if those write sets matter (they stay in its wal/wal.log), else "
                    "'aerodb-repl snapshot install --discard-existing'");
    }
    AERO_ASSIGN_OR_RETURN(std::optional<history::Digest> theirs, LineageDigestAt(st.applied_commit));
    if (!theirs) {
      return Status(Code::kNotFound,
                    Problem("unprovable", o_.archive,
                            "no digest of the lineage at commit " + std::to_string(st.applied_commit) +
                                ", this node's last"),
                    "keep the segments of the lineage in the claim archive, or rebuild this node");
    }
    if (*theirs != st.applied_digest) {
      return Status(Code::kDiverged,
                    Problem("diverged at commit " + std::to_string(st.applied_commit), o_.data_dir,
                            "the lineage has digest " + history::DigestToHex(*theirs) + ", this node " +
                                history::DigestToHex(st.applied_digest)),
                    "rebuild this node from the new primary: 'aerodb-repl snapshot install "
                    "--discard-existing' from an archive of it");
    }
    return Status::Ok();
  }

  // H(c) of the lineage: a history file's branch point, or a segment
  // boundary of the archive whose write sets the lineage owns.
  Result<std::optional<history::Digest>> LineageDigestAt(uint64_t c) {
    for (uint32_t e = 2; e <= lineage_.max_epoch(); ++e) {
      const history::SourcedFile* f = lineage_.File(e);
      if (f && f->file.branch_commit == c) return std::optional<history::Digest>(f->file.branch_digest);
    }
    if (c == 0) return std::optional<history::Digest>(history::SeedDigest(node_->identity().system_id));
    AERO_ASSIGN_OR_RETURN(archive::Catalog cat, archive::SegmentCatalog(*archive_).List());
    for (const archive::CatalogSegment& e : cat.segments) {
      if (e.info.first_commit - 1 != c && e.info.last_commit != c) continue;
      AERO_ASSIGN_OR_RETURN(auto f, archive_->OpenRead(e.name()));
      segment::SegmentCheck h = segment::CheckSegmentHeader(*f, &e.info);
      if (h.state == segment::SegmentState::kIoError) return h.io;  // ENC-14: no key is 5 with its hint, not unprovable
      if (h.state != segment::SegmentState::kValid || !(h.header.system_id == node_->identity().system_id)) continue;
      const std::optional<uint64_t> next = lineage_.Branch(h.header.epoch + 1);
      if (h.header.first_commit - 1 == c && (!next || c <= *next)) {
        return std::optional<history::Digest>(h.header.digest_before);
      }
      if (h.header.last_commit == c && (!next || c <= *next)) {
        return std::optional<history::Digest>(h.header.digest_after);
      }
    }
    return std::optional<history::Digest>();
  }

  // Step 3: the later epochs' history files, then role replica.
  Status Commit() {
    std::vector<history::HistoryFile> later;
    for (uint32_t e = rep_.epoch + 1; e <= lineage_.max_epoch(); ++e) {
      const history::SourcedFile* f = lineage_.File(e);
      if (!f) {
        return Status(Code::kNotFound,
                      Problem("history file missing", archive_->PathOf(history::HistoryFileName(e)),
                              "the lineage names epoch " + std::to_string(e) + " but its file is not here"),
                      "restore the claim archive's history files");
      }
      later.push_back(f->file);
    }
    AERO_RETURN_IF_ERROR(node_->BecomeReplica(later));
    return node_->Close();
  }

  Fs& fs_;
  const RejoinOptions& o_;
  RejoinReport& rep_;
  std::unique_ptr<archive::Archive> archive_;
  std::unique_ptr<node::Node> node_;
  history::Lineage lineage_;
};

}  // namespace

Status Rejoin(Fs& fs, const RejoinOptions& options, RejoinReport* report) {
  RejoinReport scratch;
  return Rejoiner(fs, options, report ? *report : scratch).Run();
}

}  // namespace aero::repl
