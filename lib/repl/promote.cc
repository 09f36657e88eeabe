#include "repl/promote.h"

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "common/random.h"
#include "node/layout.h"
#include "node/permit.h"
#include "node/store.h"
#include "repl/sign_hooks.h"

namespace aero::repl {

namespace {

// MODEL-8, step by step; each step is a method and returns at its refusal.
class Promoter {
 public:
  Promoter(Fs& fs, const PromoteOptions& o, PromoteReport& rep) : fs_(fs), o_(o), rep_(rep) {}

  Status Run() {
    AERO_ASSIGN_OR_RETURN(signer_, LoadSidecarSigner(o_.signing_key));  // SIG-12: before anything is written
    AERO_RETURN_IF_ERROR(OpenNode());
    if (o_.archive) {
      AERO_ASSIGN_OR_RETURN(archive_, archive::OpenArchive(fs_, *o_.archive));  // OBJ-12
      AERO_RETURN_IF_ERROR(CheckArchive());
    }
    AERO_RETURN_IF_ERROR(WriteIntent());
    if (archive_) AERO_RETURN_IF_ERROR(Claim());
    if (archive_ && signer_) AERO_RETURN_IF_ERROR(signer_->SignHistory(fs_, *archive_, claim_));  // SIG-10
    return Commit();
  }

 private:
  // Step 1: the lock and NODE-4 (the commit record of applied at
  // applied.wal_offset; nothing else of the log is read), RECOV-2, then
  // the one policy.
  Status OpenNode() {
    AERO_ASSIGN_OR_RETURN(node_, node::Node::Open(fs_, o_.data_dir, node::Access::kWrite));
    AERO_RETURN_IF_ERROR(node::Permit(node_->authority(), node::Operation::kPromote, o_.data_dir));
    const node::NodeState& st = node_->state();
    rep_.resumed = st.promoting.has_value();
    next_epoch_ = st.epoch + 1;
    if (st.epoch == UINT32_MAX) {
      return Status(Code::kRefused, Problem("refusing to promote", o_.data_dir, "the epoch is at its limit"),
                    "bootstrap a new system");
    }
    return Status::Ok();
  }

  // Step 2 (MODEL-8, HFILE-5): the marker, every history file, and the
  // segments of the lineage beyond applied.
  Status CheckArchive() {
    AERO_RETURN_IF_ERROR(archive_->ClaimsAllowed());  // OBJ-7: never a claim where it is not exclusive
    const history::SystemId& sys = node_->identity().system_id;
    AERO_RETURN_IF_ERROR(archive::CheckClaimArchive(*archive_, sys));
    AERO_ASSIGN_OR_RETURN(std::unique_ptr<SignatureGate> gate,
                          MakeSignatureGate(fs_, *archive_, o_.trusted_keys, o_.data_dir, sys));
    if (gate) AERO_RETURN_IF_ERROR(gate->CheckHistoryFiles());  // SIG-10: no unsigned claim is read
    AERO_ASSIGN_OR_RETURN(std::vector<history::HistoryFile> files, archive::ReadHistoryFiles(*archive_, sys));
    const node::NodeState& st = node_->state();
    for (const history::HistoryFile& h : files) {
      if (h.epoch < next_epoch_) continue;
      if (h.epoch == next_epoch_ && st.promoting && h.claimant == st.promoting->claimant) continue;
      // MODEL-6: the epoch (or a later one) belongs to another node; an
      // intent of an earlier run is dropped: the node stays a replica.
      if (st.promoting) {
        // MODEL-8: the temp file a run killed before its publish left in
        // the archive is this claimant's alone, and nothing else removes it.
        (void)fs_.Remove(archive_->TempPath(ClaimTempName(st.promoting->epoch, st.promoting->claimant)));
        AERO_RETURN_IF_ERROR(node_->DropIntent());
      }
      return Claimed(h);
    }
    AERO_ASSIGN_OR_RETURN(archive::Catalog cat, archive::SegmentCatalog(*archive_).List());
    uint64_t newest = st.applied_commit;
    for (const archive::CatalogSegment& s : cat.segments) {
      if (s.info.epoch <= st.epoch && s.info.last_commit > newest) newest = s.info.last_commit;
    }
    if (newest > st.applied_commit) {
      if (!o_.discard_after_applied) {
        return Status(Code::kRefused,
                      Problem("refusing to promote", o_.data_dir,
                              "the archive holds commits through " + std::to_string(newest) +
                                  ", this node applied " + std::to_string(st.applied_commit)),
                      "run apply-wal first, or pass --discard-after-applied to abandon commits " +
                          std::to_string(st.applied_commit + 1) + ".." + std::to_string(newest))
            .WithReason("behind");
      }
      rep_.abandoned_commits = newest - st.applied_commit;
    }
    return Status::Ok();
  }

  // MODEL-8 step 4: the claim's temp name, the claimant's own.
  static std::string ClaimTempName(uint32_t epoch, const history::Claimant& claimant) {
    return "." + history::HistoryFileName(epoch) + "." + history::ClaimantToHex(claimant) + ".tmp";
  }

  Status Claimed(const history::HistoryFile& h) {
    return Status(Code::kRefused,
                  Problem("epoch already claimed", archive_->PathOf(history::HistoryFileName(h.epoch)),
                          "another node owns epoch " + std::to_string(h.epoch) + " (claimant " +
                              history::ClaimantToHex(h.claimant) + ", branch commit " +
                              std::to_string(h.branch_commit) + ")"),
                  "this node stays a replica; follow the new primary with apply-wal")
        .WithReason("claimed");
  }

  // Step 3: the intent, durably, before anything is claimed; a re-run
  // keeps the stored claimant.
  Status WriteIntent() {
    const node::NodeState& st = node_->state();
    if (!st.promoting) {
      history::Claimant c{};
      AERO_RETURN_IF_ERROR(RandomBytes(c.data(), c.size(), "the promotion's claimant"));
      AERO_RETURN_IF_ERROR(node_->RecordIntent(node::IntentAt(st, c)));
    }
    const node::Promoting& p = *node_->state().promoting;
    claim_.system_id = node_->identity().system_id;
    claim_.epoch = p.epoch;
    claim_.branch_commit = p.branch_commit;
    claim_.branch_digest = p.branch_digest;
    claim_.claimant = p.claimant;
    claim_.lineage = node_->history().LineageThrough(st.epoch);
    claim_.lineage.push_back({p.epoch, p.branch_commit});
    return Status::Ok();
  }

  // Step 4 (MODEL-6): the exclusive publish; an existing file is ours (a
  // re-run) or the winner's (the intent is dropped, 5 claimed).
  Status Claim() {
    const std::string name = history::HistoryFileName(claim_.epoch);
    const std::string temp = ClaimTempName(claim_.epoch, claim_.claimant);
    Status published =
        archive::PublishBytesExclusive(fs_, *archive_, temp, name, history::EncodeHistoryFile(claim_));
    rep_.history_file = archive_->PathOf(name);
    if (published.code() != Code::kRefused) return published;
    AERO_ASSIGN_OR_RETURN(std::string bytes,
                          archive::ReadArchiveFile(*archive_, name, history::kMaxHistoryFileBytes + 1));
    AERO_ASSIGN_OR_RETURN(history::HistoryFile there,
                          history::DecodeHistoryFile(bytes, claim_.epoch, claim_.system_id,
                                                     archive_->PathOf(name)));
    if (there.claimant == claim_.claimant) return archive_->MakeDurable();  // our own earlier claim
    AERO_RETURN_IF_ERROR(node_->DropIntent());
    return Claimed(there);
  }

  // Step 5: the history copy, then role and epoch in one replace.
  Status Commit() {
    AERO_RETURN_IF_ERROR(node_->FinishPromote(claim_));
    rep_.epoch = claim_.epoch;
    rep_.branch_commit = claim_.branch_commit;
    rep_.branch_digest = claim_.branch_digest;
    rep_.claimant = history::ClaimantToHex(claim_.claimant);
    rep_.local = !archive_;
    if (!archive_) rep_.history_file = JoinPath(JoinPath(o_.data_dir, node::kHistoryDir),
                                                history::HistoryFileName(claim_.epoch));
    return node_->Close();
  }

  Fs& fs_;
  const PromoteOptions& o_;
  PromoteReport& rep_;
  std::unique_ptr<node::Node> node_;
  std::unique_ptr<archive::Archive> archive_;  // a directory or an s3:// archive (OBJ-12)
  std::unique_ptr<SidecarSigner> signer_;  // SIG-10, --signing-key
  uint32_t next_epoch_ = 0;
  history::HistoryFile claim_;
};

}  // namespace

Status Promote(Fs& fs, const PromoteOptions& options, PromoteReport* report) {
  PromoteReport scratch;
  return Promoter(fs, options, report ? *report : scratch).Run();
}

}  // namespace aero::repl
