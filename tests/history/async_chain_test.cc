// The history digest on a worker thread (lib/history/async_chain.h) gives
// exactly the digests of the synchronous HIST-2 chain.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "history/async_chain.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::history;

namespace {

// Write sets of random sizes, some larger than a worker chunk.
std::vector<std::string> RandomSets(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> sets;
  for (int i = 0; i < n; ++i) {
    size_t len = rng() % 5 == 0 ? AsyncDigestChain::kChunkBytes + rng() % 100000 : rng() % 5000;
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    sets.push_back(std::move(s));
  }
  return sets;
}

std::vector<Digest> SyncChain(const Digest& start, const std::vector<std::string>& sets) {
  std::vector<Digest> out;
  Digest at = start;
  for (const std::string& s : sets) {
    DigestChain c;
    c.Begin(at);
    c.Update(s);
    at = c.Finish();
    out.push_back(at);
  }
  return out;
}

}  // namespace

TEST_CASE("HIST-2 the worker's chain equals the synchronous chain, in any split of the bytes") {
  const Digest start = SeedDigest(*ParseSystemId("00112233445566778899aabbccddeeff"));
  const auto sets = RandomSets(40, 7);
  const auto want = SyncChain(start, sets);
  AsyncDigestChain chain(start);
  std::mt19937 rng(3);
  for (size_t i = 0; i < sets.size(); ++i) {
    std::string_view s = sets[i];
    while (!s.empty()) {  // records of arbitrary sizes
      size_t k = std::min<size_t>(s.size(), 1 + rng() % 70000);
      chain.Update(s.substr(0, k));
      s.remove_prefix(k);
    }
    chain.EndWriteSet(i + 1);
    if (i % 7 == 3) chain.Keep(i + 1);  // the last one ended
    if (i % 11 == 5) chain.Keep(i);     // the one before it
  }
  chain.Update("an uncommitted tail is never part of a digest");
  CHECK(chain.Finish() == want.back());
  for (size_t i = 0; i < sets.size(); ++i) {
    const uint64_t c = i + 1;
    if (i % 7 == 3 || (c + 1) % 11 == 6) {
      REQUIRE(chain.Get(c).has_value());
      CHECK(*chain.Get(c) == want[i]);
    } else {
      CHECK(!chain.Get(c).has_value());  // never asked for: not kept
    }
  }
}

TEST_CASE("HIST-2 Keep() for a later commit, Get() waits on another thread") {
  const Digest start = SeedDigest(SystemId{});
  const auto sets = RandomSets(12, 11);
  const auto want = SyncChain(start, sets);
  AsyncDigestChain chain(start);
  chain.Keep(9);
  chain.Keep(12);
  std::optional<Digest> got9;
  std::thread reader([&] { got9 = chain.Get(9); });
  for (size_t i = 0; i < sets.size(); ++i) {
    chain.Update(sets[i]);
    chain.EndWriteSet(i + 1);
  }
  chain.Keep(12);  // hands the last bytes over; Get(12) may now be asked anywhere
  CHECK(chain.Get(12) == want[11]);
  reader.join();
  CHECK(got9 == want[8]);
  CHECK(chain.Finish() == want[11]);
  CHECK(!chain.Get(13).has_value());  // never reached
}

TEST_CASE("HIST-2 no write set: Finish() is the start, a dropped chain stops its worker") {
  const Digest start = SeedDigest(SystemId{});
  {
    AsyncDigestChain chain(start);
    chain.Update("bytes without a commit");
    CHECK(chain.Finish() == start);
  }
  {
    AsyncDigestChain chain(start);
    for (int i = 0; i < 20; ++i) chain.Update(std::string(AsyncDigestChain::kChunkBytes / 2, 'x'));
  }  // destroyed with work queued: returns without hashing the rest
}

TEST_CASE("HIST-2 the Keep/Get contract is checked: a commit kept after the worker may have passed it gets nullopt at once, never a wait") {
  const Digest start = SeedDigest(SystemId{});
  const auto sets = RandomSets(6, 3);
  const auto want = SyncChain(start, sets);
  AsyncDigestChain chain(start);
  for (size_t i = 0; i < sets.size(); ++i) {
    chain.Update(sets[i]);
    chain.EndWriteSet(i + 1);
  }
  chain.Keep(5);  // second-to-last ended: allowed
  chain.Keep(6);  // last ended: allowed
  chain.Keep(2);  // older: against the contract
  CHECK(chain.contract_violations() == 1);
  // On this thread, before Finish(): a wait here would never end.
  CHECK_FALSE(chain.Get(2).has_value());
  CHECK(chain.Get(5) == want[4]);
  CHECK(chain.Get(6) == want[5]);
  CHECK(chain.Finish() == want[5]);
}

TEST_CASE("LOG-33 ForgetBelow drops the digests kept below a commit, and a Get of one says nullopt at once") {
  const Digest start{};
  std::vector<std::string> sets;
  for (int i = 0; i < 50; ++i) sets.push_back(std::string(100 + i, static_cast<char>('a' + i % 26)));
  const std::vector<Digest> want = SyncChain(start, sets);
  AsyncDigestChain chain(start);
  for (size_t i = 0; i < sets.size(); ++i) {
    chain.Update(sets[i]);
    chain.EndWriteSet(i + 1);
    chain.Keep(i + 1);  // every commit asked for, as a shipper of one write set per segment does
    REQUIRE(chain.Get(i + 1) == want[i]);
    if (i >= 1) chain.ForgetBelow(i);  // its segment published: H(i - 1) is not needed again
    CHECK(chain.kept() <= 2);  // flat, whatever the number of segments
  }
  CHECK(chain.Get(50) == want[49]);
  CHECK(chain.Get(49) == want[48]);  // at the bound: kept
  CHECK(!chain.Get(10).has_value());  // dropped: nullopt, never a wait
  CHECK(chain.Finish() == want.back());
  CHECK(chain.contract_violations() == 0);
}

TEST_CASE("LOG-33 a Get waiting for a commit that ForgetBelow drops returns nullopt at once") {
  AsyncDigestChain chain(Digest{});
  chain.Keep(5);  // asked for, not reached: no write set yet
  auto waiting = std::async(std::launch::async, [&] { return chain.Get(5); });
  struct FinishAtExit {  // a failed REQUIRE still ends the wait before the future is destroyed
    AsyncDigestChain& c;
    ~FinishAtExit() { c.Finish(); }
  } finish_at_exit{chain};
  CHECK(waiting.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);  // it waits
  chain.ForgetBelow(6);
  // Woken by ForgetBelow itself, not by a later chunk or Finish (a hang
  // otherwise: nothing else happens until the wait returns).
  REQUIRE(waiting.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(!waiting.get().has_value());
}
