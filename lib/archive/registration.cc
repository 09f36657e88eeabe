#include "archive/registration.h"

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/sha256.h"

namespace aero::archive {

using nlohmann::json;

namespace {

Status Invalid(const std::string& subject, std::string_view detail) {
  return Status(Code::kDamage, Problem("invalid registration", subject, detail),
                "re-run that replica's 'apply-wal --report-to', or retire the registration by "
                "deleting the file");
}

json Body(const Registration& r) {
  return json{{"applied",
               {{"commit", r.applied_commit}, {"digest", history::DigestToHex(r.applied_digest)}}},
              {"data_dir", r.data_dir},
              {"epoch", r.epoch},
              {"format", kRegistrationFormat},
              {"host", r.host},
              {"name", r.name},
              {"system_id", r.system_id.ToHex()}};
}

bool HasExactly(const json& j, std::initializer_list<const char*> keys) {
  if (!j.is_object() || j.size() != keys.size()) return false;
  for (const char* k : keys) {
    if (!j.contains(k)) return false;
  }
  return true;
}

}  // namespace

bool IsRegistrationName(std::string_view name) {
  if (name.empty() || name.size() > kMaxRegistrationNameBytes || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RegistrationFileName(std::string_view name) {
  return std::string(kRegistrationPrefix) + std::string(name) + std::string(kRegistrationSuffix);
}

std::optional<std::string> ParseRegistrationFileName(std::string_view f) {
  const size_t p = kRegistrationPrefix.size(), s = kRegistrationSuffix.size();
  if (f.size() <= p + s || f.substr(0, p) != kRegistrationPrefix ||
      f.substr(f.size() - s) != kRegistrationSuffix) {
    return std::nullopt;
  }
  std::string name(f.substr(p, f.size() - p - s));
  if (!IsRegistrationName(name)) return std::nullopt;
  return name;
}

std::string EncodeRegistration(const Registration& r) {
  json j = Body(r);
  j["checksum"] = ToHex(Sha256::Of(json_fields::Dump(j)));  // keys sorted bytewise: dump() is canonical
  return json_fields::Dump(j) + "\n";
}

Result<Registration> DecodeRegistration(std::string_view bytes, std::string_view name,
                                        const std::string& subject) {
  if (bytes.size() > kMaxRegistrationBytes) {
    return Invalid(subject, "larger than " + std::to_string(kMaxRegistrationBytes) + " bytes");
  }
  if (bytes.empty() || bytes.back() != '\n') return Invalid(subject, "no final newline");
  if (JsonDepth(bytes) > kMaxJsonDepth) return Invalid(subject, "nested too deep");
  json j;
  try {
    j = json::parse(bytes.substr(0, bytes.size() - 1));
  } catch (const std::exception&) {
    return Invalid(subject, "not JSON");
  }
  if (!HasExactly(j, {"applied", "checksum", "data_dir", "epoch", "format", "host", "name",
                      "system_id"})) {
    return Invalid(subject, "keys missing or extra");
  }
  if (!j["checksum"].is_string()) return Invalid(subject, "checksum: not a string");
  json body = j;
  body.erase("checksum");
  if (ToHex(Sha256::Of(json_fields::Dump(body))) != j["checksum"].get<std::string>()) {
    return Invalid(subject, "checksum mismatch");
  }
  if (json_fields::Dump(j) + "\n" != bytes) return Invalid(subject, "not in canonical form");
  if (!j["format"].is_number_unsigned() || j["format"].get<uint64_t>() != kRegistrationFormat) {
    return Invalid(subject, "format: not 1");
  }
  Registration r;
  const json& applied = j["applied"];
  if (!HasExactly(applied, {"commit", "digest"}) || !applied["commit"].is_number_unsigned() ||
      !applied["digest"].is_string()) {
    return Invalid(subject, "applied: not {commit, digest}");
  }
  r.applied_commit = applied["commit"].get<uint64_t>();
  Result<history::Digest> d = history::ParseDigest(applied["digest"].get<std::string>());
  if (!d.ok()) return Invalid(subject, "applied.digest: not 64 hex");
  r.applied_digest = *d;
  if (!j["epoch"].is_number_unsigned() || j["epoch"].get<uint64_t>() < 1 ||
      j["epoch"].get<uint64_t>() > UINT32_MAX) {
    return Invalid(subject, "epoch: not in 1..4294967295");
  }
  r.epoch = static_cast<uint32_t>(j["epoch"].get<uint64_t>());
  for (const char* k : {"data_dir", "host", "name", "system_id"}) {
    if (!j[k].is_string()) return Invalid(subject, std::string(k) + ": not a string");
  }
  Result<history::SystemId> sys = history::ParseSystemId(j["system_id"].get<std::string>());
  if (!sys.ok()) return Invalid(subject, "system_id: not 32 hex");
  r.system_id = *sys;
  r.name = j["name"].get<std::string>();
  if (r.name != name) return Invalid(subject, "name '" + r.name + "' is not the file's");
  r.host = j["host"].get<std::string>();
  r.data_dir = j["data_dir"].get<std::string>();
  return r;
}

}  // namespace aero::archive
