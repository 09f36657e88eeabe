// SEG-9, ENC-33, SNAP-17: one test for a copy that a transport sized first
// and writes in order (fallocate, `truncate -s`, `rsync --inplace
// --preallocate`): until its last write, the file has its final size and
// zeros where its end goes. A complete segment, envelope or zstd archive
// never ends in 16 zero bytes (a SHA-256, a MAC, compressed data), so each
// format's judge asks this one question before it calls a file damaged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/fs.h"

namespace aero {

inline constexpr size_t kPreallocatedTailBytes = 16;

bool AllZero(std::string_view bytes);

// Whether the last kPreallocatedTailBytes of `file` (`size` bytes, at least
// that many) are all zero; the read's status when it fails.
Result<bool> EndsInPreallocatedZeros(ReadableFile& file, uint64_t size);

}  // namespace aero
