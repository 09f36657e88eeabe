#include "crypto/decrypting_fs.h"

#include "crypto/encrypted_file.h"

namespace aero::crypto {

Result<std::unique_ptr<ReadableFile>> DecryptingFs::OpenRead(const std::string& path) {
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> raw, base_.OpenRead(path));
  return View(std::move(raw));
}

// ENC-32: one rule for a file of a directory and an object of a store.
Result<std::unique_ptr<ReadableFile>> DecryptingFs::View(std::unique_ptr<ReadableFile> raw) {
  Result<bool> envelope = IsEnvelope(*raw);
  if (!envelope.ok()) return envelope.status();
  if (!*envelope) {  // a plain file: its own format's rules, from its start
    AERO_RETURN_IF_ERROR(raw->Seek(0));
    return raw;
  }
  return OpenDecrypting(std::move(raw), keys_);
}

}  // namespace aero::crypto
