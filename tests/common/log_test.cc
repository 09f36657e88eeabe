// OPS-5: the library's logging seam.
#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "common/log.h"

namespace {

class Capture final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}
};

}  // namespace

TEST_CASE("OPS-5 the library's logger writes nothing until a program sets one") {
  // The silent default: off, no sinks.
  CHECK(aero::log::Lib().sinks().empty());
  CHECK_FALSE(aero::log::Lib().should_log(spdlog::level::critical));
  auto sink = std::make_shared<Capture>();
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::debug);
  aero::log::SetLib(logger);
  aero::log::Lib().debug("published {}", "x.seg");
  aero::log::Lib().trace("below the level");
  REQUIRE(sink->lines.size() == 1);
  CHECK(sink->lines[0] == "published x.seg");
  // Back to the silent one: the program's sink sees nothing more.
  aero::log::SetLib(nullptr);
  aero::log::Lib().debug("after");
  aero::log::Lib().critical("after");
  CHECK(sink->lines.size() == 1);
  CHECK(aero::log::Lib().sinks().empty());
}
