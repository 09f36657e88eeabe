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

// While alive, this thread's LC_CTYPE is C.UTF-8 (uselocale(3)), whatever
// the process's locale. libarchive converts member names through the
// thread's character set; in the C locale a name beyond ASCII cannot be
// converted (libarchive 3.6's pax writer then crashes in strlen). Member
// paths are UTF-8 text (SNAP-8), so every libarchive call that creates a
// reader or writer or passes a name runs under one. Where C.UTF-8 does not
// exist, nothing changes.
// Whether that locale exists here; without it, a member path beyond ASCII
// cannot be written (export refuses it, SNAP-8).
bool Utf8LocaleAvailable();
class Utf8LocaleScope {
 public:
  Utf8LocaleScope();
  ~Utf8LocaleScope();
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

 private:
  void* previous_ = nullptr;  // locale_t
};

}  // namespace aero::snapshot
