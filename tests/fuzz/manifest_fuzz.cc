// libFuzzer target for the archive manifest's reader (formats/snapshot-archive.md
// "Manifest (member 0, SNAP-3)", SNAP-8, SNAP-9, SNAP-15, SNAP-16): any
// byte string given to DecodeManifest is a manifest or a refusal, never a
// crash, a hang or an exception; a refusal is damage (1) with a message. A
// manifest it accepts:
// - round-trips: EncodeManifest of it decodes to the same manifest and
//   re-encodes to the same bytes;
// - keeps the rules it was checked against: strictly sorted member paths
//   that pass IsSafeMemberPath, member_count and total_bytes within SNAP-9,
//   wal/wal.log listed, a sha256 on every member except format 2's WAL,
//   the lineage chain 1..epoch with its history members, base <= boundary;
// - is refused once cut (its last byte) or with one bit flipped (the
//   self-checksum, SNAP-3).
// Text nested deeper than kMaxJsonDepth is refused before it is parsed.
// Each input is judged twice: as it is, and, when it parses as a JSON
// object, in canonical form with manifest_sha256 recomputed, so that
// mutated fields reach the field and cross-field checks (4 and 5).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/crc32.h"
#include "common/json_depth.h"
#include "common/sha256.h"
#include "history/history_file.h"
#include "snapshot/archive_format.h"
#include "snapshot/manifest.h"

namespace {

using aero::snapshot::Manifest;
using aero::snapshot::Member;

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SameMembers(const std::vector<Member>& a, const std::vector<Member>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].path != b[i].path || a[i].size != b[i].size || a[i].sha256 != b[i].sha256) return false;
  }
  return true;
}

bool Same(const Manifest& a, const Manifest& b) {
  return a.format == b.format && a.system_id.bytes == b.system_id.bytes && a.epoch == b.epoch &&
         a.base_commit == b.base_commit && a.base_digest == b.base_digest &&
         a.base_snapshot == b.base_snapshot && a.boundary_commit == b.boundary_commit &&
         a.boundary_digest == b.boundary_digest && a.boundary_wal_offset == b.boundary_wal_offset &&
         a.next_sequence == b.next_sequence && a.lineage == b.lineage &&
         SameMembers(a.members, b.members);
}

void CheckRules(const Manifest& m) {
  using namespace aero::snapshot;
  Check(m.format == kManifestFormat || m.format == kManifestFormatV1);
  Check(m.epoch >= 1 && m.members.size() <= kMaxMembers && m.base_commit <= m.boundary_commit);
  uint64_t total = 0;
  bool wal = false;
  for (size_t i = 0; i < m.members.size(); ++i) {
    const Member& x = m.members[i];
    std::string why;
    Check(IsSafeMemberPath(x.path, &why));
    Check(i == 0 || m.members[i - 1].path < x.path);
    Check(x.size <= kMaxTotalBytes - total);
    total += x.size;
    wal = wal || x.path == kWalMember;
    Check(x.sha256.has_value() != (m.format == kManifestFormat && x.path == kWalMember));
  }
  Check(wal && total == m.TotalBytes());
  if (m.epoch == 1) {
    Check(m.lineage.empty());
  } else {
    Check(m.lineage.size() == m.epoch && m.lineage.front().branch_commit == 0 &&
          m.lineage.back().branch_commit <= m.boundary_commit);
  }
  for (size_t i = 0; i < m.lineage.size(); ++i) {
    Check(m.lineage[i].epoch == i + 1);
    Check(i == 0 || m.lineage[i - 1].branch_commit <= m.lineage[i].branch_commit);
  }
}

// Decodes `bytes`; true when it is a manifest (then every check above held).
bool Judge(const std::string& bytes) {
  aero::Result<Manifest> m = aero::snapshot::DecodeManifest(bytes);
  if (!m.ok()) {
    Check(m.status().code() == aero::Code::kDamage && !m.status().message().empty());
    return false;
  }
  CheckRules(*m);
  const std::string encoded = aero::snapshot::EncodeManifest(*m);
  aero::Result<Manifest> again = aero::snapshot::DecodeManifest(encoded);
  Check(again.ok() && Same(*m, *again) && aero::snapshot::EncodeManifest(*again) == encoded);

  Check(!aero::snapshot::DecodeManifest(bytes.substr(0, bytes.size() - 1)).ok());
  const uint32_t crc = aero::Crc32(bytes.data(), bytes.size());
  for (uint64_t bit : {uint64_t{crc}, uint64_t{crc} * 7919}) {
    std::string flipped = bytes;
    bit %= flipped.size() * 8;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Check(!aero::snapshot::DecodeManifest(flipped).ok());
  }
  return true;
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid as read.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  if (Judge(raw)) ++valid_inputs;
  const std::string_view text =
      !raw.empty() && raw.back() == '\n' ? std::string_view(raw).substr(0, size - 1) : raw;
  if (aero::JsonDepth(text) > aero::kMaxJsonDepth) return 0;  // dump() would recurse that deep
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  j.erase("manifest_sha256");
  j["manifest_sha256"] = aero::ToHex(aero::Sha256::Of(j.dump()));
  Judge(j.dump() + "\n");
  return 0;
}
