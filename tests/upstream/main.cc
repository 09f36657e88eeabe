// Tests against bytes written by AeroDB's own code (../shared/fixtures).
// Without ../shared (a user's own clone) every test here reports itself
// skipped, by name: ctest maps exit 77 to "Skipped".
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/shared_fixtures.h"

int main(int argc, char** argv) {
  // Listing (ctest discovery at build time) needs no fixtures.
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    listing |= a.rfind("--list", 0) == 0 || a.rfind("-ltc", 0) == 0 || a.rfind("-lts", 0) == 0;
  }
  const std::string dir = aero::testing::UpstreamFixtures();
  if (!listing && !std::filesystem::exists(dir + "/README.md")) {
    std::printf("SKIPPED: upstream fixture tests need %s (absent in this clone)\n", dir.c_str());
    return 77;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
