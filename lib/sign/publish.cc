// SIG-9: a writer's sidecar, published before its file.
#include "sign/publish.h"

#include "archive/history_files.h"
#include "common/file_util.h"
#include "sign/signature_format.h"

namespace aero::sign {

Status PublishSidecar(Fs& fs, archive::Archive& a, const SigningKey& key, const Statement& s, bool* written,
                      std::string_view run) {
  if (written) *written = false;
  AERO_ASSIGN_OR_RETURN(std::string bytes, SignStatement(key, s));
  const std::string name = SidecarName(s.name);
  const std::string temp = HiddenName(name, run.empty() ? ".tmp" : "." + std::string(run) + ".tmp");
  bool renamed = false;
  Status published = archive::PublishBytesExclusive(fs, a, temp, name, bytes, &renamed);
  if (written) *written = renamed;  // ours, even when not known to be durable (FM-53)
  if (published.ok() || published.code() != Code::kRefused) return published;
  // SIG-9: one is there; never replaced.
  Result<std::string> there = archive::ReadArchiveFile(a, name, kMaxSidecarBytes + 1);
  if (!there.ok()) return there.status();
  if (*there == bytes) return a.MakeDurable();  // a re-ship: Ed25519 is deterministic
  DecodedSidecar d = DecodeSidecar(*there);
  if (d.state == SidecarState::kInTransit) {
    return Status(Code::kInTransit, Problem("signature in transit", a.PathOf(name), d.detail),
                  "another copy is being written under this name; re-run once it has finished");
  }
  if (d.state == SidecarState::kComplete && FirstDifference(d.sidecar.statement, s, true).empty()) {
    return a.MakeDurable();  // the same file, signed by another key (before a rotation): kept
  }
  const std::string why = d.state == SidecarState::kComplete
                              ? "it signs another file (its " + FirstDifference(d.sidecar.statement, s, true) +
                                    " differs)"
                              : "malformed: " + d.detail;
  return Status(Code::kDiverged, Problem("diverged", a.PathOf(name), "a different signature is there: " + why),
                "the target holds another file's signature under this name: compare both before "
                "removing either");
}

}  // namespace aero::sign
