// Ed25519 key files for signature tests, made by the openssl command line
// (formats/signature.md SIG-3: keys are what `openssl genpkey` writes).
#pragma once

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "support/test_util.h"

namespace aero::testing {

inline bool HaveOpenssl() { return std::system("openssl version >/dev/null 2>&1") == 0; }

inline int Sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

// DIR/NAME.key (private, mode 600) and DIR/NAME.pem (public).
struct KeyFiles {
  std::string priv, pub;
};
inline KeyFiles MakeKey(const std::string& dir, const std::string& name) {
  KeyFiles k{dir + "/" + name + ".key", dir + "/" + name + ".pem"};
  REQUIRE(Sh("openssl genpkey -algorithm ed25519 -out '" + k.priv + "' 2>/dev/null") == 0);
  REQUIRE(::chmod(k.priv.c_str(), 0600) == 0);
  REQUIRE(Sh("openssl pkey -in '" + k.priv + "' -pubout -out '" + k.pub + "' 2>/dev/null") == 0);
  return k;
}

// The setup the signature tests share: a temp directory, the key `a`
// (trusted by `trust`, a trust directory holding a.pem) and the key `evil`
// (trusted by no one). Use: `SignSetup k; if (!k.Ready()) return;`.
struct SignSetup {
  TempDir t;
  KeyFiles a, evil;
  std::string trust;
  // false, with a SKIP message, when there is no openssl command.
  bool Ready() {
    if (!HaveOpenssl()) {
      MESSAGE("SKIP: no openssl command");
      return false;
    }
    a = MakeKey(t.path(), "a");
    evil = MakeKey(t.path(), "evil");
    trust = t / "trust";
    REQUIRE(::mkdir(trust.c_str(), 0700) == 0);
    WriteFile(trust + "/a.pem", ReadFile(a.pub));
    return true;
  }
};

}  // namespace aero::testing
