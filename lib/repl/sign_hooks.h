// The signature hooks of ship-wal, apply-wal and verify
// (specs/REPLICATION_SIGNING.md SIG-5..SIG-10), kept out of those commands'
// files: each command calls one of these at one point.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "archive/archive.h"
#include "common/fs.h"
#include "common/status.h"
#include "history/history_file.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "sign/ed25519.h"
#include "sign/judge.h"
#include "sign/trust.h"

namespace aero::repl {

// SIG-1: what a signature must say about a segment and a history file.
sign::Statement SegmentFacts(const std::string& name, const segment::SegmentHeader& h, uint64_t size,
                             const Sha256Digest& seal);
sign::Statement HistoryFacts(std::string_view bytes, const history::HistoryFile& h);

// SIG-9, SIG-12, SIG-30: the signer of ship-wal and promote
// (`--signing-key`): publishes `NAME.sig` into the writer's archive.
class SidecarSigner {
 public:
  explicit SidecarSigner(sign::SigningKey key) : key_(std::move(key)) {}
  // The sidecar of segment `name` as `h`, `size` and `seal` describe it.
  // `run`: the writer's run id for the temp name (LOG-31), if it has one.
  Status SignSegment(Fs& fs, archive::Archive& target, const std::string& name, const segment::SegmentHeader& h,
                     uint64_t size, const Sha256Digest& seal, std::string_view run = {}) const;
  // The sidecar of one of the node's own history files.
  Status SignHistory(Fs& fs, archive::Archive& target, const history::HistoryFile& h,
                     std::string_view run = {}) const;

 private:
  sign::SigningKey key_;
};

// SIG-12: nullptr when `path` is empty; kUsage for a bad key file.
Result<std::unique_ptr<SidecarSigner>> LoadSidecarSigner(const std::string& path);

// SIG-5, SIG-30: required mode for a reader of one archive (a directory or
// an s3:// archive), the one the command opened (not owned).
class SignatureGate {
 public:
  SignatureGate(archive::Archive& archive, sign::TrustSet trust, history::SystemId system)
      : archive_(archive), trust_(std::move(trust)), system_(system) {}
  // Step 1, before the segment's header is judged (SIG-5): its sidecar alone.
  Status CheckSegmentSidecar(const std::string& name, sign::Judgement* out);
  // Step 2, once the header is valid: the statement against the file (SIG-7).
  Status CompareSegment(const sign::Judgement& signed_by, const std::string& name,
                        const segment::SegmentCheck& c);
  // SIG-7: in required mode, a damaged copy is not the signed file: 1, not halted.
  Status NotTheSignedFile(const std::string& name, const std::string& detail);
  // SIG-10: every history file of the archive, before the lineage is built.
  Status CheckHistoryFiles();
  // SIG-13 (verify): the judgement of one history file of the archive.
  sign::Judgement JudgeHistoryFile(const std::string& name);
  const sign::TrustSet& trust() const { return trust_; }

 private:
  archive::Archive& archive_;  // SIG-30: never a path of the gate's own
  sign::TrustSet trust_;
  history::SystemId system_;
};

// SIG-10, SIG-13, SIG-14: the judgement of history file `name` of `a`:
// its sidecar (JudgeSidecar), then the statement against the file's bytes.
sign::Judgement JudgeHistoryInArchive(archive::Archive& a, const std::string& name, const sign::TrustSet& trust,
                                      const history::SystemId& system);

// SIG-4, SIG-5, SIG-30: the gate of `archive` (not owned; it outlives the
// gate) when the trust set of `flag_dir` and the node at `data_dir` is not
// empty; nullptr otherwise.
Result<std::unique_ptr<SignatureGate>> MakeSignatureGate(Fs& fs, archive::Archive& archive,
                                                         const std::string& flag_dir,
                                                         const std::string& data_dir,
                                                         const history::SystemId& system);

}  // namespace aero::repl
