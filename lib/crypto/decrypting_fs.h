// An Fs through which readers see plaintext (formats/encrypted-file.md
// "Where the envelope is used"): OpenRead of an envelope returns its
// plaintext view (crypto::OpenDecrypting), of any other file the file
// itself; every other operation is the wrapped Fs's. Segment and archive
// readers then judge the plaintext with their own rules, so verify,
// apply-wal and snapshot install give one verdict (common/verdict.h).
#pragma once

#include "common/fs.h"
#include "crypto/key_store.h"

namespace aero::crypto {

class DecryptingFs final : public Fs {
 public:
  // `keys` may be null or empty: envelopes are then refused on read (ENC-11).
  DecryptingFs(Fs& base, const KeyStore* keys) : base_(base), keys_(keys) {}

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override;
  // ENC-32: an envelope's plaintext view, any other file itself (at 0).
  Result<std::unique_ptr<ReadableFile>> View(std::unique_ptr<ReadableFile> raw) override;
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                  OpenMode mode) override {
    return base_.OpenWrite(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    return base_.RenameNoReplace(from, to);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    return base_.Exchange(a, b);
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(dir); }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_.Truncate(path, size);
  }
  Status MakeDir(const std::string& path) override { return base_.MakeDir(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Result<FileInfo> LStat(const std::string& path) override { return base_.LStat(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }
  Status ListDirEach(const std::string& dir, const std::function<bool(DirEntry&)>& each) override {
    return base_.ListDirEach(dir, each);  // LOG-33
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    return base_.Lock(path);
  }
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& path) override {
    return base_.LockDirectory(path);
  }

  Fs& base() { return base_; }
  const KeyStore* keys() const { return keys_; }

 private:
  Fs& base_;
  const KeyStore* keys_;
};

}  // namespace aero::crypto
