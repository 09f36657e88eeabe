// A directory of replication files behind one interface (formats/
// archive-directory.md ARC-1): list, open for reading, publish exclusively,
// remove, make durable. PosixArchive implements it over the Fs seam; an
// object-store backend implements Archive, not Fs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace aero::archive {

struct ArchiveEntry {
  enum class Type { kFile, kDirectory, kSymlink, kOther };
  std::string name;
  Type type = Type::kOther;
};

class Archive {
 public:
  virtual ~Archive() = default;
  // Where the archive is, for messages ("problem 'LOCATION/NAME': ...").
  virtual const std::string& location() const = 0;
  // What names the archive in a node's keys (LOG-2: a shipped position and
  // its lock): its location; a store's with its endpoint, so that the same
  // bucket and prefix in another store is another target.
  virtual std::string KeySource() const { return location(); }
  // Every entry, sorted by name, typed as it is (symlinks not followed);
  // kNotFound when the archive does not exist.
  virtual Result<std::vector<ArchiveEntry>> List() = 0;
  // LOG-33: the same entries one at a time, in no particular order, none
  // held (`each` returns false to stop); an error part-way is the
  // listing's. This default lists with List(); PosixArchive reads the
  // directory as it goes.
  virtual Status ListEach(const std::function<bool(ArchiveEntry&)>& each) {
    AERO_ASSIGN_OR_RETURN(std::vector<ArchiveEntry> entries, List());
    for (ArchiveEntry& e : entries) {
      if (!each(e)) break;
    }
    return Status::Ok();
  }
  virtual Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& name) = 0;
  // Makes the finished (synced) file `temp_path` visible as `name` in one
  // step; kRefused, nothing changed, when `name` exists (never replaced).
  virtual Status PublishExclusive(const std::string& temp_path, const std::string& name) = 0;
  // ARC-1: makes the finished (synced) file `temp_path` visible as `name` in
  // one step, replacing what is there: only for a file one writer owns (a
  // replica's registration, ARC-5).
  virtual Status Replace(const std::string& temp_path, const std::string& name) = 0;
  // ARC-1: removes one entry (never following a symlink); kNotFound when
  // absent. Durable only once MakeDurable returned after it.
  virtual Status Remove(const std::string& name) = 0;
  // On ok, every publish, replace and remove that returned before is durable.
  virtual Status MakeDurable() = 0;
  // The full path or key of `name`, for messages.
  virtual std::string PathOf(const std::string& name) const = 0;
  // Where a writer puts the temp file `temp_name` (a hidden name) before it
  // publishes or replaces it: beside the archive's files in a directory, in
  // a local staging directory for an object store (OBJ-11).
  virtual std::string TempPath(const std::string& temp_name) const { return PathOf(temp_name); }
  // OBJ-7: ok when an exclusive publish here is exclusive between machines,
  // so an epoch claim (a history file, the claim-archive marker) may be
  // made; kRefused naming the archive otherwise. Writers of claims call it
  // before they publish one.
  virtual Status ClaimsAllowed() { return Status::Ok(); }
  // What stands under `name`, not following a symlink (ARC-2); kNotFound
  // when nothing does. An object store holds files only.
  virtual Result<ArchiveEntry::Type> TypeOf(const std::string& name) {
    (void)name;
    return ArchiveEntry::Type::kFile;
  }
};

// LOG-4, ARC-2: ok when `name` is absent or a regular file; else 10 "not a
// regular file": readers ignore a symlink, a directory or a FIFO under a
// file's name, so a writer must never take it for the file.
Status RefuseIrregular(Archive& a, const std::string& name);

// A directory on a POSIX file system, through `fs` (not owned).
class PosixArchive final : public Archive {
 public:
  PosixArchive(Fs& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  const std::string& location() const override { return dir_; }
  Result<ArchiveEntry::Type> TypeOf(const std::string& name) override;
  Result<std::vector<ArchiveEntry>> List() override;
  Status ListEach(const std::function<bool(ArchiveEntry&)>& each) override;
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& name) override;
  Status PublishExclusive(const std::string& temp_path, const std::string& name) override;
  Status Replace(const std::string& temp_path, const std::string& name) override;
  Status Remove(const std::string& name) override;
  Status MakeDurable() override;
  std::string PathOf(const std::string& name) const override { return JoinPath(dir_, name); }

 private:
  Fs& fs_;
  std::string dir_;
};

}  // namespace aero::archive
