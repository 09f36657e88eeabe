// formats/snapshot-archive.md "Manifest (member 0, SNAP-3)": what
// DecodeManifest refuses before it parses (the archive tests cover the rest).
#include <doctest/doctest.h>

#include <string>

#include "snapshot/manifest.h"

using namespace aero;

TEST_CASE("SNAP-3 SNAP-9 member 0 nested 1,000,000 levels deep is refused (1), never a stack overflow") {
  // Found by tests/fuzz/manifest_fuzz.cc (finding_deep_nesting.json): the
  // parse does not recurse, but the copy and the dumps after it did, once
  // per level. 2 MB, within SNAP-9's 16 MiB bound for member 0.
  const size_t depth = 1000000;
  const std::string bytes = "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') +
                            ",\"manifest_sha256\":\"00\"}\n";
  Result<snapshot::Manifest> m = snapshot::DecodeManifest(bytes);
  CHECK(m.status().code() == Code::kDamage);
  CHECK(m.status().message() ==
        "invalid archive manifest 'aerodb-repl-manifest.json': nested deeper than 32 levels");
}
