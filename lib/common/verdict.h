// The one verdict on a file that arrived (formats/wal-segment.md "Reading and
// damage", formats/snapshot-archive.md SNAP-7): a segment and a snapshot
// archive are judged into the same four states, named and mapped to exit
// codes in one place, so verify, apply-wal and snapshot install say the same.
#pragma once

#include "common/status.h"

namespace aero {

enum class Verdict {
  kValid,
  kInTransit,  // shorter than it will be: retry later (8)
  kCorrupt,    // damage (1)
  kIoError,    // could not be read (10)
};

// "valid" | "in-transit" | "corrupt" | "io-error"
inline const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "valid";
    case Verdict::kInTransit: return "in-transit";
    case Verdict::kCorrupt: return "corrupt";
    case Verdict::kIoError: return "io-error";
  }
  return "corrupt";
}

// The exit code of the verdict: 0, 8, 1, 10.
inline Code VerdictCode(Verdict v) {
  switch (v) {
    case Verdict::kValid: return Code::kOk;
    case Verdict::kInTransit: return Code::kInTransit;
    case Verdict::kCorrupt: return Code::kDamage;
    case Verdict::kIoError: return Code::kIo;
  }
  return Code::kDamage;
}

}  // namespace aero
