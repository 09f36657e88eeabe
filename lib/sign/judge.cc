// SIG-5..SIG-8: the one judge of a file's signature.
#include "sign/judge.h"

#include "sign/signature_format.h"

namespace aero::sign {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kSigned: return "signed";
    case Outcome::kUnsigned: return "unsigned";
    case Outcome::kInTransit: return "in-transit";
    case Outcome::kBadSignature: return "bad-signature";
    case Outcome::kUnknownKey: return "unknown-key";
    case Outcome::kRetiredKey: return "retired-key";
    case Outcome::kIoError: return "io-error";
  }
  return "bad-signature";
}

Code OutcomeCode(Outcome o) {
  switch (o) {
    case Outcome::kSigned: return Code::kOk;
    case Outcome::kUnsigned:
    case Outcome::kInTransit: return Code::kInTransit;  // SIG-6
    case Outcome::kBadSignature: return Code::kDamage;  // SIG-7
    case Outcome::kUnknownKey:
    case Outcome::kRetiredKey: return Code::kRefused;  // SIG-8
    case Outcome::kIoError: return Code::kIo;
  }
  return Code::kDamage;
}

Status Judgement::ToStatus() const {
  const std::string recopy = "replace '" + name + "' and '" + name +
                             ".sig' with a fresh copy from the writer's directory, then re-run";
  switch (outcome) {
    case Outcome::kSigned: return Status::Ok();
    case Outcome::kUnsigned:
      return Status(Code::kInTransit, Problem("signature in transit", path, detail),
                    "re-run once '" + name + ".sig' has arrived; if the writer's directory has no '" + name +
                        ".sig' either, the writer did not sign: run it with --signing-key");
    case Outcome::kInTransit:
      return Status(Code::kInTransit, Problem("signature in transit", path, detail),
                    "re-run once the copy has finished");
    case Outcome::kBadSignature: return Status(Code::kDamage, Problem("bad signature", path, detail), recopy);
    case Outcome::kUnknownKey:
      return Status(Code::kRefused, Problem("unknown signing key", path, detail),
                    "if that key is one of your writers', put its public key into the trust directory; "
                    "otherwise the file is forged: remove it and its .sig");
    case Outcome::kRetiredKey:
      return Status(Code::kRefused, Problem("retired signing key", path, detail),
                    "the file was signed with a key retired for its epoch: remove it and its .sig, and "
                    "sign with a current key");
    case Outcome::kIoError: return io;
  }
  return Status(Code::kInternal, "unknown signature outcome");
}

namespace {

Judgement Make(Outcome o, const std::string& path, const std::string& name, std::string detail) {
  Judgement j;
  j.outcome = o;
  j.path = path;
  j.name = name;
  j.detail = std::move(detail);
  return j;
}

}  // namespace

Judgement JudgeSidecar(archive::Archive& a, const std::string& name, Kind kind, const TrustSet& trust) {
  const std::string sig_name = SidecarName(name);
  const std::string path = a.PathOf(sig_name);
  Result<std::unique_ptr<ReadableFile>> f = a.OpenRead(sig_name);
  if (!f.ok()) {
    if (f.status().code() == Code::kNotFound) {  // SIG-6: not here yet, or never signed
      return Make(Outcome::kUnsigned, path, name, "not here yet (or '" + name + "' was published unsigned)");
    }
    Judgement j = Make(Outcome::kIoError, path, name, f.status().message());
    j.io = f.status();
    return j;
  }
  std::string bytes;
  char buf[kMaxSidecarBytes + 1];
  for (;;) {
    Result<size_t> n = (*f)->Read(buf, sizeof buf);
    if (!n.ok()) {
      Judgement j = Make(Outcome::kIoError, path, name, n.status().message());
      j.io = n.status();
      return j;
    }
    if (*n == 0) break;
    bytes.append(buf, *n);
    if (bytes.size() > kMaxSidecarBytes) break;
  }
  DecodedSidecar d = DecodeSidecar(bytes);
  if (d.state == SidecarState::kInTransit) return Make(Outcome::kInTransit, path, name, d.detail);
  if (d.state == SidecarState::kMalformed) return Make(Outcome::kBadSignature, path, name, "malformed: " + d.detail);
  const Statement& s = d.sidecar.statement;
  if (s.kind != kind || s.name != name) {  // SIG-7: a sidecar of another file
    return Make(Outcome::kBadSignature, path, name,
                "it signs " + std::string(KindName(s.kind)) + " '" + s.name + "', not " +
                    std::string(KindName(kind)) + " '" + name + "'");
  }
  const TrustedKey* k = trust.Find(s.key_id);
  if (!k) {  // SIG-8
    return Make(Outcome::kUnknownKey, path, name, "key " + s.key_id + " is not trusted");
  }
  if (k->retired_from && s.epoch >= *k->retired_from) {  // SIG-8, SIG-11
    return Make(Outcome::kRetiredKey, path, name,
                "key " + s.key_id + " is retired from epoch " + std::to_string(*k->retired_from) +
                    ", the file is of epoch " + std::to_string(s.epoch));
  }
  if (!k->key.Verify(d.sidecar.statement_bytes, d.sidecar.signature)) {  // SIG-7
    return Make(Outcome::kBadSignature, path, name,
                "the Ed25519 signature does not verify with key " + s.key_id);
  }
  Judgement j = Make(Outcome::kSigned, path, name, "");
  j.statement = s;
  return j;
}

Judgement CompareWithFile(Judgement j, const Statement& facts) {
  if (!j.ok()) return j;
  const Statement& s = j.statement;
  if (facts.size < s.size && facts.kind != Kind::kSegment) {  // still arriving (a segment's own check says so)
    j.outcome = Outcome::kInTransit;
    j.detail = "'" + j.name + "' has " + std::to_string(facts.size) + " of the " + std::to_string(s.size) +
               " bytes its signature describes";
    return j;
  }
  const std::string field = FirstDifference(s, facts, /*ignore_key=*/true);
  if (!field.empty()) {  // SIG-7: the statement does not describe this file
    j.outcome = Outcome::kBadSignature;
    j.detail = "the file is not the one signed: its " + field + " differs from the signed statement";
  }
  return j;
}

Judgement JudgeSignature(archive::Archive& a, const Statement& facts, const TrustSet& trust) {
  return CompareWithFile(JudgeSidecar(a, facts.name, facts.kind, trust), facts);
}

}  // namespace aero::sign
