// specs/REPLICATION_LOG_FLOW.md LOG-28, LOG-33; formats/node-layout.md
// `replication/inbox/<key>.json`: the memo of the segments apply-wal judged
// is a count and a sum of identity digests, folded in one at a time.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "repl/inbox_memo.h"
#include "support/memory_fs.h"

using namespace aero;

namespace {

Sha256Digest Filled(uint8_t byte) {
  Sha256Digest d;
  d.fill(byte);
  return d;
}

}  // namespace

TEST_CASE("LOG-28 LOG-33 the memo's sum does not depend on the order identities are folded in") {
  std::vector<Sha256Digest> ids;
  for (int i = 0; i < 50; ++i) {
    FileInfo info;
    info.size = 100 + i;
    info.inode = 7000 + i;
    info.mtime_ns = 1'700'000'000'000'000'000 + i;
    ids.push_back(repl::IdentityDigest("segment-" + std::to_string(i), info));
  }
  repl::MemoSum forward;
  for (const auto& d : ids) forward.Add(d);
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(ids.begin(), ids.end(), rng);
    repl::MemoSum shuffled, halves, second;
    for (const auto& d : ids) shuffled.Add(d);
    CHECK(shuffled.For(9) == forward.For(9));
    // Passed over, then judged now (apply's Record): the same memo.
    for (size_t i = 0; i < ids.size(); ++i) (i < 20 ? halves : second).Add(ids[i]);
    halves.Add(second);
    CHECK(halves.For(9) == forward.For(9));
  }
  CHECK(forward.For(9).names == 50);
  // One identity changed, left out, or added twice: another memo.
  repl::MemoSum fewer, twice;
  for (size_t i = 1; i < ids.size(); ++i) fewer.Add(ids[i]);
  for (const auto& d : ids) twice.Add(d);
  twice.Add(ids[0]);
  CHECK(!(fewer.For(9) == forward.For(9)));
  CHECK(!(twice.For(9) == forward.For(9)));
  FileInfo other;
  other.size = 100;
  other.inode = 7001;  // another inode under a judged name
  other.mtime_ns = 1'700'000'000'000'000'000;
  CHECK(repl::IdentityDigest("segment-0", other) != ids.front());
}

TEST_CASE("LOG-28 the sum carries across bytes and wraps modulo 2^256") {
  repl::MemoSum s;
  s.Add(Filled(0xff));
  Sha256Digest one{};
  one[31] = 1;
  s.Add(one);  // 2^256 - 1 + 1 = 0 (mod 2^256): every byte carried
  CHECK(s.For(1).names_sum == Filled(0));
  Sha256Digest low{};
  low[31] = 0x80;
  repl::MemoSum t;
  t.Add(low);
  t.Add(low);  // 0x80 + 0x80 = 0x100: a carry into the next byte
  Sha256Digest want{};
  want[30] = 1;
  CHECK(t.For(1).names_sum == want);
  CHECK(t.For(1).names == 2);
}

TEST_CASE("LOG-28 a memo round-trips, and one of format 1 is no memo") {
  testing::MemoryFs fs;
  const std::string path = repl::InboxMemoPath("/r", "/srv/inbox");
  repl::MemoSum s;
  s.Add(Filled(3));
  REQUIRE(repl::SaveInboxMemo(fs, "/r", path, "/srv/inbox", s.For(42)).ok());
  const auto back = repl::LoadInboxMemo(fs, path, "/srv/inbox");
  REQUIRE(back.has_value());
  CHECK(*back == s.For(42));
  CHECK(!repl::LoadInboxMemo(fs, path, "/srv/other"));
  fs.Put(path,
             "{\"format\":1,\"inbox\":\"/srv/inbox\",\"applied\":42,\"names\":1,\"names_sha256\":\"" +
             std::string(64, '0') + "\"}\n");
  CHECK(!repl::LoadInboxMemo(fs, path, "/srv/inbox"));
}
