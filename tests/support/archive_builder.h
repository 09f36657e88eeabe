// Builds tar archives entry by entry, hostile ones included (absolute paths,
// links, devices, fifos, sizes that disagree with the manifest), for the
// snapshot reader's tests. Uses libarchive directly, bypassing every check.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aero::testing {

struct TarEntry {
  enum Type { kFile, kDir, kSymlink, kHardlink, kCharDevice, kFifo };
  TarEntry() = default;
  TarEntry(std::string p, std::string d, Type t = kFile, std::string l = {})
      : path(std::move(p)), data(std::move(d)), type(t), link(std::move(l)) {}
  std::string path;
  std::string data;
  Type type = kFile;
  std::string link;      // symlink/hardlink target
  long long size = -1;   // header size; -1: data.size()
  // Written with a sparse map (a hole over its first 512 bytes) in a pax
  // archive: what SNAP-8 refuses.
  bool sparse = false;
};

// Writes `entries` as a ustar archive (pax when an entry is sparse; zstd when
// asked) to `path`.
void WriteTar(const std::string& path, const std::vector<TarEntry>& entries, bool zstd);
// The first `max_bytes` of the plain tar of `entries` in the format export
// writes (pax restricted: ustar headers, a pax header where ustar cannot
// say it, such as a size of 8 GiB or more). An entry's `size` may exceed its
// data; the rest would be zeros, which are never produced past `max_bytes`.
// For archives too large to write out, cut as an unfinished copy would be.
std::string PaxTarPrefix(const std::vector<TarEntry>& entries, size_t max_bytes);
// Reads every entry of an archive back (paths and data), for tests that
// rebuild a valid archive with one change.
std::vector<TarEntry> ReadTar(const std::string& path);
// Decompresses one whole zstd frame with libzstd itself (not libarchive);
// nullopt when the bytes are not one complete, well-formed frame.
std::optional<std::string> DecompressZstd(const std::string& bytes);
// `bytes` as one complete zstd frame, level 1, by libzstd itself.
std::string CompressZstd(const std::string& bytes);

}  // namespace aero::testing
