#include <doctest/doctest.h>

#include <set>

#include "common/escape.h"
#include "common/status.h"

using namespace aero;

TEST_CASE("codes table: exit numbers are the documented contract") {
  CHECK(ExitCodeOf(Code::kOk) == 0);
  CHECK(ExitCodeOf(Code::kDamage) == 1);
  CHECK(ExitCodeOf(Code::kUsage) == 2);
  CHECK(ExitCodeOf(Code::kGap) == 3);
  CHECK(ExitCodeOf(Code::kDiverged) == 4);
  CHECK(ExitCodeOf(Code::kRefused) == 5);
  CHECK(ExitCodeOf(Code::kHalted) == 6);
  CHECK(ExitCodeOf(Code::kLocked) == 7);
  CHECK(ExitCodeOf(Code::kInTransit) == 8);
  CHECK(ExitCodeOf(Code::kNotFound) == 9);
  CHECK(ExitCodeOf(Code::kIo) == 10);
  CHECK(ExitCodeOf(Code::kInternal) == 70);
}

TEST_CASE("codes table: names and numbers are unique") {
  std::set<int> numbers;
  std::set<std::string_view> names;
#define AERO_CODE(name, exit, json, meaning) \
  numbers.insert(exit);                      \
  names.insert(json);                        \
  CHECK(CodeName(Code::name) == json);
#include "common/codes.def"
#undef AERO_CODE
  CHECK(numbers.size() == 13);
  CHECK(names.size() == 13);
}

TEST_CASE("status: message in the house form with a hint line") {
  Status s(Code::kGap, Problem("gap before commit 1042", "inbox/", "next segment starts at 1050"),
           "the missing segment has not arrived");
  CHECK_FALSE(s.ok());
  CHECK(s.ToString() ==
        "gap before commit 1042 'inbox/': next segment starts at 1050\n"
        "hint: the missing segment has not arrived");
  CHECK(Status().ok());
  CHECK(Problem("not found", "x") == "not found 'x'");
  // One line: a control character in the subject (a path) is escaped.
  CHECK(Problem("cannot open", "a\nb\tc\x7f") == "cannot open 'a\\nb\\x09c\\x7f'");
  CHECK(Problem("cannot open", "dir/caf\xc3\xa9") == "cannot open 'dir/caf\xc3\xa9'");  // UTF-8 kept
  CHECK(Problem("cannot open", "\xf0\x9f\x98\x80\xe2\x82\xac") == "cannot open '\xf0\x9f\x98\x80\xe2\x82\xac'");
  // Bytes of no valid UTF-8 sequence, and C1 controls (a terminal may take
  // 0x9b, or U+009B, for the start of a control sequence), are escaped.
  CHECK(Problem("cannot open", "\xff\xfe.seg") == "cannot open '\\xff\\xfe.seg'");
  CHECK(Problem("cannot open", "a\x9b" "2J") == "cannot open 'a\\x9b2J'");
  CHECK(Problem("cannot open", "a\xc2\x9b" "2J") == "cannot open 'a\\xc2\\x9b2J'");
  CHECK(Problem("cannot open", "\xc0\xaf|\xed\xa0\x80|\xe2\x82") ==
        "cannot open '\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82'");  // overlong, surrogate, cut
  CHECK_FALSE(HasControlChar("caf\xc3\xa9 \xe2\x82\xac"));
  CHECK(HasControlChar("\xff"));
  CHECK(Escaped("x\x1b]0;PWNED\x07\ny") == "x\\x1b]0;PWNED\\x07\\ny");
}

TEST_CASE("result: carries a value or a status") {
  Result<int> good(7);
  CHECK(good.ok());
  CHECK(*good == 7);
  Result<int> bad(Status(Code::kNotFound, "missing"));
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kNotFound);
}
