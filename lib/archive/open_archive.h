// The one factory of archives (formats/archive-directory.md ARC-1, OBJ-1):
// a directory path gives a PosixArchive, an s3:// URL an S3Archive.
#pragma once

#include <memory>
#include <string>

#include "archive/archive.h"
#include "common/fs.h"

namespace aero::archive {

// OBJ-1, OBJ-2: kUsage for a malformed s3 URL or missing credentials.
Result<std::unique_ptr<Archive>> OpenArchive(Fs& fs, const std::string& location);
// True when `location` names an object store (s3:...).
bool IsObjectStore(const std::string& location);
// OBJ-12: kUsage naming `location` when it is an object store and
// `command` cannot use one yet.
Status RefuseObjectStore(const std::string& location, const std::string& command);

// A snapshot archive named on the command line (install, check-history
// --snapshot), on a file system: 9 (`no archive 'PATH': no such file`) when
// absent, 2 (`not an archive 'PATH': a directory`) when not a regular file;
// `hint` says what was not done. Ok for an object store's URL (its HEAD
// comes with the read).
Status RequireArchiveFile(Fs& fs, const std::string& path, const std::string& hint);

}  // namespace aero::archive
