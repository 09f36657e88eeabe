#include "crypto/decrypting_fs.h"

#include <algorithm>

#include "crypto/encrypted_file.h"
#include "crypto/encrypted_format.h"

namespace aero::crypto {

Result<std::unique_ptr<ReadableFile>> DecryptingFs::OpenRead(const std::string& path) {
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> raw, base_.OpenRead(path));
  return View(std::move(raw));
}

namespace {

// A file of fewer bytes than the envelope's own magic prefix, as it was
// when it was opened: every reader judges those bytes, never more that a
// copy in progress adds after the look that called it plain (an encrypted
// file's magic read as a plain segment's would be "bad magic", a halt).
class PinnedFile final : public ReadableFile {
 public:
  PinnedFile(std::unique_ptr<ReadableFile> raw, uint64_t size) : raw_(std::move(raw)), size_(size) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= size_) return size_t{0};
    AERO_ASSIGN_OR_RETURN(size_t got, raw_->Read(buf, static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_))));
    pos_ += got;
    return got;
  }
  Status Seek(uint64_t offset) override {
    AERO_RETURN_IF_ERROR(raw_->Seek(offset));
    pos_ = offset;
    return Status::Ok();
  }
  Result<uint64_t> Size() override { return size_; }
  Result<FileInfo> Info() override {
    AERO_ASSIGN_OR_RETURN(FileInfo info, raw_->Info());
    info.size = size_;
    return info;
  }
  Status Sync() override { return raw_->Sync(); }
  const std::string& path() const override { return raw_->path(); }

 private:
  std::unique_ptr<ReadableFile> raw_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

}  // namespace

// ENC-32: one rule for a file of a directory and an object of a store.
Result<std::unique_ptr<ReadableFile>> DecryptingFs::View(std::unique_ptr<ReadableFile> raw) {
  AERO_ASSIGN_OR_RETURN(uint64_t size, raw->Size());
  if (size < kEncMagicOwnPrefix) {  // FM-20: judged as it was at this look
    AERO_RETURN_IF_ERROR(raw->Seek(0));
    return std::unique_ptr<ReadableFile>(new PinnedFile(std::move(raw), size));
  }
  Result<bool> envelope = IsEnvelope(*raw);
  if (!envelope.ok()) return envelope.status();
  if (!*envelope) {  // a plain file: its own format's rules, from its start
    AERO_RETURN_IF_ERROR(raw->Seek(0));
    return raw;
  }
  return OpenDecrypting(std::move(raw), keys_);
}

}  // namespace aero::crypto
