// The history digest: a hash chain over committed write sets
// (formats/history-digest.md, HIST-1..HIST-4).
//   H(0) = SHA-256("AERODB-REPL-HISTORY-V1" || system_id)
//   H(c) = SHA-256(H(c-1) || every byte of write set c, verbatim)
// Two nodes share history through C exactly when their H(C) are equal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "history/system_id.h"

namespace aero::history {

using Digest = Sha256Digest;

constexpr std::string_view kDigestSeedLabel = "AERODB-REPL-HISTORY-V1";  // HIST-1

Digest SeedDigest(const SystemId& id);  // HIST-1

constexpr std::string_view kEnrolSeedLabel = "AERODB-REPL-ENROL-V1";  // HIST-5

// HIST-5: H(B) of an enrolled directory whose write sets 1..B exist only as
// AeroDB's snapshot at B; `storage_sha256` is the SHA-256 of its storage.dat.
Digest EnrolledBaseDigest(const SystemId& id, uint64_t base_commit, const Digest& storage_sha256);

// HIST-2, incrementally: Begin(H(c-1)); Update(record bytes)...; Finish() = H(c).
class DigestChain {
 public:
  void Begin(const Digest& previous);
  void Update(std::string_view bytes) { sha_.Update(bytes); }
  Digest Finish() { return sha_.Finish(); }

 private:
  Sha256 sha_;
};

// HIST-3: 64 lowercase hex digits.
std::string DigestToHex(const Digest& d);
Result<Digest> ParseDigest(std::string_view hex);

}  // namespace aero::history
