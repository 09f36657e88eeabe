// The trust set: the public keys a reader accepts and the epoch each is
// retired from (specs/REPLICATION_SIGNING.md SIG-4, SIG-11).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "sign/ed25519.h"

namespace aero::sign {

struct TrustedKey {
  PublicKey key;
  std::string path;                     // the .pem it was read from
  std::optional<uint32_t> retired_from;  // SIG-11: refused for epochs >= this
};

class TrustSet {
 public:
  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }
  const TrustedKey* Find(const std::string& key_id) const;
  // The union: a key in both keeps the earlier retirement.
  void Add(TrustedKey k);
  void Merge(const TrustSet& other);
  // The key ids, sorted.
  std::vector<std::string> KeyIds() const;

 private:
  std::map<std::string, TrustedKey> keys_;
};

// SIG-4: the keys of one directory (`*.pem`, `KEYID.retired`). A missing
// directory is kNotFound; every malformed file is kUsage naming it.
Result<TrustSet> LoadTrustDir(Fs& fs, const std::string& dir);

// SIG-4: the union of `flag_dir` (--trusted-keys; empty: none; missing or
// without a key: kUsage) and the node's own directory under `data_dir`
// (empty: no node; missing: no keys).
Result<TrustSet> LoadTrustSet(Fs& fs, const std::string& flag_dir, const std::string& data_dir);

// SIG-22, SIG-23: every key of `keys` that the node directory `data_dir`
// lacks in replication/trusted-keys/ is written there as KEYID.pem (its PEM
// bytes as read), and a retirement it lacks (or has later) as
// KEYID.retired, each through NODE-1; keys already there are kept.
Status KeepTrustSet(Fs& fs, const std::string& data_dir, const TrustSet& keys);

}  // namespace aero::sign
