// What apply-wal judged in one inbox (specs/REPLICATION_LOG_FLOW.md LOG-28,
// formats/node-layout.md `replication/inbox/<key>.json`): a cache that lets a
// run pass over the segments an earlier run judged, so that its cost grows
// with the new segments, not with the inbox's history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/sha256.h"
#include "common/status.h"

namespace aero::repl {

struct InboxMemo {
  uint64_t applied = 0;  // A_m: the replica's durable applied commit
  uint64_t names = 0;    // judged segments with a last commit <= A_m
  Sha256Digest names_sum{};  // sum mod 2^256 of SHA-256 of their identities
  bool operator==(const InboxMemo&) const = default;
};

// What names a judged file: its name, size, device, inode and modification
// time, so that a file replaced under a judged name is judged again.
std::string FileIdentity(const std::string& name, const FileInfo& info);
// SHA-256 of FileIdentity(name, info): what a memo sums.
Sha256Digest IdentityDigest(const std::string& name, const FileInfo& info);

// LOG-28, LOG-33: the count and sum of identity digests, folded in one at a
// time in any order, so that no run holds an inbox's worth of identities.
class MemoSum {
 public:
  void Add(const Sha256Digest& identity_digest);
  void Add(const MemoSum& other);
  InboxMemo For(uint64_t applied) const { return InboxMemo{applied, count_, sum_}; }

 private:
  void AddToSum(const Sha256Digest& d);
  uint64_t count_ = 0;
  Sha256Digest sum_{};  // big-endian, modulo 2^256
};

// replication/inbox/<first 16 hex of SHA-256(inbox_real)>.json
std::string InboxMemoPath(const std::string& data_dir, const std::string& inbox_real);

// nullopt for anything but a memo of `inbox_real` in the format above: a
// cache that cannot be read is a cache that is not there. Never throws.
std::optional<InboxMemo> LoadInboxMemo(Fs& fs, const std::string& path,
                                       const std::string& inbox_real);

// Written atomically (NODE-1).
Status SaveInboxMemo(Fs& fs, const std::string& data_dir, const std::string& path,
                     const std::string& inbox_real, const InboxMemo& memo);

}  // namespace aero::repl
