#include "common/preallocated.h"

#include <algorithm>

namespace aero {

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char b) { return b == 0; });
}

Result<bool> EndsInPreallocatedZeros(ReadableFile& file, uint64_t size) {
  char tail[kPreallocatedTailBytes];
  AERO_RETURN_IF_ERROR(ReadExactlyAt(file, size - sizeof tail, tail, sizeof tail));
  return AllZero(std::string_view(tail, sizeof tail));
}

}  // namespace aero
