// A test seam of PosixFs().Lock (MODEL-10), for tests only.
#pragma once

#include <string>

namespace aero {

// When set, PosixFs().Lock calls it between opening the lock file and
// flocking it: where the lock's holder may remove the file.
extern void (*g_lock_file_opened_for_test)(const std::string& path);

}  // namespace aero
