// formats/history-file.md: names, the canonical content and its worked
// example, the three outcomes of reading one, lineage rules, the marker.
#include <doctest/doctest.h>

#include <functional>

#include "common/sha256.h"
#include "history/history_file.h"

using namespace aero;
using namespace aero::history;

namespace {

const char* kExample =
    "{\"branch_commit\":1,\"branch_digest\":\"81e5741c6bcf6fd8a6e8dccd37c164ec256b3452222e6a37779e8c40c4342c51\","
    "\"checksum\":\"41031d2cc0cd9b59d57d2a02431abf4ba20f6175258b765808f817ac51a23ea3\","
    "\"claimant\":\"ffeeddccbbaa99887766554433221100\",\"epoch\":2,\"format\":1,"
    "\"lineage\":[{\"branch_commit\":0,\"epoch\":1},{\"branch_commit\":1,\"epoch\":2}],"
    "\"parent_epoch\":1,\"system_id\":\"00112233445566778899aabbccddeeff\"}\n";

SystemId Sys() { return *ParseSystemId("00112233445566778899aabbccddeeff"); }

HistoryFile Example() {
  HistoryFile h;
  h.system_id = Sys();
  h.epoch = 2;
  h.branch_commit = 1;
  h.branch_digest = *ParseDigest("81e5741c6bcf6fd8a6e8dccd37c164ec256b3452222e6a37779e8c40c4342c51");
  REQUIRE(FromHex("ffeeddccbbaa99887766554433221100", h.claimant.data(), h.claimant.size()));
  h.lineage = {{1, 0}, {2, 1}};
  return h;
}

Code Outcome(std::string_view bytes, uint32_t epoch = 2) {
  return DecodeHistoryFile(bytes, epoch, Sys(), "f").status().code();
}

}  // namespace

TEST_CASE("HFILE-1 names: eight lowercase hex digits and .history, nothing else") {
  CHECK(HistoryFileName(2) == "00000002.history");
  CHECK(HistoryFileName(0xabcdef01) == "abcdef01.history");
  CHECK(ParseHistoryFileName("0000000e.history") == 14u);
  CHECK(ParseHistoryFileName("ffffffff.history") == 0xffffffffu);
  for (const char* bad : {"0000000E.history", "0000002.history", "000000002.history",
                          "00000002.history.tmp", ".00000002.history", "00000002.History",
                          "0000000g.history", "00000002history", ""}) {
    CHECK_MESSAGE(!ParseHistoryFileName(bad), bad);
  }
  // The epoch in the content must be the name's.
  CHECK(Outcome(kExample, 3) == Code::kDamage);
  CHECK(Outcome(kExample, 2) == Code::kOk);
}

TEST_CASE("HFILE-2 the worked example: 384 bytes, checksum 41031d2c...") {
  const std::string bytes = EncodeHistoryFile(Example());
  CHECK(bytes.size() == 384);
  CHECK(bytes == kExample);
  auto h = DecodeHistoryFile(bytes, 2, Sys(), "00000002.history");
  REQUIRE(h.ok());
  CHECK(h->epoch == 2);
  CHECK(h->parent_epoch() == 1);
  CHECK(h->branch_commit == 1);
  CHECK(ClaimantToHex(h->claimant) == "ffeeddccbbaa99887766554433221100");
  CHECK(h->lineage == std::vector<LineageEntry>{{1, 0}, {2, 1}});
  // Not canonical (a space), though the same JSON value: invalid.
  std::string spaced = bytes;
  spaced.insert(1, " ");
  CHECK(Outcome(spaced) == Code::kDamage);
}

TEST_CASE("HFILE-3 every cut of a history file is in transit, every bit flip invalid or in transit, never valid") {
  const std::string bytes = kExample;
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK_MESSAGE(Outcome(bytes.substr(0, n)) == Code::kInTransit, "cut at " << n);
  }
  int damage = 0, transit = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string m = bytes;
      m[i] = static_cast<char>(m[i] ^ (1 << bit));
      const Code c = Outcome(m);
      CHECK_MESSAGE((c == Code::kDamage || c == Code::kInTransit), "byte " << i << " bit " << bit);
      damage += c == Code::kDamage;
      transit += c == Code::kInTransit;
    }
  }
  // Only flips of the final newline (and of the last brace into a character
  // that leaves the JSON open) read as incomplete.
  CHECK(damage > 3000);
  CHECK(transit < 16);
  // Complete JSON followed by more bytes is not a copy in progress.
  CHECK(Outcome(bytes + "x") == Code::kDamage);
  CHECK(Outcome(bytes + "\n") == Code::kDamage);
  // SEG-9: a copy that preallocated the file, written up to any point,
  // is in transit, until its newline is there.
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK_MESSAGE(Outcome(bytes.substr(0, n) + std::string(bytes.size() - n, '\0')) == Code::kInTransit,
                  "preallocated, written to " << n);
  }
  CHECK(Outcome(bytes) == Code::kOk);
  // A complete file followed by NULs is padding, not a copy in progress.
  CHECK(Outcome(bytes + std::string(4096, '\0')) == Code::kDamage);
}

TEST_CASE("HFILE-3 hostile values: mistyped, missing, extra and over-long fields are invalid (1)") {
  auto with = [](const std::function<void(HistoryFile&)>& change) {
    HistoryFile h = Example();
    change(h);
    return EncodeHistoryFile(h);
  };
  // Re-encoded with a valid checksum, so that each check is reached on its own.
  CHECK(Outcome(with([](HistoryFile& h) { h.lineage = {{1, 0}}; })) == Code::kDamage);
  CHECK(Outcome(with([](HistoryFile& h) { h.lineage = {{1, 0}, {2, 2}}; })) == Code::kDamage);
  CHECK(Outcome(with([](HistoryFile& h) { h.lineage = {{1, 1}, {2, 1}}; })) == Code::kDamage);
  CHECK(Outcome(with([](HistoryFile& h) { h.lineage = {{2, 0}, {2, 1}}; })) == Code::kDamage);
  CHECK(Outcome(with([](HistoryFile& h) { h.epoch = 1; h.lineage = {{1, 0}}; h.branch_commit = 0; }), 1) ==
        Code::kDamage);
  // Raw JSON edits, checksum recomputed by hand: mistyped, missing, extra keys.
  auto raw = [](std::string body) {
    // body without checksum, canonical; add the checksum the way the format says
    std::string with_sum = body;
    const std::string sum = ToHex(Sha256::Of(body));
    with_sum.insert(with_sum.find("\"claimant\""), "\"checksum\":\"" + sum + "\",");
    return with_sum + "\n";
  };
  const std::string base =
      "{\"branch_commit\":1,\"branch_digest\":\"81e5741c6bcf6fd8a6e8dccd37c164ec256b3452222e6a37779e8c40c4342c51\","
      "\"claimant\":\"ffeeddccbbaa99887766554433221100\",\"epoch\":2,\"format\":1,"
      "\"lineage\":[{\"branch_commit\":0,\"epoch\":1},{\"branch_commit\":1,\"epoch\":2}],"
      "\"parent_epoch\":1,\"system_id\":\"00112233445566778899aabbccddeeff\"}";
  REQUIRE(raw(base) == kExample);
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string b = base;
    const size_t at = b.find(from);
    REQUIRE(at != std::string::npos);
    b.replace(at, from.size(), to);
    return raw(b);
  };
  CHECK(Outcome(edited("\"epoch\":2,", "\"epoch\":\"2\",")) == Code::kDamage);
  CHECK(Outcome(edited("\"format\":1", "\"format\":2")) == Code::kDamage);
  CHECK(Outcome(edited("\"branch_commit\":1,\"branch_digest", "\"branch_commit\":-1,\"branch_digest")) ==
        Code::kDamage);
  CHECK(Outcome(edited("\"parent_epoch\":1", "\"parent_epoch\":0")) == Code::kDamage);
  CHECK(Outcome(edited("\"claimant\":\"ffeeddccbbaa99887766554433221100\"",
                       "\"claimant\":\"FFEEDDCCBBAA99887766554433221100\"")) == Code::kDamage);
  CHECK(Outcome(edited("\"system_id\":\"00112233445566778899aabbccddeeff\"",
                       "\"system_id\":\"00112233445566778899AABBCCDDEEFF\"")) == Code::kDamage);
  CHECK(Outcome(edited("\"lineage\":[", "\"lineage\":[1,")) == Code::kDamage);
  CHECK(Outcome(edited("\"parent_epoch\":1,", "\"parent_epoch\":1,\"x\":0,")) == Code::kDamage);
  CHECK(Outcome(edited("\"format\":1,", "")) == Code::kDamage);
  CHECK(Outcome(edited("\"epoch\":2,", "\"epoch\":18446744073709551617,")) == Code::kDamage);
  // REC-9: 2^64-1 is no CommitId, in the lineage as at the top.
  CHECK(Outcome(with([](HistoryFile& h) {
          h.branch_commit = UINT64_MAX;
          h.lineage.back().branch_commit = UINT64_MAX;
        })) == Code::kDamage);
  // Over-long: more than 1 MiB is invalid before it is parsed.
  CHECK(Outcome(std::string(kMaxHistoryFileBytes + 1, ' ')) == Code::kDamage);
  // A deep nest stays an invalid file, not a crash.
  CHECK(Outcome(std::string(100000, '[') + "\n") == Code::kDamage);
  // Not JSON at all.
  CHECK(Outcome("hello\n") == Code::kDamage);
}

TEST_CASE("HFILE-3 a file nested 500,000 levels deep is invalid (1), never a stack overflow") {
  // Found by tests/fuzz/history_file_fuzz.cc (finding_deep_nesting.history):
  // the parse does not recurse, but the canonical check's copy and dumps
  // did, once per level. 1 MB, within the 1 MiB bound.
  const size_t depth = 500000;
  const std::string bytes =
      "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + ",\"checksum\":\"00\"}\n";
  REQUIRE(bytes.size() <= kMaxHistoryFileBytes);
  const Status s = DecodeHistoryFile(bytes, 2, Sys(), "f").status();
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message() == "invalid history file 'f': nested deeper than 32 levels");
}

TEST_CASE("HFILE-3 a valid file of another system is foreign (5)") {
  HistoryFile h = Example();
  h.system_id = *ParseSystemId("ffffffffffffffffffffffffffffffff");
  auto r = DecodeHistoryFile(EncodeHistoryFile(h), 2, Sys(), "inbox/00000002.history");
  CHECK(r.status().code() == Code::kRefused);
  CHECK(r.status().message() ==
        "foreign history file 'inbox/00000002.history': system id ffffffffffffffffffffffffffffffff, "
        "this node is 00112233445566778899aabbccddeeff");
  CHECK(!r.status().hint().empty());
}

TEST_CASE("HFILE-4 lineage rules") {
  HistoryFile e2 = Example();
  HistoryFile e3 = e2;
  e3.epoch = 3;
  e3.branch_commit = 7;
  e3.lineage = {{1, 0}, {2, 1}, {3, 7}};
  REQUIRE(Outcome(EncodeHistoryFile(e3), 3) == Code::kOk);
  CHECK(CheckLineagePrefix(e2, e3, "f").ok());
  HistoryFile other = e3;
  other.lineage = {{1, 0}, {2, 2}, {3, 7}};
  CHECK(CheckLineagePrefix(e2, other, "f").code() == Code::kDamage);
  CHECK(CheckLineagePrefix(e3, e2, "f").code() == Code::kDamage);
  HistoryFile decreasing = e3;
  decreasing.branch_commit = 0;
  decreasing.lineage = {{1, 0}, {2, 1}, {3, 0}};
  CHECK(Outcome(EncodeHistoryFile(decreasing), 3) == Code::kDamage);
  // An epoch may branch at the same commit as its parent (promoted twice
  // before any write): non-decreasing, not increasing.
  HistoryFile same = e3;
  same.branch_commit = 1;
  same.lineage = {{1, 0}, {2, 1}, {3, 1}};
  CHECK(Outcome(EncodeHistoryFile(same), 3) == Code::kOk);
}

TEST_CASE("HFILE-5 the claim-archive marker: canonical, one per system") {
  const std::string m = EncodeClaimArchiveMarker(Sys());
  CHECK(m.rfind("{\"checksum\":\"", 0) == 0);
  CHECK(m.find("\"format\":1,\"system_id\":\"00112233445566778899aabbccddeeff\"}\n") != std::string::npos);
  CHECK(DecodeClaimArchiveMarker(m, Sys(), "a/claim-archive.json").ok());
  CHECK(DecodeClaimArchiveMarker(m, *ParseSystemId("ffffffffffffffffffffffffffffffff"), "a").code() ==
        Code::kRefused);
  CHECK(DecodeClaimArchiveMarker(m.substr(0, m.size() - 3), Sys(), "a").code() == Code::kInTransit);
  std::string flipped = m;
  flipped[20] = static_cast<char>(flipped[20] ^ 1);
  CHECK(DecodeClaimArchiveMarker(flipped, Sys(), "a").code() == Code::kDamage);
  CHECK(DecodeClaimArchiveMarker(std::string(kMaxMarkerBytes + 1, ' '), Sys(), "a").code() == Code::kDamage);
}
