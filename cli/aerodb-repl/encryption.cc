#include "cli/aerodb-repl/encryption.h"

namespace aero::cli {

void AddEncryptionKey(CLI::App* sub, EncryptionOptions* e) {
  CLI::Option* key = sub->add_option("--encryption-key", e->key_file,
                                     "encrypt what is written with this 32-byte key file (mode 600)");
  // ENC-1: a cipher alone would write plaintext for an operator who asked
  // for encryption: 2, not a silent plaintext run.
  sub->add_option("--encryption-cipher", e->cipher,
                  "with --encryption-key: aes-256-gcm (default) or chacha20-poly1305")
      ->check(CLI::IsMember({"aes-256-gcm", "chacha20-poly1305"}))
      ->needs(key);
}

void AddEncryptionKeys(CLI::App* sub, EncryptionOptions* e) {
  sub->add_option("--encryption-keys", e->keys_dir,
                  "read encrypted files with the *.key files of this directory (by key id)");
}

Status LoadEncryptionKey(EncryptionOptions* e, const crypto::EncryptionKey** out) {
  *out = nullptr;
  if (e->key_file.empty()) return Status::Ok();
  AERO_ASSIGN_OR_RETURN(e->key.key, crypto::LoadKeyFile(e->key_file));
  e->key.algorithm = crypto::AlgorithmFromName(e->cipher).value_or(crypto::Algorithm::kAes256Gcm);
  *out = &e->key;
  return Status::Ok();
}

Status LoadEncryptionKeys(EncryptionOptions* e) {
  if (e->keys_dir.empty()) return Status::Ok();
  AERO_ASSIGN_OR_RETURN(e->keys, crypto::KeyStore::LoadDir(e->keys_dir));
  return Status::Ok();
}

std::unique_ptr<crypto::DecryptingFs> ReadingFs(const EncryptionOptions& e) {
  return std::make_unique<crypto::DecryptingFs>(PosixFs(), &e.keys);
}

}  // namespace aero::cli
