// The encryption options shared by ship-wal, snapshot export (a key to
// write with) and apply-wal, snapshot install, verify (a directory of keys
// to read with): formats/encrypted-file.md ENC-10, ENC-11.
#pragma once

#include <memory>
#include <string>

#include "cli/common/cli_util.h"
#include "common/fs.h"
#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"

namespace aero::cli {

struct EncryptionOptions {
  std::string key_file;                  // --encryption-key FILE
  std::string cipher = "aes-256-gcm";    // --encryption-cipher NAME
  std::string keys_dir;                  // --encryption-keys DIR
  crypto::EncryptionKey key;             // loaded from key_file
  crypto::KeyStore keys;                 // loaded from keys_dir
};

// --encryption-key FILE and --encryption-cipher NAME.
void AddEncryptionKey(CLI::App* sub, EncryptionOptions* e);
// --encryption-keys DIR.
void AddEncryptionKeys(CLI::App* sub, EncryptionOptions* e);

// Loads the key file (ENC-10); `*out` is null when no key was given.
Status LoadEncryptionKey(EncryptionOptions* e, const crypto::EncryptionKey** out);
// Loads the key directory (ENC-10, ENC-11), if one was given.
Status LoadEncryptionKeys(EncryptionOptions* e);

// The Fs readers use: PosixFs() seen through the keys (plain files pass).
std::unique_ptr<crypto::DecryptingFs> ReadingFs(const EncryptionOptions& e);

}  // namespace aero::cli
