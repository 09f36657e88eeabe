// libFuzzer target for the epoch history file and the claim-archive marker
// (formats/history-file.md, HFILE-1..HFILE-5): any byte string read as
// either ends in one outcome, never a crash, a hang or an exception: valid,
// in transit (8), invalid (1) or foreign (5), each refusal with a message.
// A history file it accepts:
// - is exactly EncodeHistoryFile of what was read (HFILE-2: one canonical
//   form), and the marker exactly EncodeClaimArchiveMarker (HFILE-5);
// - has the lineage of HFILE-4 ({1,0}, epochs 1..E, branch commits not
//   decreasing, ending at branch_commit) and continues its own lineage;
// - is invalid under another name's epoch (HFILE-1) and foreign to another
//   system (HFILE-3);
// - is in transit once cut, and never valid with one bit flipped (HFILE-3).
// A foreign file is one that is valid for its own system id. Each input is
// judged twice: as it is and, when it parses as a JSON object, in canonical
// form with its checksum recomputed, so that mutated fields reach the field
// checks. The name's epoch is the content's when it has one (else 2).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/crc32.h"
#include "common/json_depth.h"
#include "common/sha256.h"
#include "history/history_file.h"
#include "history/system_id.h"

namespace {

using aero::Code;
using aero::history::HistoryFile;

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

const aero::history::SystemId kSystem =
    *aero::history::ParseSystemId("00112233445566778899aabbccddeeff");
const aero::history::SystemId kOther =
    *aero::history::ParseSystemId("ffeeddccbbaa99887766554433221100");

// The outcomes HFILE-3 and HFILE-5 allow, each refusal with a message.
void CheckOutcome(const aero::Status& s) {
  Check(s.ok() || ((s.code() == Code::kInTransit || s.code() == Code::kDamage ||
                    s.code() == Code::kRefused) &&
                   !s.message().empty()));
}

void CheckCuts(const std::string& bytes, bool marker, uint32_t name_epoch) {
  auto read = [&](const std::string& b) {
    return marker ? aero::history::DecodeClaimArchiveMarker(b, kSystem, "claim-archive.json")
                  : aero::history::DecodeHistoryFile(b, name_epoch, kSystem, "fuzz.history").status();
  };
  const uint32_t crc = aero::Crc32(bytes.data(), bytes.size());
  for (size_t cut : {size_t{0}, bytes.size() - 1, static_cast<size_t>(crc % bytes.size())}) {
    Check(read(bytes.substr(0, cut)).code() == Code::kInTransit);
  }
  for (uint64_t bit : {uint64_t{crc}, uint64_t{crc} * 7919}) {
    std::string flipped = bytes;
    bit %= flipped.size() * 8;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    const aero::Status s = read(flipped);
    Check(s.code() == Code::kDamage || s.code() == Code::kInTransit);
  }
}

// Judges `bytes` as a history file named for `name_epoch` and as a marker;
// true when the history file is valid.
bool Judge(const std::string& bytes, uint32_t name_epoch) {
  using namespace aero::history;
  aero::Result<HistoryFile> h = DecodeHistoryFile(bytes, name_epoch, kSystem, "fuzz.history");
  CheckOutcome(h.status());
  if (h.status().code() == Code::kRefused) {  // foreign: valid for its own system
    const nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
    aero::Result<SystemId> own = ParseSystemId(j.at("system_id").get<std::string>());
    Check(own.ok() && DecodeHistoryFile(bytes, name_epoch, *own, "fuzz.history").ok());
  }
  const aero::Status mk = DecodeClaimArchiveMarker(bytes, kSystem, "claim-archive.json");
  CheckOutcome(mk);
  if (mk.ok()) {
    Check(bytes == EncodeClaimArchiveMarker(kSystem));
    Check(DecodeClaimArchiveMarker(bytes, kOther, "claim-archive.json").code() == Code::kRefused);
    CheckCuts(bytes, true, 0);
  }
  if (!h.ok()) return false;

  Check(bytes == EncodeHistoryFile(*h));
  Check(h->epoch == name_epoch && h->epoch >= 2 && h->lineage.size() == h->epoch);
  Check(h->lineage.front() == (LineageEntry{1, 0}));
  Check(h->lineage.back() == (LineageEntry{h->epoch, h->branch_commit}));
  for (size_t i = 1; i < h->lineage.size(); ++i) {
    Check(h->lineage[i].epoch == i + 1 &&
          h->lineage[i - 1].branch_commit <= h->lineage[i].branch_commit);
  }
  Check(CheckLineagePrefix(*h, *h, "fuzz.history").ok());
  HistoryFile parent = *h;
  parent.lineage.pop_back();
  Check(CheckLineagePrefix(parent, *h, "fuzz.history").ok());
  Check(!CheckLineagePrefix(*h, parent, "fuzz.history").ok());

  Check(DecodeHistoryFile(bytes, name_epoch + 1, kSystem, "fuzz.history").status().code() ==
        Code::kDamage);
  Check(DecodeHistoryFile(bytes, name_epoch, kOther, "fuzz.history").status().code() ==
        Code::kRefused);
  CheckCuts(bytes, false, name_epoch);
  return true;
}

// The content's epoch when it has one that fits a name, else 2.
uint32_t NameEpoch(const nlohmann::json& j) {
  if (j.is_object()) {
    const auto e = j.find("epoch");
    if (e != j.end() && e->is_number_unsigned() && e->get<uint64_t>() <= UINT32_MAX) {
      return static_cast<uint32_t>(e->get<uint64_t>());
    }
  }
  return 2;
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid as read.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string_view text =
      !raw.empty() && raw.back() == '\n' ? std::string_view(raw).substr(0, size - 1) : raw;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (Judge(raw, NameEpoch(j))) ++valid_inputs;
  if (j.is_discarded() || !j.is_object()) return 0;
  if (aero::JsonDepth(text) > aero::kMaxJsonDepth) return 0;  // dump() would recurse that deep
  j.erase("checksum");
  j["checksum"] = aero::ToHex(aero::Sha256::Of(j.dump()));
  Judge(j.dump() + "\n", NameEpoch(j));
  return 0;
}
