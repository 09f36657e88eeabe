// OPS-8: the only clock reads in lib/ and cli/, for display: the progress
// line's rate and time left, and when a run last succeeded (OPS-9). No rule
// reads them (MODEL-5).
#pragma once

#include <cstdint>
#include <string>

namespace aero::cli {

uint64_t UnixSeconds();          // wall clock, seconds since 1970-01-01 UTC
double MonotonicSeconds();       // for intervals only
// `ms` since 1970-01-01 UTC as RFC 3339 with milliseconds, "...T..:..:..mmmZ".
std::string FormatUtcMillis(int64_t ms);

}  // namespace aero::cli
