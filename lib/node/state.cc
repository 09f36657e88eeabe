#include "node/state.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/file_util.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "node/layout.h"
#include "wal/record_format.h"

namespace aero::node {

using nlohmann::json;

const char* RoleName(Role role) { return role == Role::kPrimary ? "primary" : "replica"; }

Status InvalidNodeFile(const std::string& path, const std::string& detail) {
  return Status(Code::kDamage, Problem("invalid node file", path, detail),
                "the file was damaged or written by another tool; run "
                "'aerodb-repl verify' on the directory");
}

namespace {

Status Invalid(const std::string& path, const std::string& detail) { return InvalidNodeFile(path, detail); }

Result<json> ParseJsonFile(Fs& fs, const std::string& path) {
  AERO_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(fs, path));
  if (JsonDepth(text) > kMaxJsonDepth) {
    return Invalid(path, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  // The JSON conventions: one key twice is refused, not one value kept.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> twice;
  const json::parser_callback_t each = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.empty() && !twice &&
        !open_objects.back().insert(parsed.get<std::string>()).second) {
      twice = parsed.get<std::string>();
    }
    return true;
  };
  json j = json::parse(text, each, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid(path, "not a JSON object");
  if (twice) return Invalid(path, "key '" + Escaped(*twice) + "' given twice");
  return j;
}

template <typename T>
bool Get(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else {
    if (!it->is_number_unsigned()) return false;
  }
  *out = it->get<T>();
  return true;
}

bool GetDigest(const json& j, const char* key, history::Digest* out) {
  std::string hex;
  if (!Get(j, key, &hex)) return false;
  auto d = history::ParseDigest(hex);
  if (!d.ok()) return false;  // 64 lowercase hex digits (HIST-3)
  *out = *d;
  return true;
}

// The JSON conventions: a key the format does not have is refused, so that
// nothing written is ignored. The first such key, if any.
std::optional<std::string> UnknownKey(const json& j,
                                      std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) return key;
  }
  return std::nullopt;
}

}  // namespace

Result<bool> HasIdentity(Fs& fs, const std::string& dir) {  // FM-137
  Result<FileInfo> info = fs.Stat(JoinPath(dir, kIdentityFile));
  if (info.ok()) return true;
  if (info.status().code() != Code::kNotFound) return info.status();
  // NODE-2: replication/ without identity.json is a node that lost its
  // identity, never an AeroDB directory to export or enrol as new.
  Result<FileInfo> rep = fs.LStat(JoinPath(dir, kReplicationDir));
  if (!rep.ok() && rep.status().code() == Code::kNotFound) return false;
  if (!rep.ok()) return rep.status();
  return Status(Code::kNotFound,
                Problem("not an aerodb node", dir,
                        std::string(kReplicationDir) + "/ is there but holds no identity.json (NODE-2)"),
                "restore replication/identity.json from a copy of this node; an AeroDB directory "
                "has no replication/ until 'aerodb-repl init' makes one");
}

Result<Identity> LoadIdentity(Fs& fs, const std::string& dir) {
  const std::string path = JoinPath(dir, kIdentityFile);
  Result<json> j = ParseJsonFile(fs, path);
  if (!j.ok()) {
    if (j.status().code() == Code::kNotFound) {
      // FM-137: DIR itself a symlink to nothing is a fault to fix (10,
      // naming the link), never a directory to create a node in.
      if (Result<FileInfo> d = fs.Stat(dir); !d.ok() && d.status().code() != Code::kNotFound) {
        return d.status();
      }
      // An AeroDB data directory (its log is there) is enrolled, not created.
      const bool aerodb_dir = fs.LStat(JoinPath(dir, kWalFile)).ok();
      return Status(Code::kNotFound, Problem("not an aerodb node", dir, "no " + std::string(kIdentityFile)),
                    aerodb_dir ? "this is an AeroDB data directory: enrol it with 'aerodb-repl init -D " + dir + "'"
                               : "create a primary with 'aerodb init -D " + dir +
                                     "', or bootstrap a replica with 'aerodb-repl apply-wal -D " + dir +
                                     " --from INBOX'");
    }
    return j.status();
  }
  uint64_t format = 0;
  std::string hex;
  if (auto key = UnknownKey(*j, {"format", "system_id"})) {
    return Invalid(path, "unknown key '" + *key + "'");
  }
  if (!Get(*j, "format", &format) || format != kStateFormat) {
    return Invalid(path, "unknown format");
  }
  if (!Get(*j, "system_id", &hex)) return Invalid(path, "missing system_id");
  auto id = history::ParseSystemId(hex);
  if (!id.ok()) {
    return Invalid(path, "system_id is not 32 lowercase hex digits");
  }
  return Identity{*id};
}

Status SaveIdentity(Fs& fs, const std::string& dir, const Identity& id) {
  json j = {{"format", kStateFormat}, {"system_id", id.system_id.ToHex()}};
  return WriteFileAtomically(fs, JoinPath(dir, kIdentityFile), json_fields::Dump(j, 2) + "\n");
}

std::string StateToJson(const NodeState& s) {
  json j = {
      {"format", kStateFormat},
      {"role", RoleName(s.role)},
      {"epoch", s.epoch},
      {"base",
       {{"commit", s.base_commit},
        {"digest", history::DigestToHex(s.base_digest)},
        {"snapshot", s.base_snapshot ? json(*s.base_snapshot) : json(nullptr)}}},
      {"applied",
       {{"commit", s.applied_commit},
        {"digest", history::DigestToHex(s.applied_digest)},
        {"wal_offset", s.applied_wal_offset},
        {"next_sequence", s.next_sequence}}},
  };
  if (s.fenced) {
    j["fenced"] = {{"epoch", s.fenced->epoch},
                   {"branch_commit", s.fenced->branch_commit},
                   {"seen_in", Utf8Escaped(s.fenced->seen_in)}};  // an archive's path, as UTF-8
  }
  if (s.promoting) {
    j["promoting"] = {{"epoch", s.promoting->epoch},
                      {"claimant", history::ClaimantToHex(s.promoting->claimant)},
                      {"branch_commit", s.promoting->branch_commit},
                      {"branch_digest", history::DigestToHex(s.promoting->branch_digest)}};
  }
  return json_fields::Dump(j, 2) + "\n";
}

// MODEL-7's flag, typed; nullopt when a key is missing, unknown or
// mistyped, or the epoch is not above the node's `epoch`.
static std::optional<Fenced> ParseFenced(const json& v, uint32_t epoch) {
  Fenced f;
  uint64_t e = 0;
  if (!v.is_object() || v.size() != 3 || !Get(v, "epoch", &e) || e <= epoch || e > UINT32_MAX ||
      !Get(v, "branch_commit", &f.branch_commit) || !Get(v, "seen_in", &f.seen_in)) {
    return std::nullopt;
  }
  f.epoch = static_cast<uint32_t>(e);
  return f;
}

// MODEL-8's intent, typed; nullopt when any field is missing or mistyped.
static std::optional<Promoting> ParsePromoting(const json& v) {
  Promoting p;
  uint64_t epoch = 0;
  std::string claimant;
  if (!v.is_object() || v.size() != 4 || !Get(v, "epoch", &epoch) || epoch < 2 || epoch > UINT32_MAX ||
      !Get(v, "claimant", &claimant) || !FromHex(claimant, p.claimant.data(), p.claimant.size()) ||
      claimant != history::ClaimantToHex(p.claimant) || !Get(v, "branch_commit", &p.branch_commit) ||
      !GetDigest(v, "branch_digest", &p.branch_digest)) {
    return std::nullopt;
  }
  p.epoch = static_cast<uint32_t>(epoch);
  return p;
}

// NODE-3's `base` and `applied`, every key known and typed.
static Status ParsePositions(const json& j, const std::string& path, NodeState* s) {
  auto base = j.find("base");
  auto applied = j.find("applied");
  if (base == j.end() || !base->is_object() || applied == j.end() || !applied->is_object()) {
    return Invalid(path, "missing base or applied");
  }
  if (auto key = UnknownKey(*base, {"commit", "digest", "snapshot"})) {
    return Invalid(path, "unknown key 'base." + *key + "'");
  }
  if (auto key = UnknownKey(*applied, {"commit", "digest", "wal_offset", "next_sequence"})) {
    return Invalid(path, "unknown key 'applied." + *key + "'");
  }
  auto snap = base->find("snapshot");
  if (!Get(*base, "commit", &s->base_commit) || !GetDigest(*base, "digest", &s->base_digest) ||
      snap == base->end() || !(snap->is_null() || snap->is_string())) {
    return Invalid(path, "invalid base");
  }
  if (snap->is_string()) s->base_snapshot = snap->get<std::string>();
  if (!Get(*applied, "commit", &s->applied_commit) ||
      !GetDigest(*applied, "digest", &s->applied_digest) ||
      !Get(*applied, "wal_offset", &s->applied_wal_offset) ||
      !Get(*applied, "next_sequence", &s->next_sequence)) {
    return Invalid(path, "invalid applied position");
  }
  return Status::Ok();
}

Result<NodeState> LoadState(Fs& fs, const std::string& dir, const Identity& identity) {
  const std::string path = JoinPath(dir, kStateFile);
  Result<json> parsed = ParseJsonFile(fs, path);
  if (!parsed.ok()) {
    if (parsed.status().code() == Code::kNotFound) {  // mid-install (state S2)
      return Status(Code::kNotFound,
                    Problem("not an aerodb node", dir,
                            "no " + std::string(kStateFile) + " (unfinished install)"),
                    "remove the directory and run the install or bootstrap again");
    }
    return parsed.status();
  }
  json j = std::move(parsed).value();
  NodeState s;
  // NODE-3: unknown keys are refused, so an old reader cannot miss a flag.
  for (auto& [key, value] : j.items()) {
    if (key != "format" && key != "role" && key != "epoch" && key != "base" &&
        key != "applied" && key != "fenced" && key != "promoting") {
      return Invalid(path, "unknown key '" + key + "'");
    }
  }
  uint64_t format = 0, epoch = 0;
  std::string role;
  if (!Get(j, "format", &format) || format != kStateFormat) return Invalid(path, "unknown format");
  if (!Get(j, "role", &role)) return Invalid(path, "missing role");
  if (role == "primary") {
    s.role = Role::kPrimary;
  } else if (role == "replica") {
    s.role = Role::kReplica;
  } else {
    return Invalid(path, "unknown role '" + role + "'");
  }
  if (!Get(j, "epoch", &epoch) || epoch == 0 || epoch > UINT32_MAX) {
    return Invalid(path, "epoch must be 1..4294967295");
  }
  s.epoch = static_cast<uint32_t>(epoch);
  AERO_RETURN_IF_ERROR(ParsePositions(j, path, &s));
  auto fenced = j.find("fenced");
  if (fenced != j.end()) {
    s.fenced = ParseFenced(*fenced, s.epoch);  // NODE-3
    if (!s.fenced) {
      return Invalid(path, "fenced must be {epoch above the node's epoch, branch_commit, seen_in}");
    }
  }
  auto promoting = j.find("promoting");
  if (promoting != j.end()) {
    s.promoting = ParsePromoting(*promoting);
    if (!s.promoting) {
      return Invalid(path, "promoting must be {epoch >= 2, claimant (32 hex), branch_commit, branch_digest}");
    }
  }
  // NODE-3 invariants.
  if (s.applied_commit < s.base_commit) return Invalid(path, "applied is below base");
  if ((s.applied_commit == s.base_commit) != (s.applied_wal_offset == 0)) {
    return Invalid(path, "applied.wal_offset must be 0 exactly when applied equals base");
  }
  if (s.applied_commit == s.base_commit && s.applied_digest != s.base_digest) {
    return Invalid(path, "applied equals base but their digests differ");
  }
  if (s.applied_wal_offset != 0 && s.applied_wal_offset < 25) {
    return Invalid(path, "applied.wal_offset must be 0 or >= 25");
  }
  if (s.next_sequence == 0) return Invalid(path, "applied.next_sequence must be >= 1");
  if (s.applied_commit > wal::kMaxCommitId) return Invalid(path, "applied.commit is above the largest CommitId, 2^64-2");  // REC-9
  if (!s.base_snapshot) {
    if (s.base_commit != 0 || s.base_digest != history::SeedDigest(identity.system_id)) {
      return Invalid(path, "base without a snapshot must be commit 0 with the seed digest");
    }
  } else {
    char want[32];
    std::snprintf(want, sizeof want, "%0*llu", kSnapshotIdDigits,
                  static_cast<unsigned long long>(s.base_commit));
    // COMPAT-11: or AeroDB's id; open checks its manifest's boundary.
    if (*s.base_snapshot != want && !IsAeroSnapshotId(*s.base_snapshot)) {
      return Invalid(path, "base.snapshot must be base.commit as 20 digits or an AeroDB snapshot id");
    }
  }
  if (s.fenced && s.role != Role::kPrimary) return Invalid(path, "fenced on a replica");
  if (s.promoting && s.role != Role::kReplica) return Invalid(path, "promoting on a primary");
  if (s.promoting && (s.promoting->epoch != s.epoch + 1 || s.promoting->branch_commit != s.applied_commit ||
                      s.promoting->branch_digest != s.applied_digest)) {
    // MODEL-8: apply-wal refuses in S8, so applied cannot move after the intent.
    return Invalid(path, "promoting must claim epoch + 1 at the applied commit and digest");
  }
  return s;
}

Promoting IntentAt(const NodeState& state, const history::Claimant& claimant) {
  return Promoting{state.epoch + 1, claimant, state.applied_commit, state.applied_digest};
}

Status SaveState(Fs& fs, const std::string& dir, const NodeState& state) {
  return WriteFileAtomically(fs, JoinPath(dir, kStateFile), StateToJson(state));
}

Result<std::optional<HaltReason>> LoadHalt(Fs& fs, const std::string& dir) {
  const std::string path = JoinPath(dir, kHaltFile);
  Result<json> j = ParseJsonFile(fs, path);
  if (!j.ok()) {
    if (j.status().code() == Code::kNotFound) return std::optional<HaltReason>();
    // NODE-9: the file's presence is the halt, even when it is not JSON (an
    // empty or cut file): a halt that unhalt can clear, not a 1 that nothing
    // clears. A file that cannot be read at all (kIo: a FIFO, EIO) stays 10.
    if (j.status().code() != Code::kDamage) return j.status();
    return std::optional<HaltReason>(
        HaltReason{"unknown", path, "halt.json cannot be read: " + j.status().message(), 0});
  }
  HaltReason h;
  Get(*j, "code", &h.code);
  Get(*j, "subject", &h.subject);
  Get(*j, "detail", &h.detail);
  Get(*j, "commit", &h.commit);
  if (h.code.empty()) h.code = "unknown";
  return std::optional<HaltReason>(h);
}

bool IsAeroSnapshotId(std::string_view id) {
  if (id.size() != 16 || id[8] != 'T' || id[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (id[i] < '0' || id[i] > '9')) return false;
  }
  return true;
}

std::string EnrolmentToJson(const Enrolment& e) {
  json j = {{"format", kStateFormat},
            {"writer", "aerodb"},
            {"base_commit", e.base_commit},
            {"base_snapshot", e.base_snapshot ? json(*e.base_snapshot) : json(nullptr)},
            {"applied_commit", e.applied_commit}};
  return json_fields::Dump(j, 2) + "\n";
}

Result<std::optional<Enrolment>> LoadEnrolment(Fs& fs, const std::string& dir) {
  const std::string path = JoinPath(dir, kEnrolmentFile);
  Result<json> parsed = ParseJsonFile(fs, path);
  if (!parsed.ok()) {
    if (parsed.status().code() == Code::kNotFound) return std::optional<Enrolment>();
    return parsed.status();
  }
  const json& j = *parsed;
  // NODE-12 with the JSON conventions: exact keys, exact types.
  for (auto& [key, value] : j.items()) {
    if (key != "format" && key != "writer" && key != "base_commit" && key != "base_snapshot" &&
        key != "applied_commit") {
      return Invalid(path, "unknown key '" + key + "'");  // NODE-12
    }
  }
  Enrolment e;
  uint64_t format = 0;
  std::string writer;
  if (!Get(j, "format", &format) || format != kStateFormat) return Invalid(path, "unknown format");
  if (!Get(j, "writer", &writer) || writer != "aerodb") return Invalid(path, "writer must be \"aerodb\"");
  if (!Get(j, "base_commit", &e.base_commit) || !Get(j, "applied_commit", &e.applied_commit) ||
      e.applied_commit < e.base_commit) {
    return Invalid(path, "invalid base_commit or applied_commit");
  }
  auto snap = j.find("base_snapshot");
  if (snap == j.end() || !(snap->is_null() || snap->is_string())) {
    return Invalid(path, "base_snapshot must be null or a snapshot id");
  }
  if (snap->is_string()) e.base_snapshot = snap->get<std::string>();
  if (e.base_snapshot.has_value() != (e.base_commit > 0)) {
    return Invalid(path, "base_snapshot must be named exactly when base_commit > 0");
  }
  return std::optional<Enrolment>(e);
}

Status SaveHalt(Fs& fs, const std::string& dir, const HaltReason& h) {
  json j = {{"format", kStateFormat},
            {"code", h.code},
            {"subject", Utf8Escaped(h.subject)},  // a path's raw bytes stay readable, as UTF-8
            {"detail", Utf8Escaped(h.detail)},
            {"commit", h.commit}};
  return WriteFileAtomically(fs, JoinPath(dir, kHaltFile), json_fields::Dump(j, 2) + "\n");
}

}  // namespace aero::node
