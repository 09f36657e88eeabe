#include "crypto/decrypting_fs.h"

#include "crypto/encrypted_file.h"

namespace aero::crypto {

Result<std::unique_ptr<ReadableFile>> DecryptingFs::OpenRead(const std::string& path) {
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> raw, base_.OpenRead(path));
  Result<bool> envelope = IsEnvelope(*raw);
  if (!envelope.ok()) return envelope.status();
  if (!*envelope) return raw;  // a plain file: its own format's rules
  return OpenDecrypting(std::move(raw), keys_);
}

}  // namespace aero::crypto
