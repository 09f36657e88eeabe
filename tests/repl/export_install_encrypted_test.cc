// snapshot export and install with encryption (formats/encrypted-file.md
// ENC-20, ENC-12; FM-122): the archive is written once (each node file read
// as often as without encryption), and a crash, power loss, ENOSPC or EIO at
// every step ends in 10 with a hint or a whole result, never a partial file
// under a final name, and a re-run converges.
#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>

#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "repl/export.h"
#include "repl/install.h"
#include "support/faulty_fs.h"
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

crypto::MasterKey ExportEncKey() {
  crypto::MasterKey k;
  for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(90 + i);
  k.id = crypto::KeyIdOf(k.bytes);
  k.path = "export-key";
  return k;
}

// Counts the bytes read from each path.
class ExportReadCountingFs final : public ForwardingFs {
 public:
  class File final : public ForwardingFile {
   public:
    File(std::unique_ptr<ReadableFile> f, ExportReadCountingFs* owner)
        : ForwardingFile(std::move(f)), owner_(owner) {}
    Result<size_t> Read(char* buf, size_t n) override {
      Result<size_t> got = ForwardingFile::Read(buf, n);
      if (got.ok()) owner_->Add(path(), *got);
      return got;
    }
    Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
      Result<size_t> got = ForwardingFile::ReadAt(off, buf, n);
      if (got.ok()) owner_->Add(path(), *got);
      return got;
    }

   private:
    ExportReadCountingFs* owner_;
  };
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenRead(p));
    return std::unique_ptr<ReadableFile>(new File(std::move(f), this));
  }
  void Add(const std::string& p, uint64_t n) {
    std::lock_guard<std::mutex> l(mu_);
    read_[p] += n;
  }
  std::map<std::string, uint64_t> read() {
    std::lock_guard<std::mutex> l(mu_);
    return read_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, uint64_t> read_;
};

repl::ExportOptions EncExport(const std::string& node, const std::string& out,
                              const crypto::EncryptionKey* key) {
  repl::ExportOptions o;
  o.data_dir = node;
  o.output = out;
  o.encryption = key;
  return o;
}

// The names beside `path` that are not hidden.
std::vector<std::string> ExportVisible(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fsys::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n[0] != '.') out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status InstallEncrypted(Fs& base, const std::string& dir, const std::string& archive,
                        const crypto::KeyStore& keys) {
  crypto::DecryptingFs fs(base, &keys);
  repl::InstallOptions o;
  o.data_dir = dir;
  o.archive = archive;
  return repl::InstallSnapshot(fs, o, nullptr);
}

}  // namespace

TEST_CASE("ENC-20 export with encryption writes the archive once: each node file is read as often as without encryption") {
  TempDir t;
  MakePrimary(t / "p", 40);
  const crypto::EncryptionKey key{ExportEncKey(), crypto::Algorithm::kAes256Gcm};
  crypto::KeyStore ks;
  ks.Add(key.key);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  ExportReadCountingFs plain_fs, enc_fs;
  REQUIRE(repl::ExportSnapshot(plain_fs, EncExport(t / "p", t / "out/plain.tar.zst", nullptr), nullptr).ok());
  repl::ExportReport rep;
  REQUIRE(repl::ExportSnapshot(enc_fs, EncExport(t / "p", t / "out/enc.tar.zst", &key), &rep).ok());
  const auto plain_reads = plain_fs.read();
  const auto enc_reads = enc_fs.read();
  int node_files = 0;
  for (const auto& [path, n] : plain_reads) {
    if (path.rfind(t / "p/", 0) != 0) continue;
    CAPTURE(path);
    ++node_files;
    REQUIRE(enc_reads.count(path) == 1);
    CHECK(enc_reads.at(path) == n);
  }
  CHECK(node_files >= 2);  // wal/wal.log, data/documents.dat
  // The WAL: pass 1 (its checks) and the archive, once each (and the tail
  // the open validates): under three times its size, which writing the
  // archive twice read.
  const uint64_t wal = fsys::file_size(t / "p/wal/wal.log");
  CHECK(enc_reads.at(t / "p/wal/wal.log") >= 2 * wal);
  CHECK(enc_reads.at(t / "p/wal/wal.log") < 3 * wal);
  // The staged plaintext was read back once, and is gone.
  const std::string staged = t / "p/replication/.export.plain.tmp";
  REQUIRE(enc_reads.count(staged) == 1);
  CHECK_FALSE(FileExists(staged));
  CHECK(ExportVisible(t / "out") == std::vector<std::string>{"enc.tar.zst", "plain.tar.zst"});
  // The envelope's plaintext is the archive an unencrypted export writes (SNAP-4).
  auto raw = PosixFs().OpenRead(t / "out/enc.tar.zst");
  REQUIRE(raw.ok());
  const crypto::Envelope env = crypto::CheckEnvelope(**raw, &ks);
  CHECK(env.state == Verdict::kValid);
  CHECK(env.header.plaintext_size == fsys::file_size(t / "out/plain.tar.zst"));
  {  // byte for byte (ENC-8: the envelope carries no digest to compare)
    crypto::DecryptingFs dfs(PosixFs(), &ks);
    auto view = dfs.OpenRead(t / "out/enc.tar.zst");
    REQUIRE(view.ok());
    std::string plain(static_cast<size_t>(env.header.plaintext_size), '\0');
    REQUIRE(ReadExactlyAt(**view, 0, plain.data(), plain.size()).ok());
    CHECK(plain == ReadFile(t / "out/plain.tar.zst"));
  }
  CHECK(rep.archive_bytes == fsys::file_size(t / "out/enc.tar.zst"));
  REQUIRE(InstallEncrypted(PosixFs(), t / "r", t / "out/enc.tar.zst", ks).ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("ENC-20 FM-122 export with encryption: a crash, ENOSPC or EIO at every step leaves no partial archive, a re-run converges") {
  TempDir t;
  MakePrimary(t / "p", 30);
  const crypto::EncryptionKey key{ExportEncKey(), crypto::Algorithm::kAes256Gcm};
  crypto::KeyStore ks;
  ks.Add(key.key);
  uint64_t total = 0;
  {
    FaultyFs fs;
    REQUIRE(repl::ExportSnapshot(fs, EncExport(t / "p", t / "count.tar.zst", &key), nullptr).ok());
    total = fs.steps();
  }
  REQUIRE(total > 5);
  auto whole_or_absent = [&](const std::string& out, bool acked) {
    if (!FileExists(out)) {
      CHECK_FALSE(acked);
      return;
    }
    auto raw = PosixFs().OpenRead(out);
    REQUIRE(raw.ok());
    CHECK(crypto::CheckEnvelope(**raw, &ks).state == Verdict::kValid);
  };
  int faults = 0, crashes = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    for (int err : {ENOSPC, EIO}) {
      CAPTURE(err);
      const std::string out = t / ("f" + std::to_string(err) + "-" + std::to_string(k) + ".tar.zst");
      FaultyFs fs;
      fs.FailOnceAt(k, err);
      Status s = repl::ExportSnapshot(fs, EncExport(t / "p", out, &key), nullptr);
      CAPTURE(s.ToString());
      if (!s.ok()) {
        CHECK(s.code() == Code::kIo);
        CHECK_FALSE(s.hint().empty());
      }
      whole_or_absent(out, s.ok());
      if (!FileExists(out)) REQUIRE(repl::ExportSnapshot(PosixFs(), EncExport(t / "p", out, &key), nullptr).ok());
      whole_or_absent(out, true);
      ++faults;
    }
    const std::string out = t / ("c" + std::to_string(k) + ".tar.zst");
    FaultyFs fs;
    fs.CrashAt(k);
    const bool acked = repl::ExportSnapshot(fs, EncExport(t / "p", out, &key), nullptr).ok();
    fs.PowerLoss();
    whole_or_absent(out, acked);
    if (!FileExists(out)) REQUIRE(repl::ExportSnapshot(PosixFs(), EncExport(t / "p", out, &key), nullptr).ok());
    whole_or_absent(out, true);
    ++crashes;
  }
  // Every name visible in the directory is a whole archive; the last one installs.
  for (const std::string& n : ExportVisible(t.path())) {
    if (n.size() > 8 && n.substr(n.size() - 8) == ".tar.zst") whole_or_absent(t / n, true);
  }
  REQUIRE(InstallEncrypted(PosixFs(), t / "r", t / ("c" + std::to_string(total) + ".tar.zst"), ks).ok());
  CheckSameHistory(t / "p", t / "r");
  CHECK_FALSE(FileExists(t / "p/replication/.export.plain.tmp"));
  MESSAGE("ENC-20 export: " << total << " steps, " << faults << " ENOSPC/EIO runs, " << crashes << " crash runs");
}

TEST_CASE("FM-122 install of an encrypted archive: a crash, ENOSPC or EIO at every step leaves nothing or a whole replica, a re-run converges") {
  TempDir t;
  MakePrimary(t / "p", 30);
  const crypto::EncryptionKey key{ExportEncKey(), crypto::Algorithm::kChaCha20Poly1305};
  crypto::KeyStore ks;
  ks.Add(key.key);
  const std::string archive = t / "s.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), EncExport(t / "p", archive, &key), nullptr).ok());
  uint64_t total = 0;
  {
    FaultyFs fs;
    REQUIRE(InstallEncrypted(fs, t / "count", archive, ks).ok());
    total = fs.steps();
  }
  REQUIRE(total > 5);
  const node::NodeState want = StateOf(t / "p");
  auto whole_or_absent = [&](const std::string& dir, bool acked) {
    if (!FileExists(dir)) {
      CHECK_FALSE(acked);
      REQUIRE(InstallEncrypted(PosixFs(), dir, archive, ks).ok());  // a re-run converges
    }
    CHECK(StateOf(dir).applied_commit == want.applied_commit);
    CheckSameHistory(t / "p", dir);
  };
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    for (int err : {ENOSPC, EIO}) {
      CAPTURE(err);
      const std::string dir = t / ("f" + std::to_string(err) + "-" + std::to_string(k));
      FaultyFs fs;
      fs.FailOnceAt(k, err);
      Status s = InstallEncrypted(fs, dir, archive, ks);
      CAPTURE(s.ToString());
      if (!s.ok()) {
        CHECK(s.code() == Code::kIo);
        CHECK_FALSE(s.hint().empty());
      }
      whole_or_absent(dir, s.ok());
    }
    const std::string dir = t / ("c" + std::to_string(k));
    FaultyFs fs;
    fs.CrashAt(k);
    const bool acked = InstallEncrypted(fs, dir, archive, ks).ok();
    fs.PowerLoss();
    whole_or_absent(dir, acked);
  }
  MESSAGE("FM-122 install with encryption: " << total << " steps, each with ENOSPC, EIO and a crash");
}
