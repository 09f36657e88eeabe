#include "node/shipped_position.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/file_util.h"
#include "common/json_fields.h"
#include "common/sha256.h"
#include "node/layout.h"

namespace aero::node {

namespace {
constexpr uint64_t kMaxPositionBytes = 64 * 1024;
}  // namespace

std::string DirectoryKey(const std::string& realpath) {
  return ToHex(Sha256::Of(realpath)).substr(0, 16);  // LOG-2
}

std::string ShippedPositionPath(const std::string& data_dir, const std::string& target_real) {
  return JoinPath(JoinPath(data_dir, kShippedDir), DirectoryKey(target_real) + ".json");
}

std::string ShippedLockPath(const std::string& data_dir, const std::string& target_real) {
  return JoinPath(JoinPath(data_dir, kShippedDir), DirectoryKey(target_real) + ".lock");
}

Status InvalidShippedPosition(const std::string& path, const std::string& what) {
  return Status(Code::kDamage, Problem("invalid shipped position", path, what),
                "remove it to ship from the node's base again (identical files are "
                "recognised, LOG-4)");
}

Result<ShippedPosition> ParseShippedPosition(const std::string& text, const std::string& path) {
  auto bad = [&](const std::string& what) { return InvalidShippedPosition(path, what); };
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  using json_fields::String;
  using json_fields::Unsigned;
  // The JSON conventions (formats/node-layout.md): lower-case hex, and no
  // key the format does not have, so that nothing written is ignored.
  auto unknown = [](const nlohmann::json& o, std::initializer_list<std::string_view> known)
      -> std::optional<std::string> {
    for (const auto& [key, value] : o.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) return key;
    }
    return std::nullopt;
  };
  auto digest_at = [&](const nlohmann::json& o, const char* k) -> Result<history::Digest> {
    const std::string* hex = String(o, k);
    Result<history::Digest> d = hex ? history::ParseDigest(*hex)
                                    : Result<history::Digest>(Status(Code::kDamage, ""));
    return d;
  };
  ShippedPosition p;
  if (const auto k = unknown(j, {"format", "target", "epoch", "commit", "digest", "base",
                                 "wal_offset", "last_set"})) {
    return bad("unknown key '" + *k + "'");
  }
  if (Unsigned(j, "format") != std::optional<uint64_t>(1)) return bad("'format' is not 1");
  for (const char* k : {"commit", "base", "wal_offset", "epoch"}) {
    if (!Unsigned(j, k)) return bad("'" + std::string(k) + "' is not an unsigned integer");
  }
  p.commit = *Unsigned(j, "commit");
  p.base = *Unsigned(j, "base");
  p.wal_offset = *Unsigned(j, "wal_offset");
  const uint64_t epoch = *Unsigned(j, "epoch");
  if (epoch == 0 || epoch > std::numeric_limits<uint32_t>::max()) return bad("'epoch' out of range");
  p.epoch = static_cast<uint32_t>(epoch);
  if (p.commit < p.base) return bad("'commit' is below 'base'");
  const std::string* target = String(j, "target");
  if (target == nullptr || target->empty()) return bad("'target' is not a path");
  p.target = *target;
  Result<history::Digest> d = digest_at(j, "digest");
  if (!d.ok()) return bad("'digest' is not a SHA-256 in lower-case hex");
  p.digest = *d;
  if (const auto l = j.find("last_set"); l != j.end()) {  // LOG-24
    if (!l->is_object()) return bad("'last_set' is not an object");
    if (const auto k = unknown(*l, {"offset", "sha256"})) {
      return bad("unknown key 'last_set." + *k + "'");
    }
    const std::optional<uint64_t> offset = Unsigned(*l, "offset");
    Result<history::Digest> s = digest_at(*l, "sha256");
    if (!offset || *offset >= p.wal_offset) return bad("'last_set.offset' out of range");
    if (!s.ok()) return bad("'last_set.sha256' is not a SHA-256 in lower-case hex");
    p.last_set_offset = *offset;
    p.last_set_sha = *s;
  }
  return p;
}

Result<std::optional<ShippedPosition>> LoadShippedPosition(Fs& fs, const std::string& path) {
  Result<std::string> text = ReadSmallFile(fs, path, kMaxPositionBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return std::optional<ShippedPosition>();
    return text.status();
  }
  AERO_ASSIGN_OR_RETURN(ShippedPosition p, ParseShippedPosition(*text, path));
  return std::optional<ShippedPosition>(std::move(p));
}

ShippedPositions LoadShippedPositions(Fs& fs, const std::string& data_dir) {
  ShippedPositions out;
  const std::string dir = JoinPath(data_dir, kShippedDir);
  Result<std::vector<DirEntry>> entries = fs.ListDir(dir);
  if (!entries.ok()) {
    if (entries.status().code() != Code::kNotFound) out.problems.push_back(entries.status());
    return out;
  }
  for (const DirEntry& e : *entries) {
    const std::string& n = e.name;
    if (n.size() < 6 || n[0] == '.' || n.compare(n.size() - 5, 5, ".json") != 0) continue;
    Result<std::optional<ShippedPosition>> p = LoadShippedPosition(fs, JoinPath(dir, n));
    if (!p.ok()) {
      out.problems.push_back(p.status());
    } else if (*p) {  // else removed meanwhile
      out.positions.push_back(std::move(**p));
    }
  }
  return out;
}

Status SaveShippedPosition(Fs& fs, const std::string& data_dir, const std::string& path,
                           const ShippedPosition& p) {
  AERO_RETURN_IF_ERROR(fs.MakeDir(JoinPath(data_dir, kShippedDir)));
  nlohmann::json j = {{"format", 1},
                      {"target", Utf8Escaped(p.target)},  // display only: the file is named by DirectoryKey
                      {"epoch", p.epoch},
                      {"commit", p.commit},
                      {"digest", history::DigestToHex(p.digest)},
                      {"base", p.base},
                      {"wal_offset", p.wal_offset}};
  if (p.last_set_offset && p.last_set_sha) {
    j["last_set"] = {{"offset", *p.last_set_offset},
                     {"sha256", history::DigestToHex(*p.last_set_sha)}};
  }
  return WriteFileAtomically(fs, path, json_fields::Dump(j, 2) + "\n");
}

}  // namespace aero::node
