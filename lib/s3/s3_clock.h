// The object store's one use of time (MODEL-5's exception for lib/s3,
// tests/cli/no_clock.sh): the date SigV4 signs (a store refuses a request
// signed more than 15 minutes off its clock), and the waits between retries
// (OBJ-6). Neither decides what is safe: that is the store's If-None-Match.
#pragma once

#include <string>

namespace aero::s3 {

// The current UTC time as YYYYMMDDTHHMMSSZ.
std::string AmzDateNow();
// Waits `ms` milliseconds before a retry.
void WaitBeforeRetry(int ms);

}  // namespace aero::s3
