// replication/digests (NODE-11): a cache of H(c) whose damage costs a scan,
// never a wrong answer that its CRCs could have caught.
#include <doctest/doctest.h>

#include "node/digest_index.h"
#include "support/faulty_fs.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

history::Digest D(uint8_t fill) {
  history::Digest d;
  d.fill(fill);
  return d;
}

std::vector<node::DigestIndexEntry> Entries(uint64_t from, uint64_t to) {
  std::vector<node::DigestIndexEntry> out;
  for (uint64_t c = from; c <= to; ++c) out.push_back({c, D(static_cast<uint8_t>(c))});
  return out;
}

node::DigestIndex Read(const std::string& path) {
  auto index = node::ReadDigestIndex(PosixFs(), path);
  REQUIRE(index.ok());
  return *index;
}

}  // namespace

TEST_CASE("NODE-11 the index reads back what was appended, across writers") {
  TempDir t;
  const std::string p = t / "digests";
  CHECK(Read(p).digests.empty());  // absent: empty
  {
    node::DigestIndexWriter w(PosixFs(), p);
    REQUIRE(w.Append(Entries(1, 3)).ok());
    REQUIRE(w.Append(Entries(4, 4)).ok());
  }
  node::DigestIndexWriter w2(PosixFs(), p);
  REQUIRE(w2.Append(Entries(5, 6)).ok());
  node::DigestIndex index = Read(p);
  CHECK(index.digests.size() == 6);
  CHECK(index.digests.at(4) == D(4));
  CHECK(index.valid_bytes == index.file_bytes);
  CHECK(index.file_bytes == node::kDigestIndexMagic.size() + 6 * node::kDigestIndexEntryBytes);
  CHECK(ReadFile(p).substr(0, 8) == "AERODIX1");
}

TEST_CASE("NODE-11 a torn tail is ignored, then cut off before the next append") {
  TempDir t;
  const std::string p = t / "digests";
  REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(1, 3)).ok());
  std::string bytes = ReadFile(p);
  WriteFile(p, bytes + node::EncodeDigestIndexEntry({4, D(4)}).substr(0, 20));  // torn entry 4
  CHECK(Read(p).digests.size() == 3);
  REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(5, 5)).ok());
  node::DigestIndex index = Read(p);
  CHECK(index.digests.size() == 4);  // 1, 2, 3 and 5: the torn bytes did not shift entry 5
  CHECK(index.digests.count(5) == 1);
  CHECK(index.valid_bytes == index.file_bytes);
}

TEST_CASE("NODE-11 a damaged entry ends what is trusted: the ones before it stay") {
  TempDir t;
  const std::string p = t / "digests";
  REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(1, 5)).ok());
  // One bit of entry 3's digest.
  FlipBitInFile(p, node::kDigestIndexMagic.size() + 2 * node::kDigestIndexEntryBytes + 12, 0);
  node::DigestIndex index = Read(p);
  CHECK(index.digests.size() == 2);
  CHECK(index.digests.count(3) == 0);
  CHECK(index.digests.count(4) == 0);
  // The next writer keeps the good prefix and goes on from there.
  REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(6, 6)).ok());
  index = Read(p);
  CHECK(index.digests.size() == 3);
  CHECK(index.digests.at(6) == D(6));
}

TEST_CASE("NODE-11 a file without the magic is an empty index, started again by the writer") {
  TempDir t;
  const std::string p = t / "digests";
  WriteFile(p, std::string(100, 'x'));
  CHECK(Read(p).digests.empty());
  CHECK(Read(p).valid_bytes == 0);
  REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(7, 8)).ok());
  node::DigestIndex index = Read(p);
  CHECK(index.digests.size() == 2);
  CHECK(index.file_bytes == node::kDigestIndexMagic.size() + 2 * node::kDigestIndexEntryBytes);
}

TEST_CASE("NODE-11 a crash in the middle of an append loses entries, never corrupts later ones") {
  // Every step of two appends, as a process crash (a torn append stays on
  // disk) and as a power loss (nothing was fsynced: it all goes). What reads
  // back is a prefix of what was appended, and a new writer extends it.
  int torn_seen = 0;
  for (bool power_loss : {false, true}) {
    for (uint64_t crash = 1;; ++crash) {
      TempDir t;
      const std::string p = t / "digests";
      FaultyFs fs;
      fs.CrashAt(crash);
      {
        node::DigestIndexWriter w(fs, p);
        (void)w.Append(Entries(1, 2));
        (void)w.Append(Entries(3, 4));
      }
      const bool crashed = fs.crashed();
      if (power_loss) {
        fs.PowerLoss();
      } else {
        fs.ProcessRestart();
      }
      node::DigestIndex index = Read(p);
      torn_seen += index.file_bytes != index.valid_bytes;
      uint64_t expect = 1;
      for (const auto& [c, d] : index.digests) {
        CHECK(c == expect++);  // a prefix
        CHECK(d == D(static_cast<uint8_t>(c)));
      }
      REQUIRE(node::DigestIndexWriter(PosixFs(), p).Append(Entries(9, 9)).ok());
      index = Read(p);
      CHECK(index.digests.count(9) == 1);
      CHECK(index.valid_bytes == index.file_bytes);
      if (!crashed) break;
    }
  }
  CHECK(torn_seen > 0);  // the torn appends were exercised
}
