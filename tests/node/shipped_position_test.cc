// formats/node-layout.md `replication/shipped/<target-key>.json` (LOG-2,
// LOG-24) read by ParseShippedPosition (formats/archive-directory.md ARC-4)
// under the JSON conventions. ship-wal's use of it is in tests/repl.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/shipped_position.h"

using namespace aero;
using namespace aero::node;

TEST_CASE("ARC-4 LOG-24 the JSON conventions: an unknown key, in last_set too, or upper-case hex in a shipped position is damage (1)") {
  // Found by tests/fuzz/node_json_fuzz.cc (finding_shipped_unknown_key): an
  // unknown key was ignored, so a misspelt "last_set" read as a position
  // without LOG-24's check, and upper-case hex was read as lower case.
  const std::string good =
      "{\"base\":0,\"commit\":6,"
      "\"digest\":\"98e0800ef4f3256db31feba4c2535f5fa3b1d07f15bc5e57207838339c54d5c0\","
      "\"epoch\":1,\"format\":1,\"last_set\":{\"offset\":100,"
      "\"sha256\":\"5f1b8e6c0d1d3f8bb1c7a0a9d0f4c9f6e2e1f7d2a4b8c1d0e9f8a7b6c5d4e3f2\"},"
      "\"target\":\"/srv/target\",\"wal_offset\":200}";
  REQUIRE(ParseShippedPosition(good, "p.json").ok());
  struct Edit {
    std::string from, to, why;
  };
  for (const Edit& e : std::vector<Edit>{
           {"\"last_set\"", "\"lasts_et\"", "unknown key 'lasts_et'"},
           {"\"offset\"", "\"retry\":1,\"offset\"", "unknown key 'last_set.retry'"},
           {"98e0800ef4", "98E0800EF4", "'digest' is not a SHA-256 in lower-case hex"},
           {"5f1b8e6c0d", "5F1B8E6C0D", "'last_set.sha256' is not a SHA-256 in lower-case hex"}}) {
    CAPTURE(e.to);
    std::string text = good;
    text.replace(text.find(e.from), e.from.size(), e.to);
    auto r = ParseShippedPosition(text, "p.json");
    CHECK(r.status().code() == Code::kDamage);
    CHECK(r.status().message() == "invalid shipped position 'p.json': " + e.why);
  }
}
