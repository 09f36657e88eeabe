// Whole-file helpers over the Fs seam.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/sha256.h"

namespace aero {

// NODE-1: writes `contents` to "<path>.tmp" in the same directory, fsyncs it,
// renames it over `path` and fsyncs the directory. After ok, `path` holds
// `contents` durably; after a crash at any step, `path` holds either the old
// contents or the new, never a mix. A leftover "<path>.tmp" is harmless and is
// overwritten by the next write.
// A temp name's tag of this run's own: 16 hex digits from the kernel's
// random source (OPS-11, an export's temps).
Result<std::string> OwnTempTag(std::string_view what);
// `own_temp` (OPS-11): the temp is "<path>.RAND.tmp", a name of this call's
// own, for a file that runs holding no lock may write at once (each renames
// a whole file of its own; the last stands). A crash leaves that temp.
Status WriteFileAtomically(Fs& fs, const std::string& path, std::string_view contents,
                           bool own_temp = false);

// Writes `bytes` to `path` (created or truncated) and fsyncs the file; the
// caller makes the directory entry durable (a rename, a publish, SyncDir).
Status WriteDurably(Fs& fs, const std::string& path, std::string_view bytes);

// Removes `path` and, if it is a directory, everything below it. Ok if
// absent. Symlinks are removed themselves, never followed.
Status RemoveTree(Fs& fs, const std::string& path);

// A directory argument (-D) as a path whose last component is the
// directory's own name, so that the temp and lock names made beside it
// (MODEL-10: `.NAME.<op>.tmp`) are siblings: `e3/.` and `e3/` become `e3`;
// `.`, `..` and a path ending in `..` become absolute (from the working
// directory), lexically normal; a path with a `..` that exists is resolved
// through its last `..` as the kernel does (LINK/.. is the parent of the
// directory LINK names, not the directory that holds LINK). An empty path
// stays empty.
std::string DirectoryArgument(const std::string& path);
// MODEL-10: a -D as the commands take it: DirectoryArgument's name, and a
// symlink resolved (realpath) to the directory it names, so a node is
// built beside that directory and renamed onto it. kUsage for an empty
// path and for a symlink to nothing.
Result<std::string> ResolveDirectoryArgument(const std::string& path);

// FM-137, FM-139: what `path` names, or nullopt when nothing is there
// (kNotFound alone); any other failure (EIO, EACCES, EMFILE) is returned,
// never read as absence. The one way a caller asks "is it there?".
Result<std::optional<FileInfo>> StatIfThere(Fs& fs, const std::string& path);

// Ok when the directory that is to hold `path` exists; else kNotFound
// "no parent directory 'PATH': 'DIR' does not exist" (or "is not a
// directory") with `hint`. Commands call it before long work whose result
// would have nowhere to go.
Status CheckParentDir(Fs& fs, const std::string& path, std::string hint);

// CRC-32 of a whole file, streamed (memory stays one chunk).
Result<uint32_t> FileCrc32(Fs& fs, const std::string& path);
// SHA-256 of a whole file, streamed the same way.
Result<Sha256Digest> FileSha256(Fs& fs, const std::string& path);

// The hint of a small file over its bound: no writer of ours makes one.
inline constexpr const char* kTooLargeHint =
    "files of this kind are small: this one was damaged or written by another tool; "
    "restore it from a healthy copy, or move it aside";

// Reads a whole small file (state files, manifests). Refuses files larger than
// `max_bytes` with kDamage: such files are small by construction.
Result<std::string> ReadSmallFile(Fs& fs, const std::string& path,
                                  size_t max_bytes = 1 << 20);

}  // namespace aero
