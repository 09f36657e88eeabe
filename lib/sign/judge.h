// The one judge of a file's signature (specs/REPLICATION_SIGNING.md
// SIG-5..SIG-8): apply-wal and verify ask it the same question and get
// the same outcome.
#pragma once

#include <string>

#include "archive/archive.h"
#include "common/status.h"
#include "sign/statement.h"
#include "sign/trust.h"

namespace aero::sign {

enum class Outcome {
  kSigned,        // 0
  kUnsigned,      // no NAME.sig: in transit, 8 (SIG-6)
  kInTransit,     // a sidecar still arriving, or the file shorter than signed: 8
  kBadSignature,  // 1, not halting (SIG-7)
  kUnknownKey,    // 5 (SIG-8)
  kRetiredKey,    // 5 (SIG-8, SIG-11)
  kIoError,       // 10
};
// "signed" | "unsigned" | "in-transit" | "bad-signature" | "unknown-key" | "retired-key" | "io-error"
const char* OutcomeName(Outcome o);
Code OutcomeCode(Outcome o);

struct Judgement {
  Outcome outcome = Outcome::kBadSignature;
  std::string path;    // NAME.sig, for messages
  std::string name;    // NAME
  std::string detail;  // why not signed
  Status io;           // kIoError only
  Statement statement;  // as signed (valid from the key check on)
  bool ok() const { return outcome == Outcome::kSigned; }
  // ok, or the outcome's code with `problem 'NAME.sig': detail` and a hint.
  Status ToStatus() const;
};

// SIG-5..SIG-8, the sidecar alone: NAME.sig of `a` decoded (SIG-2), its
// key trusted and not retired for its epoch, its Ed25519 signature valid;
// and the statement of the kind and the name the caller expects.
Judgement JudgeSidecar(archive::Archive& a, const std::string& name, Kind kind, const TrustSet& trust);

// SIG-7: a judgement that passed JudgeSidecar against what the file is:
// a file shorter than signed is in transit, any other difference is a bad
// signature naming the field.
Judgement CompareWithFile(Judgement j, const Statement& facts);

// Both steps.
Judgement JudgeSignature(archive::Archive& a, const Statement& facts, const TrustSet& trust);

}  // namespace aero::sign
