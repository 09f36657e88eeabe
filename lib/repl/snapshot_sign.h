// Snapshot archives: where one lives (a directory or an object store,
// OBJ-20) and its signature (specs/REPLICATION_SIGNING.md SIG-20..SIG-22):
// what export signs, and the one judge install and verify ask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "archive/archive.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "common/status.h"
#include "sign/judge.h"
#include "sign/trust.h"
#include "snapshot/manifest.h"

namespace aero::repl {

// OBJ-20: an archive file `path` (a file path, or s3://BUCKET/PREFIX/NAME)
// as the archive that holds it and its name there.
struct ArchiveObject {
  std::unique_ptr<archive::Archive> archive;
  std::string name;
};
Result<ArchiveObject> OpenArchiveObject(Fs& fs, const std::string& path);

// SIG-1, SIG-20: what a signature says about a snapshot archive: the
// plaintext archive's name, size and SHA-256, the manifest's boundary
// digest and epoch.
sign::Statement SnapshotFacts(const std::string& name, uint64_t size, const Sha256Digest& sha,
                              const snapshot::Manifest& m);

// SIG-20: hashes and counts what is appended, then passes it on to `inner`
// (not owned).
class HashingWritable final : public WritableFile {
 public:
  explicit HashingWritable(WritableFile& inner) : inner_(inner) {}
  Status Append(std::string_view data) override {
    sha_.Update(data);
    bytes_ += data.size();
    return inner_.Append(data);
  }
  Status Sync() override { return inner_.Sync(); }
  Status Close() override { return inner_.Close(); }
  const std::string& path() const override { return inner_.path(); }
  uint64_t bytes() const { return bytes_; }
  Sha256Digest Finish() { return sha_.Finish(); }

 private:
  WritableFile& inner_;
  Sha256 sha_;
  uint64_t bytes_ = 0;
};

// SIG-21: hashes every byte read from `inner` (not owned), in order: it
// offers no ReadAt, so a reader takes every byte through Read.
class HashingReadable final : public ReadableFile {
 public:
  explicit HashingReadable(ReadableFile& inner) : inner_(inner) {}
  Result<size_t> Read(char* buf, size_t n) override;
  Status Seek(uint64_t offset) override;
  Result<uint64_t> Size() override { return inner_.Size(); }
  Result<FileInfo> Info() override { return inner_.Info(); }
  const std::string& path() const override { return inner_.path(); }
  // Reads the rest (the bytes a reader left after the archive's end).
  Status Drain();
  uint64_t bytes() const { return done_; }
  Sha256Digest Finish() { return sha_.Finish(); }

 private:
  ReadableFile& inner_;
  Sha256 sha_;
  uint64_t done_ = 0;
};

// SIG-21 step 1, before the archive is read: the sidecar of `name` in `a`
// (8 absent or arriving, 1 malformed or not verifying, 5 untrusted key).
sign::Judgement JudgeSnapshotSidecar(archive::Archive& a, const std::string& name,
                                     const sign::TrustSet& trust);
// SIG-21 step 2, once the whole archive was read through `read` (drained
// here) and its manifest is known: the statement against what was read.
sign::Judgement CompareSnapshot(sign::Judgement j, HashingReadable& read,
                                const snapshot::Manifest& m);

}  // namespace aero::repl
