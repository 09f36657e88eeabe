// libarchive is loaded when the first archive is read or written, not at
// process start: its dependencies (libxml2, ICU, nettle, lzma, ...) cost
// ~1.7 ms of dynamic loading, and ship-wal/apply-wal runs from cron that have
// nothing to do must cost <= 5 ms in all (issue 3). libarchive_loader.cc
// defines the libarchive functions this library uses, each forwarding to the
// real one in the shared object (their signatures are checked against
// <archive.h> by the compiler).
#pragma once

#include "common/status.h"

namespace aero::snapshot {

// kIo ("cannot load libarchive") if the shared object or a symbol is missing.
// Call before the first libarchive function.
Status LoadLibarchive();

}  // namespace aero::snapshot
