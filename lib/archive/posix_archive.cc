#include "archive/archive.h"

namespace aero::archive {

Result<std::vector<ArchiveEntry>> PosixArchive::List() {
  AERO_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs_.ListDir(dir_));
  std::vector<ArchiveEntry> out;
  out.reserve(entries.size());
  for (DirEntry& e : entries) {
    ArchiveEntry a;
    a.name = std::move(e.name);
    a.type = e.is_symlink ? ArchiveEntry::Type::kSymlink
             : e.is_dir   ? ArchiveEntry::Type::kDirectory
             : e.is_regular ? ArchiveEntry::Type::kFile
                            : ArchiveEntry::Type::kOther;
    out.push_back(std::move(a));
  }
  return out;
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
