#include "snapshot/manifest.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/sha256.h"
#include "node/layout.h"
#include "snapshot/archive_format.h"
#include "wal/record_format.h"

namespace aero::snapshot {

using nlohmann::json;

uint64_t Manifest::TotalBytes() const {
  uint64_t t = 0;
  for (const Member& m : members) t += m.size;
  return t;
}

namespace {

json LineageJson(const std::vector<history::LineageEntry>& lineage) {
  json a = json::array();
  for (const history::LineageEntry& e : lineage) {
    a.push_back({{"branch_commit", e.branch_commit}, {"epoch", e.epoch}});
  }
  return a;
}

json ToJson(const Manifest& m) {
  json members = json::array();
  for (const Member& x : m.members) {
    members.push_back({{"path", x.path},
                       {"size", x.size},
                       {"sha256", x.sha256 ? json(ToHex(*x.sha256)) : json(nullptr)},
                       {"type", "file"}});
  }
  return json{{"format", m.format},
              {"system_id", m.system_id.ToHex()},
              {"epoch", m.epoch},
              {"lineage", LineageJson(m.lineage)},
              {"base",
               {{"commit", m.base_commit},
                {"digest", history::DigestToHex(m.base_digest)},
                {"snapshot", m.base_snapshot ? json(*m.base_snapshot) : json(nullptr)}}},
              {"boundary",
               {{"commit", m.boundary_commit},
                {"digest", history::DigestToHex(m.boundary_digest)},
                {"wal_offset", m.boundary_wal_offset},
                {"next_sequence", m.next_sequence}}},
              {"member_count", m.members.size()},
              {"members", members},
              {"total_bytes", m.TotalBytes()}};
}

Status Bad(const std::string& why) {
  return Status(Code::kDamage, Problem("invalid archive manifest", kManifestMember, why));
}

// A number field must be an unsigned integer as written: get<uint64_t>()
// would wrap a negative one and cast a float (1e300: out of range, undefined).
struct NotUnsigned {
  const char* field;
};
uint64_t U64(const json& v, const char* field) {
  if (!v.is_number_unsigned()) throw NotUnsigned{field};
  return v.get<uint64_t>();
}

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  json j = ToJson(m);  // std::map keys: sorted bytewise, dump() is canonical
  j["manifest_sha256"] = ToHex(Sha256::Of(json_fields::Dump(j)));
  return json_fields::Dump(j) + "\n";
}

bool IsSafeMemberPath(std::string_view path, std::string* why) {
  auto fail = [&](const char* w) {
    *why = w;
    return false;
  };
  if (path.empty() || path.size() > kMaxPathBytes) return fail("invalid path length");
  if (path.front() == '/') return fail("absolute path");
  if (path.find('\0') != std::string_view::npos) return fail("NUL in path");
  if (path.find('\\') != std::string_view::npos) return fail("backslash in path");
  // SNAP-8: UTF-8 text, as the manifest that lists it is JSON.
  if (HasControlChar(path)) return fail("a control character or a byte of no UTF-8 sequence in path");
  size_t start = 0;
  bool first = true;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view comp =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp.empty() || comp == "." || comp == "..") return fail("'..', '.' or empty component");
    if (comp.size() > 255) return fail("component over 255 bytes");
    if (first) {
      // SNAP-16: under replication/ only the history files.
      if (comp == "replication") {
        if (path.substr(0, kHistoryMemberDir.size()) != kHistoryMemberDir ||
            !history::ParseHistoryFileName(path.substr(kHistoryMemberDir.size()))) {
          return fail("path outside the node layout");
        }
        return true;
      }
      if (std::find(std::begin(kAllowedTop), std::end(kAllowedTop), comp) ==
              std::end(kAllowedTop) ||
          slash == std::string_view::npos) {
        return fail("path outside the node layout");
      }
      first = false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

// SNAP-16: the lineage, a chain 1..epoch (HFILE-4), or [] for epoch 1.
// Throws NotUnsigned / json exceptions like the rest of DecodeManifest,
// which catches them.
static Status ParseLineage(const json& lineage, Manifest* m) {
  if (!lineage.is_array() || lineage.size() > kMaxMembers) return Bad("invalid lineage");
  for (const json& e : lineage) {
    if (!e.is_object() || e.size() != 2) return Bad("invalid lineage entry");
    const uint64_t ee = U64(e.at("epoch"), "lineage.epoch");
    const uint64_t eb = U64(e.at("branch_commit"), "lineage.branch_commit");
    if (ee != m->lineage.size() + 1 || (ee == 1 && eb != 0) ||
        (!m->lineage.empty() && eb < m->lineage.back().branch_commit)) {
      return Bad("lineage is not the chain of epochs 1.." + std::to_string(m->epoch));
    }
    m->lineage.push_back({static_cast<uint32_t>(ee), eb});
  }
  return Status::Ok();
}

// SNAP-16: epoch E >= 2 carries the history files of epochs 2..E, and
// nothing else under replication/; epoch 1 carries none.
static Status CheckEpochMembers(const Manifest& m) {
  if (m.epoch == 1 ? !m.lineage.empty() : m.lineage.size() != m.epoch) {
    return Bad("lineage does not end at the manifest's epoch");
  }
  if (m.epoch >= 2 && m.boundary_commit < m.lineage.back().branch_commit) {
    return Bad("boundary below the branch commit of its epoch");
  }
  std::vector<std::string> have, want;
  for (const Member& x : m.members) {
    if (x.path.compare(0, kHistoryMemberDir.size(), kHistoryMemberDir) == 0) have.push_back(x.path);
  }
  for (uint32_t e = 2; e <= m.epoch && m.epoch >= 2; ++e) {
    want.push_back(std::string(kHistoryMemberDir) + history::HistoryFileName(e));
  }
  if (have != want) return Bad("the history members are not those of epochs 2.." + std::to_string(m.epoch));
  return Status::Ok();
}

// SNAP-8, SNAP-9, SNAP-15: the members (safe paths, strictly sorted, type
// "file", a SHA-256 except the WAL's in format 2), member_count and
// total_bytes. Throws like ParseLineage.
static Status ParseMembers(const json& j, Manifest* out) {
  Manifest& m = *out;
  const json& members = j.at("members");
  if (!members.is_array() || members.size() > kMaxMembers) return Bad("invalid members");
  std::string prev;
  // SNAP-9: summed with a check instead of wrapping around, so that sizes
  // whose 64-bit sum wraps to a small total_bytes cannot pass the bound.
  uint64_t total = 0;
  bool over_bound = false;
  for (const json& x : members) {
    Member mem;
    mem.path = x.at("path").get<std::string>();
    mem.size = U64(x.at("size"), "size");
    if (over_bound || mem.size > kMaxTotalBytes - total) {
      over_bound = true;
    } else {
      total += mem.size;
    }
    if (x.at("type").get<std::string>() != "file") return Bad("member type not allowed");
    std::string why;
    if (!IsSafeMemberPath(mem.path, &why)) return Bad(why + ": " + mem.path);
    if (!prev.empty() && mem.path <= prev) return Bad("members not strictly sorted");
    prev = mem.path;
    // SNAP-15: in format 2 the WAL member alone has no hash, and must not.
    const bool chained = m.format == kManifestFormat && mem.path == kWalMember;
    if (chained) {
      if (!x.at("sha256").is_null()) {
        return Bad(std::string(kWalMember) + ": sha256 must be null in format 2");
      }
    } else {
      auto sha = history::ParseDigest(x.at("sha256").get<std::string>());
      if (!sha.ok()) return Bad("invalid member sha256");
      mem.sha256 = *sha;
    }
    m.members.push_back(mem);
  }
  // SNAP-3: no member is also a directory of the tree install builds:
  // another member's parent, or a layout directory install creates.
  std::unordered_set<std::string_view> dirs(std::begin(node::kLayoutDirs),
                                            std::end(node::kLayoutDirs));
  for (const Member& mem : m.members) {
    for (size_t slash = mem.path.find('/'); slash != std::string::npos;
         slash = mem.path.find('/', slash + 1)) {
      dirs.insert(std::string_view(mem.path).substr(0, slash));
    }
  }
  for (const Member& mem : m.members) {
    if (dirs.count(mem.path) > 0) return Bad("member path is also a directory: " + mem.path);
  }
  if (U64(j.at("member_count"), "member_count") != m.members.size()) return Bad("member_count");
  if (over_bound) return Bad("total_bytes over the 64 GiB bound");
  if (U64(j.at("total_bytes"), "total_bytes") != total) return Bad("total_bytes");
  return Status::Ok();
}

// The members a replica cannot open without.
static Status CheckRequiredMembers(const Manifest& m) {
  auto has = [&](const std::string& p) {
    return std::any_of(m.members.begin(), m.members.end(),
                       [&](const Member& x) { return x.path == p; });
  };
  if (!has("wal/wal.log")) return Bad("member 'wal/wal.log' is not listed");
  if (m.base_snapshot) {
    const std::string dir = "snapshots/" + *m.base_snapshot + "/";
    if (!has(dir + "manifest.json") || !has(dir + "storage.dat")) {
      return Bad("the base snapshot's manifest.json or storage.dat is not listed");
    }
  }
  return Status::Ok();
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  if (bytes.empty() || bytes.back() != '\n') return Bad("does not end with a newline");
  // Before the copy and the dumps below, which recurse once per level.
  if (JsonDepth(bytes) > kMaxJsonDepth) {
    return Bad("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json j = json::parse(bytes.substr(0, bytes.size() - 1), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("not a JSON object");
  if (!j.contains("manifest_sha256") || !j["manifest_sha256"].is_string()) {
    return Bad("missing manifest_sha256");
  }
  const std::string claimed = j["manifest_sha256"];
  json body = j;
  body.erase("manifest_sha256");
  if (ToHex(Sha256::Of(json_fields::Dump(body))) != claimed) return Bad("manifest_sha256 mismatch");
  if (json_fields::Dump(j) + "\n" != bytes) return Bad("not in canonical form");
  Manifest m;
  try {
    const uint64_t format = U64(j.at("format"), "format");
    if (format != kManifestFormat && format != kManifestFormatV1) return Bad("unknown format");
    m.format = static_cast<int>(format);
    auto id = history::ParseSystemId(j.at("system_id").get<std::string>());
    if (!id.ok()) return Bad("invalid system_id");
    m.system_id = *id;
    const uint64_t epoch = U64(j.at("epoch"), "epoch");
    if (epoch == 0 || epoch > UINT32_MAX) return Bad("invalid epoch");
    m.epoch = static_cast<uint32_t>(epoch);
    const json& base = j.at("base");
    const json& boundary = j.at("boundary");
    m.base_commit = U64(base.at("commit"), "base.commit");
    auto bd = history::ParseDigest(base.at("digest").get<std::string>());
    auto pd = history::ParseDigest(boundary.at("digest").get<std::string>());
    if (!bd.ok() || !pd.ok()) return Bad("invalid digest");
    m.base_digest = *bd;
    m.boundary_digest = *pd;
    if (!base.at("snapshot").is_null()) m.base_snapshot = base.at("snapshot").get<std::string>();
    m.boundary_commit = U64(boundary.at("commit"), "boundary.commit");
    m.boundary_wal_offset = U64(boundary.at("wal_offset"), "boundary.wal_offset");
    m.next_sequence = U64(boundary.at("next_sequence"), "boundary.next_sequence");
    AERO_RETURN_IF_ERROR(ParseLineage(j.at("lineage"), &m));
    AERO_RETURN_IF_ERROR(ParseMembers(j, &m));
  } catch (const NotUnsigned& e) {
    return Bad(std::string("field of the wrong type: ") + e.field + " is not an unsigned integer");
  } catch (const json::exception& e) {
    return Bad(std::string("field missing or of the wrong type: ") + e.what());
  }
  AERO_RETURN_IF_ERROR(CheckRequiredMembers(m));
  AERO_RETURN_IF_ERROR(CheckEpochMembers(m));
  if (m.base_commit > m.boundary_commit) return Bad("base above boundary");
  if (m.boundary_commit > wal::kMaxCommitId) return Bad("boundary.commit above the largest CommitId, 2^64-2");  // REC-9
  if (m.next_sequence == 0) return Bad("boundary.next_sequence is 0");  // REC-8
  if (m.base_snapshot) {
    char want[32];
    std::snprintf(want, sizeof want, "%020llu", static_cast<unsigned long long>(m.base_commit));
    if (*m.base_snapshot != want) return Bad("base.snapshot is not base.commit as 20 digits");
  } else if (m.base_commit != 0 || m.base_digest != history::SeedDigest(m.system_id)) {
    return Bad("a base without a snapshot must be commit 0 with H(0)");
  }
  return m;
}

}  // namespace aero::snapshot
