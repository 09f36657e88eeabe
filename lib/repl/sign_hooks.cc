// SIG-5..SIG-10: the signature hooks of ship-wal, apply-wal and verify.
#include "repl/sign_hooks.h"

#include "archive/history_files.h"
#include "archive/segment_catalog.h"
#include "common/file_util.h"
#include "sign/publish.h"

namespace aero::repl {

sign::Statement SegmentFacts(const std::string& name, const segment::SegmentHeader& h, uint64_t size,
                             const Sha256Digest& seal) {
  sign::Statement s;
  s.kind = sign::Kind::kSegment;
  s.name = name;
  s.size = size;
  s.sha256 = seal;  // SIG-1: the seal fixes every byte with the name and the size
  s.chain = h.digest_after;
  s.epoch = h.epoch;
  return s;
}

sign::Statement HistoryFacts(std::string_view bytes, const history::HistoryFile& h) {
  sign::Statement s;
  s.kind = sign::Kind::kHistory;
  s.name = history::HistoryFileName(h.epoch);
  s.size = bytes.size();
  s.sha256 = Sha256::Of(bytes);
  s.chain = h.branch_digest;
  s.epoch = h.epoch;
  return s;
}

Status SidecarSigner::SignSegment(Fs& fs, archive::Archive& target, const std::string& name,
                               const segment::SegmentHeader& h, uint64_t size, const Sha256Digest& seal,
                               std::string_view run) const {
  return sign::PublishSidecar(fs, target, key_, SegmentFacts(name, h, size, seal), nullptr, run);  // SIG-9
}

Status SidecarSigner::SignHistory(Fs& fs, archive::Archive& target, const history::HistoryFile& h,
                                  std::string_view run) const {
  return sign::PublishSidecar(fs, target, key_, HistoryFacts(history::EncodeHistoryFile(h), h), nullptr,
                              run);  // SIG-9
}

Result<std::unique_ptr<SidecarSigner>> LoadSidecarSigner(const std::string& path) {
  if (path.empty()) return std::unique_ptr<SidecarSigner>();
  AERO_ASSIGN_OR_RETURN(sign::SigningKey key, sign::LoadSigningKey(path));  // SIG-12
  return std::make_unique<SidecarSigner>(std::move(key));
}

Status SignatureGate::CheckSegmentSidecar(const std::string& name, sign::Judgement* out) {
  *out = sign::JudgeSidecar(archive_, name, sign::Kind::kSegment, trust_);  // SIG-5..SIG-8
  return out->ToStatus();
}

Status SignatureGate::CompareSegment(const sign::Judgement& signed_by, const std::string& name,
                                     const segment::SegmentCheck& c) {
  return sign::CompareWithFile(signed_by, SegmentFacts(name, c.header, c.size, c.trailer_sha)).ToStatus();  // SIG-7
}

Status SignatureGate::NotTheSignedFile(const std::string& name, const std::string& detail) {
  return Status(Code::kDamage,
                Problem("bad signature", archive_.PathOf(sign::SidecarName(name)),
                        "the file is not the one signed: " + detail),
                "replace '" + name + "' and '" + name +
                    ".sig' with a fresh copy from the writer's directory, then re-run");  // SIG-7
}

sign::Judgement JudgeHistoryInArchive(archive::Archive& archive_, const std::string& name, const sign::TrustSet& trust_,
                                      const history::SystemId& system_) {
  sign::Judgement j = sign::JudgeSidecar(archive_, name, sign::Kind::kHistory, trust_);
  if (!j.ok()) return j;
  Result<std::string> bytes = archive::ReadArchiveFile(archive_, name, history::kMaxHistoryFileBytes + 1);
  if (!bytes.ok()) {
    j.outcome = sign::Outcome::kIoError;
    j.io = bytes.status();
    return j;
  }
  Result<history::HistoryFile> h =
      history::DecodeHistoryFile(*bytes, j.statement.epoch, system_, archive_.PathOf(name));
  if (!h.ok()) {
    // SIG-7: not the signed file (or still arriving: shorter than signed).
    sign::Statement facts = j.statement;
    facts.size = bytes->size();
    facts.sha256 = Sha256::Of(*bytes);
    return sign::CompareWithFile(j, facts);
  }
  return sign::CompareWithFile(j, HistoryFacts(*bytes, *h));
}

sign::Judgement SignatureGate::JudgeHistoryFile(const std::string& name) {
  return JudgeHistoryInArchive(archive_, name, trust_, system_);
}

Status SignatureGate::CheckHistoryFiles() {
  AERO_ASSIGN_OR_RETURN(archive::Catalog c, archive::SegmentCatalog(archive_).List());
  for (const std::string& name : c.history_files) {
    AERO_RETURN_IF_ERROR(JudgeHistoryFile(name).ToStatus());  // SIG-10
  }
  return Status::Ok();
}

Result<std::unique_ptr<SignatureGate>> MakeSignatureGate(Fs& fs, archive::Archive& archive,
                                                         const std::string& flag_dir,
                                                         const std::string& data_dir,
                                                         const history::SystemId& system) {
  AERO_ASSIGN_OR_RETURN(sign::TrustSet trust, sign::LoadTrustSet(fs, flag_dir, data_dir));
  if (trust.empty()) return std::unique_ptr<SignatureGate>();
  return std::make_unique<SignatureGate>(archive, std::move(trust), system);  // SIG-30
}

}  // namespace aero::repl
