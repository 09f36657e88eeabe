// Writing a snapshot archive through libarchive: pax-restricted tar (plain
// ustar headers unless a member needs more), zstd or none, fixed
// member metadata (SNAP-2) so that equal inputs give equal bytes (SNAP-4).
// Output goes through the Fs seam, so crash tests can stop it anywhere.
#pragma once

#include <memory>
#include <string>

#include "common/fs.h"
#include "common/status.h"

namespace aero::snapshot {

class ArchiveWriter {
 public:
  // Writes to `out` (not owned; the caller syncs and closes it).
  static Result<std::unique_ptr<ArchiveWriter>> Open(WritableFile* out, bool zstd, int level);
  ~ArchiveWriter();

  // One regular file member of `size` bytes; then exactly `size` bytes of Data().
  Status BeginFile(const std::string& path, uint64_t size);
  Status Data(std::string_view bytes);
  // Ends the archive (end-of-archive blocks, zstd frame end).
  Status Finish();

  struct Impl;  // libarchive state; public only for its C callbacks

 private:
  explicit ArchiveWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aero::snapshot
