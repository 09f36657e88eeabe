// Where ../shared/fixtures/aerodb-upstream is (configured at build time).
// Tests that need it live in a binary whose main exits 77 (ctest: skipped)
// when it is absent, so a user's own clone still runs everything else.
#pragma once

#include <string>

namespace aero::testing {

inline std::string UpstreamFixtures() { return AERODB_SHARED_DIR "/fixtures/aerodb-upstream"; }

}  // namespace aero::testing
