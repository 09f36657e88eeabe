// Encryption policy of ship-wal and apply-wal (formats/encrypted-file.md
// ENC-8: a re-ship recognised by its plaintext; ENC-30: re-ship after a
// key rotation; ENC-31: required encryption).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"
#include "repl/verify.h"
#include "support/cut_while_read_fs.h"
#include "support/repl_fixture.h"
#include <sys/stat.h>

using namespace aero;
using namespace aero::testing;

namespace {

crypto::EncryptionKey ReqEncKey(uint8_t first) {
  crypto::EncryptionKey k;
  for (size_t i = 0; i < k.key.bytes.size(); ++i) k.key.bytes[i] = static_cast<uint8_t>(first + 3 * i);
  k.key.id = crypto::KeyIdOf(k.key.bytes);
  k.key.path = "key" + std::to_string(first);
  return k;
}

Status ReqEncShip(const std::string& p, const std::string& out, const crypto::EncryptionKey* key,
                  const crypto::KeyStore* read_keys = nullptr, repl::ShipReport* rep = nullptr) {
  repl::ShipOptions o;
  o.data_dir = p;
  o.target = out;
  o.max_segment_bytes = 3000;
  o.encryption = key;
  o.read_keys = read_keys;
  return repl::ShipWal(PosixFs(), o, rep);
}

Status ReqEncApply(const std::string& replica, const std::string& inbox, const crypto::KeyStore& keys) {
  crypto::DecryptingFs fs(PosixFs(), &keys);
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  o.require_encryption = true;
  return repl::ApplyWal(fs, o, nullptr);
}

bool ReqEncHalted(const std::string& dir) { return FileExists(dir + "/replication/halt.json"); }

}  // namespace

TEST_CASE("ENC-31 a replica that requires encryption refuses a plaintext segment without halting") {
  TempDir t;
  const crypto::EncryptionKey key = ReqEncKey(40);
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 20);
  for (const char* d : {"plain", "in"}) REQUIRE(PosixFs().MakeDir(t / d).ok());
  // A bootstrap from plaintext segments only: 5, nothing created.
  REQUIRE(ShipInto(t / "p", t / "plain").ok());
  Status s = ReqEncApply(t / "r0", t / "plain", keys);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.reason() == "plaintext");
  CHECK(s.message().find("plaintext segment '" + (t / "plain") + "/") == 0);
  CHECK_FALSE(std::filesystem::exists(t / "r0"));
  // Encrypted segments are applied.
  REQUIRE(ReqEncShip(t / "p", t / "in", &key).ok());
  REQUIRE(ReqEncApply(t / "r", t / "in", keys).ok());
  CHECK(StateOf(t / "r").applied_commit == 20);
  // A plaintext continuation: 5, nothing of it applied, not halted.
  Write(t / "p", 8, 5);
  repl::ShipReport plain;
  REQUIRE(Ship(t / "p", t / "in", 3000, false, &plain).ok());
  REQUIRE(!plain.segments.empty());
  s = ReqEncApply(t / "r", t / "in", keys);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "plaintext segment '" + (t / "in" / plain.segments.front().name()) +
                           "': encryption is required here");
  CHECK(StateOf(t / "r").applied_commit == 20);
  CHECK_FALSE(ReqEncHalted(t / "r"));
  // The plaintext replaced by the encrypted copy: the replica goes on.
  for (const repl::ShippedSegment& seg : plain.segments) std::filesystem::remove(t / "in" / seg.name());
  std::filesystem::remove_all(t / "p/replication/shipped");
  REQUIRE(ReqEncShip(t / "p", t / "in", &key).ok());
  REQUIRE(ReqEncApply(t / "r", t / "in", keys).ok());
  CHECK(StateOf(t / "r").applied_commit == 28);
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("ENC-30 ship-wal re-ships over segments of a rotated-out key when given that key") {
  TempDir t;
  const crypto::EncryptionKey old_key = ReqEncKey(1), new_key = ReqEncKey(90);
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ReqEncShip(t / "p", t / "out", &old_key).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() > 2);
  const std::string before = ReadFile(t / "out" / segs.front());
  // The key rotated and the shipped position lost: the segments there are the old key's.
  std::filesystem::remove_all(t / "p/replication/shipped");
  Status s = ReqEncShip(t / "p", t / "out", &new_key);
  CHECK(s.code() == Code::kRefused);  // ENC-11: no key for it, never diverged
  CHECK(s.message().find("no key for encrypted file") == 0);
  CHECK(s.hint().find("--encryption-keys") != std::string::npos);
  crypto::KeyStore old_keys;
  old_keys.Add(old_key.key);
  repl::ShipReport rep;
  REQUIRE(ReqEncShip(t / "p", t / "out", &new_key, &old_keys, &rep).ok());
  REQUIRE(rep.segments.size() == segs.size());
  for (const repl::ShippedSegment& seg : rep.segments) CHECK(seg.already_there);  // LOG-4 on the plaintext
  CHECK(ReadFile(t / "out" / segs.front()) == before);  // nothing rewritten
  // New commits go out with the new key; a replica with both keys reads all.
  Write(t / "p", 5, 3);
  REQUIRE(ReqEncShip(t / "p", t / "out", &new_key, &old_keys).ok());
  crypto::KeyStore both = old_keys;
  both.Add(new_key.key);
  REQUIRE(ReqEncApply(t / "r", t / "out", both).ok());
  CHECK(StateOf(t / "r").applied_commit == 25);
}

TEST_CASE("ENC-8 an identical re-ship of an encrypted segment is recognised by its plaintext") {
  // Each encryption gives other bytes, so only the plaintext (read with
  // ship-wal's own key, no --encryption-keys) can say the file is the same;
  // a different history under the name is still diverged (4).
  TempDir t;
  const crypto::EncryptionKey key = ReqEncKey(5);
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ReqEncShip(t / "p", t / "out", &key).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() > 2);
  const std::string before = ReadFile(t / "out" / segs.front());
  std::filesystem::remove_all(t / "p/replication/shipped");
  repl::ShipReport rep;
  REQUIRE(ReqEncShip(t / "p", t / "out", &key, nullptr, &rep).ok());
  REQUIRE(rep.segments.size() == segs.size());
  for (const repl::ShippedSegment& seg : rep.segments) CHECK(seg.already_there);
  CHECK(ReadFile(t / "out" / segs.front()) == before);  // nothing rewritten
  // A copy of p (same system id) that wrote its own commits, shipped first
  // under a fresh name: p's re-ship of that name is diverged, not identical.
  std::filesystem::copy(t / "p", t / "q", std::filesystem::copy_options::recursive);
  Write(t / "q", 1, 77);
  Write(t / "p", 1, 78);
  REQUIRE(PosixFs().MakeDir(t / "out2").ok());
  REQUIRE(ReqEncShip(t / "q", t / "out2", &key).ok());
  std::filesystem::remove_all(t / "p/replication/shipped");
  CHECK(ReqEncShip(t / "p", t / "out2", &key).code() == Code::kDiverged);
}

TEST_CASE("ENC-31 ENC-1 a copy of an encrypted segment just begun is in transit (8), never plaintext or corrupt") {
  TempDir t;
  const crypto::EncryptionKey key = ReqEncKey(44);
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ReqEncShip(t / "p", t / "out", &key).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() >= 2);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  std::filesystem::copy_file(t / "out" / segs[0], t / "in" / segs[0]);
  REQUIRE(ReqEncApply(t / "r", t / "in", keys).ok());
  const std::string whole = ReadFile(t / "out" / segs[1]);
  for (size_t n : {0, 3, 5, 6, 7}) {  // before: 5 (plaintext) for 0..7, 1 and a halt (bad magic) for 5..7
    CAPTURE(n);
    WriteFile(t / "in" / segs[1], whole.substr(0, n));
    Status s = ReqEncApply(t / "r", t / "in", keys);
    CHECK(s.code() == Code::kInTransit);
    CHECK_FALSE(ReqEncHalted(t / "r"));
    crypto::DecryptingFs fs(PosixFs(), &keys);
    auto v = repl::Verify(fs, t / "in", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kInTransit);
  }
  WriteFile(t / "in" / segs[1], whole);
  CHECK(ReqEncApply(t / "r", t / "in", keys).ok());
}

TEST_CASE("ENC-9 ENC-11 verify with a key directory that lacks the file's key says 5, as apply-wal") {
  TempDir t;
  const crypto::EncryptionKey a = ReqEncKey(50), b = ReqEncKey(60);
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(ReqEncShip(t / "p", t / "out", &a).ok());
  REQUIRE(PosixFs().MakeDir(t / "kb").ok());
  WriteFile(t / "kb/b.key", std::string(reinterpret_cast<const char*>(b.key.bytes.data()), b.key.bytes.size()));
  REQUIRE(::chmod((t / "kb/b.key").c_str(), 0600) == 0);
  Result<crypto::KeyStore> only_b = crypto::KeyStore::LoadDir(t / "kb");
  REQUIRE(only_b.ok());
  crypto::DecryptingFs fs(PosixFs(), &*only_b);
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "out";
  const Status applied = repl::ApplyWal(fs, o, nullptr);
  CHECK(applied.code() == Code::kRefused);
  auto v = repl::Verify(fs, t / "out", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == applied.code());  // before: 0, "not checked"
  auto one = repl::Verify(fs, t / "out" / Segments(t / "out")[0], {});  // one file: the same
  REQUIRE(one.ok());
  CHECK(one->outcome() == Code::kRefused);
  // No key directory at all: the framing only, a notice (ENC-9).
  crypto::KeyStore none;
  crypto::DecryptingFs bare(PosixFs(), &none);
  auto framing = repl::Verify(bare, t / "out", {});
  REQUIRE(framing.ok());
  CHECK(framing->outcome() == Code::kOk);
}

TEST_CASE("FM-20 an encrypted segment cut and grown back while it is read is in transit (8), at every read") {
  TempDir t;
  const crypto::EncryptionKey key = ReqEncKey(70);
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(ReqEncShip(t / "p", t / "in", &key).ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(t / "in")) {
    if (e.path().extension() == ".seg") names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 3);
  const std::string victim = t / "in" / names[1];
  const int swept = SweepReadCuts(
      victim, t / "in", t / "r",
      [&](Fs& base, const auto& use) {
        crypto::DecryptingFs fs(base, &keys);
        return use(fs);
      },
      [&] { return ReqEncApply(t / "r", t / "in", keys); });
  CHECK(swept >= 3);
  MESSAGE("reads of the encrypted segment cut, one run each: " << swept);
}

TEST_CASE("FM-20 a file opened with fewer bytes than a magic is judged as it was then, never as a plain file with a bad magic") {
  TempDir t;
  const crypto::EncryptionKey key = ReqEncKey(90);
  crypto::KeyStore keys;
  keys.Add(key.key);
  MakePrimary(t / "p", 6);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(ReqEncShip(t / "p", t / "in", &key).ok());
  std::string name;
  for (const auto& e : std::filesystem::directory_iterator(t / "in")) {
    if (e.path().extension() == ".seg") name = e.path().filename();
  }
  REQUIRE(!name.empty());
  const std::string path = t / "in" / name;
  const std::string full = ReadFile(path);
  for (size_t have : {size_t{0}, size_t{3}, size_t{4}}) {
    CAPTURE(have);
    WriteFile(path, full.substr(0, have));  // cp over it: truncated, then written
    crypto::DecryptingFs fs(PosixFs(), &keys);
    auto view = fs.OpenRead(path);
    REQUIRE(view.ok());
    WriteFile(path, full);  // ... and grown to its end before the header is read
    const segment::SegmentCheck c = segment::CheckSegmentHeader(**view, nullptr);
    CHECK(c.state == segment::SegmentState::kInTransit);
  }
}

