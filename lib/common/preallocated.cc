#include "common/preallocated.h"

#include <algorithm>

namespace aero {

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char b) { return b == 0; });
}

Result<bool> EndsInPreallocatedZeros(ReadableFile& file, uint64_t size) {
  char tail[kPreallocatedTailBytes];
  // `size` was just read: a file that ends before it was cut meanwhile (FM-20).
  AERO_RETURN_IF_ERROR(ReadWithinSize(file, size - sizeof tail, tail, sizeof tail));
  return AllZero(std::string_view(tail, sizeof tail));
}

}  // namespace aero
