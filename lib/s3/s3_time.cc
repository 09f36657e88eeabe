#include "s3/s3_time.h"

#include <array>

namespace aero::s3 {
namespace {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm).
int64_t S3TimeDaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// `n` decimal digits at `s[at..]`, or nullopt.
std::optional<int> S3TimeDigits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<int64_t> S3TimeCompose(int y, int mo, int d, int h, int mi, int sec) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return S3TimeDaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 +
         sec;
}

}  // namespace

std::optional<int64_t> ParseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto y = S3TimeDigits(s, 0, 4), mo = S3TimeDigits(s, 5, 2), d = S3TimeDigits(s, 8, 2);
  auto h = S3TimeDigits(s, 11, 2), mi = S3TimeDigits(s, 14, 2), sec = S3TimeDigits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == from) return std::nullopt;
  }
  if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
  return S3TimeCompose(*y, *mo, *d, *h, *mi, *sec);
}

std::optional<int64_t> ParseHttpDate(std::string_view s) {
  // Www, DD Mon YYYY HH:MM:SS GMT
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int mo = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) mo = static_cast<int>(i) + 1;
  }
  auto d = S3TimeDigits(s, 5, 2), y = S3TimeDigits(s, 12, 4);
  auto h = S3TimeDigits(s, 17, 2), mi = S3TimeDigits(s, 20, 2), sec = S3TimeDigits(s, 23, 2);
  if (!mo || !d || !y || !h || !mi || !sec) return std::nullopt;
  return S3TimeCompose(*y, mo, *d, *h, *mi, *sec);
}

}  // namespace aero::s3
