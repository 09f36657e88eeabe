// A replica's registration in an archive directory (formats/
// archive-directory.md ARC-5): `replica-NAME.json`, how far one replica has
// applied, written by `apply-wal --report-to` (RET-3) and read by `prune`
// (RET-4). Canonical JSON with a SHA-256 self-checksum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "history/digest.h"
#include "history/system_id.h"

namespace aero::archive {

inline constexpr std::string_view kRegistrationPrefix = "replica-";
inline constexpr std::string_view kRegistrationSuffix = ".json";
inline constexpr size_t kMaxRegistrationNameBytes = 64;
inline constexpr size_t kMaxRegistrationBytes = 64 * 1024;
inline constexpr int kRegistrationFormat = 1;

struct Registration {
  std::string name;
  history::SystemId system_id;
  std::string host;
  std::string data_dir;
  uint32_t epoch = 1;
  uint64_t applied_commit = 0;
  history::Digest applied_digest{};
};

// ARC-5: 1..64 bytes of [A-Za-z0-9_.-], not starting with '.'.
bool IsRegistrationName(std::string_view name);
inline constexpr std::string_view kRegistrationNameRule =
    "1..64 characters of A-Z a-z 0-9 _ . -, not starting with '.'";
// "replica-NAME.json".
std::string RegistrationFileName(std::string_view name);
// NAME of a "replica-NAME.json" file name; nullopt for any other name.
std::optional<std::string> ParseRegistrationFileName(std::string_view file_name);

// The file's bytes: canonical JSON with its checksum, then "\n".
std::string EncodeRegistration(const Registration& r);
// kDamage naming `subject` and the field unless `bytes` is exactly a valid
// registration of the name `name` (ARC-5).
Result<Registration> DecodeRegistration(std::string_view bytes, std::string_view name,
                                        const std::string& subject);

}  // namespace aero::archive
