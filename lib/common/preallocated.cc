#include "common/preallocated.h"

#include <algorithm>

namespace aero {

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char b) { return b == 0; });
}

Result<bool> EndsInPreallocatedZeros(ReadableFile& file, uint64_t size) {
  char tail[kPreallocatedTailBytes];
  AERO_RETURN_IF_ERROR(file.Seek(size - sizeof tail));
  for (size_t done = 0; done < sizeof tail;) {
    AERO_ASSIGN_OR_RETURN(size_t got, file.Read(tail + done, sizeof tail - done));
    // `size` was just read: a file that ends before it was cut meanwhile
    // (`cp` over it): in transit (FM-20).
    if (got == 0) {
      return Status(Code::kInTransit, Problem("segment in transit", file.path(),
                                              "the file was cut while it was read (a copy is being written over it)"));
    }
    done += got;
  }
  return AllZero(std::string_view(tail, sizeof tail));
}

}  // namespace aero
