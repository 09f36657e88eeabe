#include "common/log.h"

namespace aero::log {
namespace {

std::shared_ptr<spdlog::logger> Silent() {
  // OPS-5: no sinks, level off: a line logged before a program sets a
  // logger goes nowhere (lib/ never picks stdout or stderr itself).
  auto l = std::make_shared<spdlog::logger>("aerodb-lib");
  l->set_level(spdlog::level::off);
  return l;
}

std::shared_ptr<spdlog::logger>& Current() {
  static std::shared_ptr<spdlog::logger> current = Silent();
  return current;
}

}  // namespace

spdlog::logger& Lib() { return *Current(); }

void SetLib(std::shared_ptr<spdlog::logger> logger) {
  Current() = logger ? std::move(logger) : Silent();
}

}  // namespace aero::log
