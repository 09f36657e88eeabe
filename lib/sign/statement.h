// The signed statement and its sidecar (formats/signature.md SIG-1, SIG-2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "common/status.h"
#include "sign/ed25519.h"

namespace aero::sign {

enum class Kind { kSegment, kSnapshot, kHistory };
std::string_view KindName(Kind k);

// SIG-1: what a signature says about one file.
struct Statement {
  Kind kind = Kind::kSegment;
  std::string name;
  uint64_t size = 0;
  Sha256Digest sha256{};  // a segment's seal; the whole file's SHA-256 otherwise
  Sha256Digest chain{};   // the history digest the file ends at
  uint32_t epoch = 1;
  std::string key_id;     // 16 lowercase hex (SIG-3)
  bool operator==(const Statement&) const = default;
};

// SIG-1: the canonical bytes (eight lines).
std::string EncodeStatement(const Statement& s);
// SIG-1: the statement, or why these bytes are not one (canonical only).
Result<Statement> DecodeStatement(std::string_view bytes);
// The first field in which `a` and `b` differ, "" when equal; `ignore_key`
// leaves out the key id.
std::string FirstDifference(const Statement& a, const Statement& b, bool ignore_key = false);

// SIG-2: NAME.sig.
std::string SidecarName(std::string_view name);
// SIG-1: a name a statement can hold: 1..255 bytes of printable ASCII
// (`!`..`~`) without `/`. The decoder's rule; export asks it first (SIG-20).
bool IsStatementName(std::string_view name);

struct Sidecar {
  Statement statement;
  std::string statement_bytes;
  Signature signature{};
};
enum class SidecarState { kComplete, kInTransit, kMalformed };
struct DecodedSidecar {
  SidecarState state = SidecarState::kMalformed;
  std::string detail;  // why not complete
  Sidecar sidecar;     // kComplete only
};
DecodedSidecar DecodeSidecar(std::string_view bytes);
std::string EncodeSidecar(const Statement& s, const Signature& sig);

// Sets `s.key_id` to the key's and returns the sidecar's bytes.
Result<std::string> SignStatement(const SigningKey& key, Statement s);

}  // namespace aero::sign
