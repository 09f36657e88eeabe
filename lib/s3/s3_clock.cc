#include "s3/s3_clock.h"

#include <chrono>
#include <ctime>
#include <thread>

namespace aero::s3 {

std::string AmzDateNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void WaitBeforeRetry(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace aero::s3
