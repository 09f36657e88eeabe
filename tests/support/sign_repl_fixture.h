// ship-wal and apply-wal with signatures, for the replication tests of
// specs/REPLICATION_SIGNING.md (with SignSetup of support/sign_fixture.h).
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/repl_fixture.h"
#include "support/sign_fixture.h"

namespace aero::testing {

// ship-wal --signing-key `key` of `primary` into `target` (a directory or
// an s3:// archive), small segments.
inline Status ShipSigned(const std::string& primary, const std::string& target, const std::string& key,
                         bool claim_archive = false) {
  repl::ShipOptions o;
  o.data_dir = primary;
  o.target = target;
  o.max_segment_bytes = 3000;
  o.signing_key = key;
  o.claim_archive = claim_archive;
  return repl::ShipWal(PosixFs(), o, nullptr);
}

// apply-wal --trusted-keys `keys` of `inbox` (a directory or an s3:// archive).
inline Status ApplyTrusting(const std::string& replica, const std::string& inbox, const std::string& keys) {
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  o.trusted_keys = keys;
  return repl::ApplyWal(PosixFs(), o, nullptr);
}

inline bool Halted(const std::string& dir) { return FileExists(dir + "/replication/halt.json"); }

inline std::vector<std::string> SortedNames(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// What is in `from` and not in `to`, copied (a transport's next delivery);
// without `sidecars`, the NAME.sig files stay behind.
inline std::vector<std::string> Deliver(const std::string& from, const std::string& to, bool sidecars = true) {
  std::vector<std::string> copied;
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    const std::string n = e.path().filename().string();
    if (n[0] == '.' || std::filesystem::exists(to + "/" + n)) continue;
    if (!sidecars && n.size() > 4 && n.substr(n.size() - 4) == ".sig") continue;
    std::filesystem::copy(e.path(), to + "/" + n);
    copied.push_back(n);
  }
  return copied;
}

}  // namespace aero::testing
