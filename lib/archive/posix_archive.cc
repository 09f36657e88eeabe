#include "archive/archive.h"

#include <algorithm>

namespace aero::archive {

namespace {

ArchiveEntry::Type TypeOfEntry(const DirEntry& e) {
  return e.is_symlink ? ArchiveEntry::Type::kSymlink
         : e.is_dir   ? ArchiveEntry::Type::kDirectory
         : e.is_regular ? ArchiveEntry::Type::kFile
                        : ArchiveEntry::Type::kOther;
}

}  // namespace

Result<std::vector<ArchiveEntry>> PosixArchive::List() {
  std::vector<ArchiveEntry> out;
  AERO_RETURN_IF_ERROR(ListEach([&](ArchiveEntry& e) {
    out.push_back(std::move(e));
    return true;
  }));
  std::sort(out.begin(), out.end(), [](const ArchiveEntry& a, const ArchiveEntry& b) { return a.name < b.name; });
  return out;
}

Status PosixArchive::ListEach(const std::function<bool(ArchiveEntry&)>& each) {
  ArchiveEntry a;
  Status listed = fs_.ListDirEach(dir_, [&](DirEntry& e) {
    a.name = std::move(e.name);
    a.type = TypeOfEntry(e);
    return each(a);
  });
  if (!listed.ok()) {
    // A file where the archive's directory is named (a --from or --to that
    // names a file): no archive there, as for a path that names nothing.
    Result<FileInfo> info = fs_.Stat(dir_);
    if (info.ok() && !info->is_dir) {
      return Status(Code::kNotFound, Problem("not a directory", dir_, "an archive is a directory"),
                    "give the archive's directory");
    }
  }
  return listed;
}

Result<ArchiveEntry::Type> PosixArchive::TypeOf(const std::string& name) {
  AERO_ASSIGN_OR_RETURN(FileInfo i, fs_.LStat(PathOf(name)));
  return i.is_symlink ? ArchiveEntry::Type::kSymlink
         : i.is_dir   ? ArchiveEntry::Type::kDirectory
         : i.is_regular ? ArchiveEntry::Type::kFile
                        : ArchiveEntry::Type::kOther;
}

Status RefuseIrregular(Archive& a, const std::string& name) {
  Result<ArchiveEntry::Type> type = a.TypeOf(name);
  if (!type.ok()) return type.status().code() == Code::kNotFound ? Status::Ok() : type.status();
  const char* what = *type == ArchiveEntry::Type::kSymlink     ? "a symlink"
                     : *type == ArchiveEntry::Type::kDirectory ? "a directory"
                     : *type == ArchiveEntry::Type::kOther     ? "a FIFO, socket or device"
                                                               : nullptr;
  if (what == nullptr) return Status::Ok();
  return Status(Code::kIo,
                Problem("not a regular file", a.PathOf(name),
                        std::string(what) + ": readers ignore it (ARC-2), so it never stands for the file"),
                "remove what stands in the file's place (or put the file itself there), then re-run");
}

Result<std::unique_ptr<ReadableFile>> PosixArchive::OpenRead(const std::string& name) {
  return fs_.OpenRead(PathOf(name));
}

Status PosixArchive::PublishExclusive(const std::string& temp_path, const std::string& name) {
  Status renamed = fs_.RenameNoReplace(temp_path, PathOf(name));
  if (renamed.code() != Code::kNotFound) return renamed;
  // The temp file (or the directory) is gone: the environment changed under
  // the writer, not an input missing (10, not 9; archive contract, LOG-31).
  return Status(Code::kIo, renamed.message(),
                "another process removed the temp file or the directory during the run: check '" + dir_ +
                    "', then re-run (nothing was published under this name)");
}

Status PosixArchive::Replace(const std::string& temp_path, const std::string& name) {
  return fs_.Rename(temp_path, PathOf(name));
}

Status PosixArchive::Remove(const std::string& name) { return fs_.Remove(PathOf(name)); }

Status PosixArchive::MakeDurable() { return fs_.SyncDir(dir_); }

}  // namespace aero::archive
