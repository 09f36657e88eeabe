// SIG-13: verify DIR --trusted-keys K: each segment and history file of a
// directory judged by the judge apply-wal uses (sign::JudgeSidecar and
// CompareWithFile through SignatureGate), one finding per outcome.
#include "repl/verify_sign.h"

#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "history/system_id.h"
#include "repl/sign_hooks.h"
#include "segment/segment_reader.h"

namespace aero::repl {

namespace {

Severity SeverityOf(sign::Outcome o) {
  switch (o) {
    case sign::Outcome::kUnsigned:
    case sign::Outcome::kInTransit: return Severity::kInTransit;
    case sign::Outcome::kUnknownKey:
    case sign::Outcome::kRetiredKey: return Severity::kForeign;  // 5, as apply-wal
    case sign::Outcome::kIoError: return Severity::kIo;
    case sign::Outcome::kSigned:
    case sign::Outcome::kBadSignature: break;
  }
  return Severity::kDamage;
}

void Add(VerifyReport* report, const sign::Judgement& j, uint64_t at_commit) {
  if (j.ok()) return;
  const Status s = j.ToStatus();
  Finding f;
  f.severity = SeverityOf(j.outcome);
  f.kind = sign::OutcomeName(j.outcome);
  f.subject = j.path;
  f.message = s.message();
  f.hint = s.hint();
  f.at_commit = at_commit;
  report->findings.push_back(std::move(f));
}

}  // namespace

Status AddSignatureFindings(Fs& fs, const std::string& dir, const std::string& trusted_keys,
                            VerifyReport* report) {
  AERO_ASSIGN_OR_RETURN(sign::TrustSet trust, sign::LoadTrustSet(fs, trusted_keys, ""));
  if (trust.empty()) return Status::Ok();
  history::SystemId system{};
  for (const SegmentSummary& s : report->segments) {
    if (s.state != "valid") continue;
    Result<history::SystemId> id = history::ParseSystemId(s.system_id);
    if (id.ok()) system = *id;
    break;
  }
  // OBJ-12: a directory or an s3:// archive, through the one factory.
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<archive::Archive> opened, archive::OpenArchive(fs, dir));
  archive::Archive& a = *opened;
  AERO_ASSIGN_OR_RETURN(archive::Catalog catalog, archive::SegmentCatalog(a).List());
  SignatureGate gate(a, trust, system);
  for (const std::string& name : catalog.history_files) Add(report, gate.JudgeHistoryFile(name), 0);
  for (const archive::CatalogSegment& e : catalog.segments) {
    sign::Judgement j = sign::JudgeSidecar(a, e.name(), sign::Kind::kSegment, trust);
    if (j.ok()) {
      Result<std::unique_ptr<ReadableFile>> f = a.OpenRead(e.name());
      if (!f.ok()) continue;  // the segment's own findings say so
      segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &e.info);
      if (c.state != segment::SegmentState::kValid) continue;  // its own finding; apply: 1 or 8 too
      j = sign::CompareWithFile(j, SegmentFacts(e.name(), c.header, c.size, c.trailer_sha));
    }
    Add(report, j, e.info.first_commit);
  }
  return Status::Ok();
}

}  // namespace aero::repl
