#include "archive/open_archive.h"

#include "archive/s3_archive.h"
#include "s3/s3_config.h"
#include "s3/s3_url.h"

namespace aero::archive {

bool IsObjectStore(const std::string& location) { return s3::IsS3Location(location); }

// OBJ-1: one factory for every command.
Result<std::unique_ptr<Archive>> OpenArchive(Fs& fs, const std::string& location) {
  if (!s3::IsS3Location(location)) return std::unique_ptr<Archive>(new PosixArchive(fs, location));
  AERO_ASSIGN_OR_RETURN(s3::S3Url url, s3::ParseS3Url(location));
  AERO_ASSIGN_OR_RETURN(s3::S3Config config, s3::LoadS3Config());
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<S3Archive> a, S3Archive::Open(fs, url, std::move(config)));
  return std::unique_ptr<Archive>(std::move(a));
}

// OBJ-12
Status RefuseObjectStore(const std::string& location, const std::string& command) {
  if (!IsObjectStore(location)) return Status();
  return Status(Code::kUsage,
                Problem("object store not supported here", location, "'" + command + "' takes a directory archive only"),
                "copy the archive to a directory first (e.g. with rclone), or use verify, status, ship-wal or apply-wal");
}

Status RequireArchiveFile(Fs& fs, const std::string& path, const std::string& hint) {
  if (IsObjectStore(path)) return Status::Ok();
  Result<FileInfo> info = fs.Stat(path);
  if (!info.ok()) {
    if (info.status().code() != Code::kNotFound) return info.status();
    return Status(Code::kNotFound, Problem("no archive", path, "no such file"), hint);
  }
  if (!info->is_regular) {
    return Status(Code::kUsage, Problem("not an archive", path, info->is_dir ? "a directory" : "not a regular file"),
                  hint);
  }
  return Status::Ok();
}

}  // namespace aero::archive
