#include "common/file_util.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "common/crc32.h"
#include "common/random.h"
#include "common/sha256.h"

namespace aero {

Result<std::optional<FileInfo>> StatIfThere(Fs& fs, const std::string& path) {
  Result<FileInfo> info = fs.Stat(path);
  if (info.ok()) return std::optional<FileInfo>(*info);
  if (info.status().code() == Code::kNotFound) return std::optional<FileInfo>();
  return info.status();
}

Status CheckParentDir(Fs& fs, const std::string& path, std::string hint) {
  const std::string dir = DirName(path);
  Result<FileInfo> info = fs.Stat(dir);
  if (info.ok() && info->is_dir) return Status::Ok();
  if (!info.ok() && info.status().code() != Code::kNotFound) return info.status();
  return Status(Code::kNotFound,
                Problem("no parent directory", path,
                        "'" + dir + "' " + (info.ok() ? "is not a directory" : "does not exist")),
                std::move(hint));
}

Result<std::string> OwnTempTag(std::string_view what) {
  uint8_t rand[8];
  AERO_RETURN_IF_ERROR(RandomBytes(rand, sizeof rand, what));
  return ToHex(rand, sizeof rand);
}

Status WriteFileAtomically(Fs& fs, const std::string& path, std::string_view contents, bool own_temp) {
  std::string tmp = path + ".tmp";
  if (own_temp) {
    AERO_ASSIGN_OR_RETURN(const std::string tag, OwnTempTag("a temp name"));
    tmp = path + "." + tag + ".tmp";
  }
  Result<std::unique_ptr<WritableFile>> opened = fs.OpenWrite(tmp, OpenMode::kTruncate);
  if (!opened.ok()) {
    (void)fs.Remove(tmp);  // created, then a check of it failed (an fstat): no temp left either
    return opened.status();
  }
  std::unique_ptr<WritableFile> file = std::move(opened).value();
  Status s = file->Append(contents);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (!s.ok()) {
    // Nothing half-written is left behind (a full disk): the old file is
    // untouched, and the temp file goes.
    file.reset();
    (void)fs.Remove(tmp);
    return s;
  }
  if (Status moved = fs.Rename(tmp, path); !moved.ok()) {
    (void)fs.Remove(tmp);  // a rename refused (a directory at `path`) leaves no temp file either
    return moved;
  }
  return fs.SyncDir(DirName(path));
}

Status RemoveTree(Fs& fs, const std::string& path) {
  // Never follows a symlink: a link is removed, not what it points to.
  Result<FileInfo> info = fs.LStat(path);
  if (!info.ok()) {
    return info.status().code() == Code::kNotFound ? Status::Ok() : info.status();
  }
  if (info->is_dir && !info->is_symlink) {
    AERO_ASSIGN_OR_RETURN(auto entries, fs.ListDir(path));
    for (const DirEntry& e : entries) {
      AERO_RETURN_IF_ERROR(RemoveTree(fs, JoinPath(path, e.name)));
    }
  }
  return fs.Remove(path);
}

Result<uint32_t> FileCrc32(Fs& fs, const std::string& path) {
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenRead(path));
  std::string buf(256 * 1024, '\0');
  uint32_t crc = 0;
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t n, file->Read(buf.data(), buf.size()));
    if (n == 0) return crc;
    crc = Crc32(buf.data(), n, crc);
  }
}

Result<Sha256Digest> FileSha256(Fs& fs, const std::string& path) {
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenRead(path));
  std::string buf(256 * 1024, '\0');
  Sha256 sha;
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t n, file->Read(buf.data(), buf.size()));
    if (n == 0) return sha.Finish();
    sha.Update(std::string_view(buf.data(), n));
  }
}

Status WriteDurably(Fs& fs, const std::string& path, std::string_view bytes) {
  AERO_ASSIGN_OR_RETURN(auto f, fs.OpenWrite(path, OpenMode::kTruncate));
  AERO_RETURN_IF_ERROR(f->Append(bytes));
  AERO_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Result<std::string> ReadSmallFile(Fs& fs, const std::string& path, size_t max_bytes) {
  AERO_ASSIGN_OR_RETURN(auto file, fs.OpenRead(path));
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t n, file->Read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > max_bytes) {
      return Status(Code::kDamage,
                    Problem("file too large", path,
                            "more than " + std::to_string(max_bytes) + " bytes for a small metadata file"),
                    kTooLargeHint);
    }
  }
  return out;
}

namespace {

// MODEL-10: the path through the last `..` of `path`, resolved as the kernel
// resolves it (LINK/.. is the parent of what LINK names), then the rest;
// `path` itself, as given, when that prefix does not resolve (a typo, a link
// to nothing, a loop, a file): the kernel refuses it, and so will the
// command, instead of reading `typo/..` as the working directory; nullopt
// when `path` holds no `..`.
std::optional<std::string> ResolvedThroughDotDot(const std::string& path) {
  const std::filesystem::path p(path);
  std::filesystem::path prefix, rest;
  bool seen = false;
  for (const auto& part : p) {
    if (part == "..") {
      prefix /= rest;
      prefix /= part;
      rest.clear();
      seen = true;
    } else if (seen) {
      rest /= part;
    } else {
      prefix /= part;
    }
  }
  if (!seen) return std::nullopt;
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::canonical(prefix, ec);
  if (ec) return path;
  std::string s = (real / rest).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string DirectoryArgument(const std::string& path) {
  if (path.empty()) return path;
  if (std::optional<std::string> resolved = ResolvedThroughDotDot(path)) return *resolved;
  std::error_code ec;
  std::string s = std::filesystem::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  const bool dots = s == "." || s == ".." ||
                    (s.size() > 3 && s.compare(s.size() - 3, 3, "/..") == 0);
  if (!dots) return s;
  const std::filesystem::path abs = std::filesystem::absolute(s, ec);
  if (ec) return s;
  s = abs.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Result<std::string> ResolveDirectoryArgument(const std::string& path) {
  if (path.empty()) {
    return Status(Code::kUsage, Problem("invalid value", "--data-dir", "an empty path"),
                  "give the node's directory, e.g. -D /var/lib/aerodb");
  }
  std::string dir = DirectoryArgument(path);
  std::error_code ec;
  if (!std::filesystem::is_symlink(dir, ec)) return dir;
  const std::filesystem::path target = std::filesystem::canonical(dir, ec);
  if (ec) {
    return Status(Code::kUsage, Problem("invalid value", dir, "a symlink to nothing"),
                  "create the directory it names, or give the directory itself");
  }
  return target.string();
}

}  // namespace aero
