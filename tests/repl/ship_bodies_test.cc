// LOG-30: a streamed body is taken only when it holds exactly its
// segment's range (lib/repl/ship_bodies.cc, StreamedBody::Take).
#include <doctest/doctest.h>

#include <filesystem>

#include "repl/ship_bodies.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("LOG-30 a body short of or past its segment's range, or starting elsewhere, is not taken: the segment is copied") {
  TempDir t;
  const std::string bytes(1000, 'x');
  struct Case {
    uint64_t body_start, fed, range_start, range_end;
    bool taken;
  };
  for (const Case& c : {Case{100, 1000, 100, 1100, true}, Case{100, 999, 100, 1100, false},
                        Case{100, 1000, 100, 1099, false}, Case{100, 1000, 101, 1101, false},
                        Case{100, 0, 100, 100, true}}) {
    CAPTURE(c.fed);
    CAPTURE(c.range_start);
    CAPTURE(c.range_end);
    const std::string tmp = t / ".body.tmp";
    std::shared_ptr<repl::StreamedBody> body = repl::StreamedBody::Open(PosixFs(), tmp, c.body_start);
    REQUIRE(body != nullptr);
    body->Feed(c.body_start, std::string_view(bytes).substr(0, c.fed), nullptr);
    Result<std::unique_ptr<segment::StreamedSegment>> taken = body->Take(c.range_start, c.range_end);
    REQUIRE(taken.ok());
    CHECK((*taken != nullptr) == c.taken);
    if (*taken) {
      CHECK((*taken)->body_bytes() == c.fed);
      (*taken)->Abandon();
    }
    CHECK_FALSE(std::filesystem::exists(tmp));  // not taken: removed at once
  }
}

TEST_CASE("LOG-30 a body fed out of place is not taken, even at the right size") {
  TempDir t;
  const std::string tmp = t / ".body.tmp";
  std::shared_ptr<repl::StreamedBody> body = repl::StreamedBody::Open(PosixFs(), tmp, 100);
  REQUIRE(body != nullptr);
  body->Feed(100, std::string(40, 'a'), nullptr);
  body->Feed(150, std::string(60, 'b'), nullptr);  // bytes 140..149 skipped, 200..209 extra
  Result<std::unique_ptr<segment::StreamedSegment>> taken = body->Take(100, 200);
  REQUIRE(taken.ok());
  CHECK(*taken == nullptr);
  CHECK_FALSE(std::filesystem::exists(tmp));
}
