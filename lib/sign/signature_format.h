// Constants of formats/signature.md (SIG-1..SIG-3): the signed statement,
// the NAME.sig sidecar, key ids and the trust directory (SIG-4).
#pragma once

#include <cstddef>
#include <string_view>

namespace aero::sign {

// SIG-1 line 1: the domain string and version.
inline constexpr std::string_view kStatementDomain = "aerodb-repl-signature-v1";
inline constexpr int kSignatureFormat = 1;
// SIG-1 line 2.
inline constexpr std::string_view kKindSegment = "segment";
inline constexpr std::string_view kKindSnapshot = "snapshot";
inline constexpr std::string_view kKindHistory = "history";
// SIG-1: a name is 1..255 bytes.
inline constexpr size_t kMaxNameBytes = 255;
// SIG-2: NAME.sig beside NAME, at most 1 KiB.
inline constexpr std::string_view kSidecarSuffix = ".sig";
inline constexpr size_t kMaxSidecarBytes = 1024;
inline constexpr size_t kSignatureBytes = 64;
// SIG-3: the key id is the first 8 bytes of SHA-256(SubjectPublicKeyInfo DER), in hex.
inline constexpr size_t kKeyIdHexDigits = 16;
// SIG-4: a node's own trust directory, under DATA/replication/.
inline constexpr std::string_view kNodeTrustDir = "replication/trusted-keys";
inline constexpr std::string_view kPublicKeySuffix = ".pem";
inline constexpr std::string_view kRetiredSuffix = ".retired";

}  // namespace aero::sign
