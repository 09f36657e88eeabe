// OPS-5: the library's logging seam. lib/ writes its debug and trace lines
// to aero::log::Lib(); a program (the CLIs) installs the logger that decides
// the level, the format and the destination. Until then nothing is written.
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace aero::log {

// The logger lib/ code writes to: one with no sinks until SetLib.
spdlog::logger& Lib();

// Installs `logger` for lib/ (nullptr: back to the silent one). Call it
// before any work starts; it is not synchronised with running lib/ code.
void SetLib(std::shared_ptr<spdlog::logger> logger);

}  // namespace aero::log
