#include "history/history_file.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/sha256.h"
#include "wal/record_format.h"

namespace aero::history {

using nlohmann::json;

namespace {

Status Invalid(const std::string& subject, std::string_view detail) {
  return Status(Code::kDamage, Problem("invalid history file", subject, detail),
                "replace it with the claim archive's copy of this epoch's history file");
}

json LineageJson(const std::vector<LineageEntry>& lineage) {
  json a = json::array();
  for (const LineageEntry& e : lineage) a.push_back({{"branch_commit", e.branch_commit}, {"epoch", e.epoch}});
  return a;
}

// The JSON of `bytes` (its final newline stripped), or the outcome: the
// input ended before the JSON did (in transit), or it is not JSON. The
// parser's exception stays inside this function.
Result<json> ParseComplete(std::string_view bytes, const std::string& subject, size_t max_bytes,
                           Status (*invalid)(const std::string&, std::string_view)) {
  auto in_transit = [&] {
    return Status(Code::kInTransit,
                  Problem("file in transit", subject,
                          std::to_string(bytes.size()) + " bytes, the JSON is not complete"),
                  "re-run once the copy has finished");
  };
  if (bytes.size() > max_bytes) return invalid(subject, "larger than " + std::to_string(max_bytes) + " bytes");
  if (bytes.empty()) return in_transit();
  if (bytes.back() == '\0') {  // HFILE-3, SEG-9: a complete file ends in '\n'
    const size_t kept = bytes.find_last_not_of('\0') + 1;  // npos + 1 = 0: all NUL
    const Result<json> before = ParseComplete(bytes.substr(0, kept), subject, max_bytes, invalid);
    if (before.ok() || before.status().code() != Code::kInTransit) {
      return invalid(subject, "NUL bytes after the end of the file");  // padding, not a copy
    }
    return Status(Code::kInTransit,
                  Problem("file in transit", subject,
                          "its last byte is NUL: a copy that preallocated the file has not written its end yet"),
                  "re-run once the copy has finished");
  }
  // Before CheckCanonical's copy and dumps, which recurse once per level; a
  // cut of a valid file nests 3 deep at most, so it is still in transit.
  if (JsonDepth(bytes) > kMaxJsonDepth) {
    return invalid(subject, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  const bool newline = bytes.back() == '\n';
  std::string_view body = newline ? bytes.substr(0, bytes.size() - 1) : bytes;
  try {
    json j = json::parse(body);
    if (!newline) return in_transit();  // complete JSON, its newline not yet here
    return j;
  } catch (const json::parse_error& e) {
    if (e.byte > body.size() && !newline) return in_transit();  // read past the end
    return invalid(subject, "not JSON");
  } catch (const std::exception&) {
    return invalid(subject, "not JSON");
  }
}

// The checksum and canonical form shared by both files.
Status CheckCanonical(const json& j, std::string_view bytes, const std::string& subject,
                      Status (*invalid)(const std::string&, std::string_view)) {
  if (!j.is_object()) return invalid(subject, "not a JSON object");
  auto it = j.find("checksum");
  if (it == j.end() || !it->is_string()) return invalid(subject, "no checksum");
  json body = j;
  body.erase("checksum");
  if (ToHex(Sha256::Of(json_fields::Dump(body))) != it->get<std::string>()) return invalid(subject, "checksum mismatch");
  if (json_fields::Dump(j) + "\n" != bytes) return invalid(subject, "not in canonical form");
  return Status::Ok();
}

bool KeysAre(const json& j, std::initializer_list<const char*> keys) {
  if (j.size() != keys.size()) return false;
  for (const char* k : keys) {
    if (!j.contains(k)) return false;
  }
  return true;
}

std::optional<uint64_t> U64(const json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  return v.get<uint64_t>();
}

std::string WithChecksum(json j) {
  j["checksum"] = ToHex(Sha256::Of(json_fields::Dump(j)));  // keys sorted bytewise: dump() is canonical
  return json_fields::Dump(j) + "\n";
}

}  // namespace

std::string HistoryFileName(uint32_t epoch) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", epoch);
  return std::string(buf) + std::string(kHistorySuffix);
}

std::optional<uint32_t> ParseHistoryFileName(std::string_view name) {
  if (name.size() != kHistoryEpochDigits + kHistorySuffix.size()) return std::nullopt;
  if (name.substr(kHistoryEpochDigits) != kHistorySuffix) return std::nullopt;
  uint32_t e = 0;
  for (size_t i = 0; i < kHistoryEpochDigits; ++i) {
    const char c = name[i];
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    e = e * 16 + static_cast<uint32_t>(v);
  }
  return e;
}

std::string ClaimantToHex(const Claimant& c) { return ToHex(c.data(), c.size()); }

std::string EncodeHistoryFile(const HistoryFile& h) {
  return WithChecksum(json{{"branch_commit", h.branch_commit},
                           {"branch_digest", DigestToHex(h.branch_digest)},
                           {"claimant", ClaimantToHex(h.claimant)},
                           {"epoch", h.epoch},
                           {"format", kHistoryFormat},
                           {"lineage", LineageJson(h.lineage)},
                           {"parent_epoch", h.parent_epoch()},
                           {"system_id", h.system_id.ToHex()}});
}

Result<HistoryFile> DecodeHistoryFile(std::string_view bytes, uint32_t name_epoch,
                                      const SystemId& system, const std::string& subject) {
  AERO_ASSIGN_OR_RETURN(json j, ParseComplete(bytes, subject, kMaxHistoryFileBytes, Invalid));
  AERO_RETURN_IF_ERROR(CheckCanonical(j, bytes, subject, Invalid));
  if (!KeysAre(j, {"branch_commit", "branch_digest", "checksum", "claimant", "epoch", "format",
                   "lineage", "parent_epoch", "system_id"})) {
    return Invalid(subject, "its keys are not those of format 1");
  }
  const auto format = U64(j["format"]);
  if (!format || *format != kHistoryFormat) return Invalid(subject, "unknown format");
  HistoryFile h;
  if (!j["system_id"].is_string()) return Invalid(subject, "system_id is not a string");
  auto id = ParseSystemId(j["system_id"].get<std::string>());
  if (!id.ok()) return Invalid(subject, "system_id must be 32 lowercase hex digits");
  h.system_id = *id;
  const auto epoch = U64(j["epoch"]);
  const auto parent = U64(j["parent_epoch"]);
  const auto branch = U64(j["branch_commit"]);
  if (!epoch || *epoch < 2 || *epoch > UINT32_MAX) return Invalid(subject, "epoch must be 2..4294967295");
  if (*epoch != name_epoch) {
    return Invalid(subject, "epoch " + std::to_string(*epoch) + " is not the one its name says (" +
                                std::to_string(name_epoch) + ")");
  }
  if (!parent || *parent != *epoch - 1) return Invalid(subject, "parent_epoch must be epoch - 1");
  if (!branch) return Invalid(subject, "branch_commit is not an unsigned integer");
  if (*branch > wal::kMaxCommitId) return Invalid(subject, "branch_commit is above the largest CommitId, 2^64-2");  // REC-9
  h.epoch = static_cast<uint32_t>(*epoch);
  h.branch_commit = *branch;
  if (!j["branch_digest"].is_string()) return Invalid(subject, "branch_digest is not a string");
  auto d = ParseDigest(j["branch_digest"].get<std::string>());
  if (!d.ok()) return Invalid(subject, "branch_digest must be 64 lowercase hex digits");
  h.branch_digest = *d;
  if (!j["claimant"].is_string() ||
      !FromHex(j["claimant"].get<std::string>(), h.claimant.data(), h.claimant.size())) {
    return Invalid(subject, "claimant must be 32 lowercase hex digits");
  }
  const json& lineage = j["lineage"];
  if (!lineage.is_array() || lineage.size() != h.epoch) {
    return Invalid(subject, "lineage must list epochs 1.." + std::to_string(h.epoch));
  }
  uint64_t prev_branch = 0;
  for (size_t i = 0; i < lineage.size(); ++i) {
    const json& e = lineage[i];
    if (!e.is_object() || !KeysAre(e, {"branch_commit", "epoch"})) {
      return Invalid(subject, "lineage entry " + std::to_string(i) + " is not {branch_commit, epoch}");
    }
    const auto ee = U64(e["epoch"]);
    const auto eb = U64(e["branch_commit"]);
    if (!ee || *ee != i + 1 || !eb) {
      return Invalid(subject, "lineage entry " + std::to_string(i) + " must be epoch " + std::to_string(i + 1));
    }
    if (i == 0 && *eb != 0) return Invalid(subject, "epoch 1 must branch at commit 0");
    if (*eb < prev_branch) return Invalid(subject, "lineage branch commits decrease");
    prev_branch = *eb;
    h.lineage.push_back({static_cast<uint32_t>(*ee), *eb});
  }
  if (h.lineage.back().branch_commit != h.branch_commit) {
    return Invalid(subject, "the lineage's last branch commit is not branch_commit");
  }
  // Foreign last: a valid file of another database says so, exactly.
  if (!(h.system_id == system)) {
    return Status(Code::kRefused,
                  Problem("foreign history file", subject,
                          "system id " + h.system_id.ToHex() + ", this node is " + system.ToHex()),
                  "remove files of other databases from this directory");
  }
  return h;
}

Status CheckLineagePrefix(const HistoryFile& parent, const HistoryFile& child,
                          const std::string& subject) {
  if (parent.lineage.size() > child.lineage.size() ||
      !std::equal(parent.lineage.begin(), parent.lineage.end(), child.lineage.begin())) {
    return Invalid(subject, "its lineage does not continue epoch " + std::to_string(parent.epoch) + "'s");
  }
  return Status::Ok();
}

namespace {
Status InvalidMarker(const std::string& subject, std::string_view detail) {
  return Status(Code::kDamage, Problem("invalid claim-archive marker", subject, detail),
                "restore the marker from a copy of the claim archive; never re-create it for a "
                "directory that held another system's claims");
}
}  // namespace

std::string EncodeClaimArchiveMarker(const SystemId& system) {
  return WithChecksum(json{{"format", kClaimArchiveFormat}, {"system_id", system.ToHex()}});
}

Status DecodeClaimArchiveMarker(std::string_view bytes, const SystemId& system,
                                const std::string& subject) {
  AERO_ASSIGN_OR_RETURN(json j, ParseComplete(bytes, subject, kMaxMarkerBytes, InvalidMarker));
  AERO_RETURN_IF_ERROR(CheckCanonical(j, bytes, subject, InvalidMarker));
  if (!KeysAre(j, {"checksum", "format", "system_id"})) return InvalidMarker(subject, "unknown keys");
  const auto format = U64(j["format"]);
  if (!format || *format != kClaimArchiveFormat) return InvalidMarker(subject, "unknown format");
  if (!j["system_id"].is_string()) return InvalidMarker(subject, "system_id is not a string");
  auto id = ParseSystemId(j["system_id"].get<std::string>());
  if (!id.ok()) return InvalidMarker(subject, "system_id must be 32 lowercase hex digits");
  if (!(*id == system)) {
    return Status(Code::kRefused,
                  Problem("foreign claim archive", subject,
                          "it claims epochs of system " + id->ToHex() + ", this node is " + system.ToHex()),
                  "name the claim archive of this database");
  }
  return Status::Ok();
}

}  // namespace aero::history
