#include "node/place_tree.h"

#include "common/file_util.h"
#include "node/layout.h"

namespace aero::node {

Status PlaceNewTree(Fs& fs, const std::string& tmp, const std::string& dir, std::string_view verb,
                    std::string_view while_doing, std::string_view hint) {
  // FM-53: the new node's own lock, held from before the rename until it
  // is durable, so that no run opens the node in the window an undo takes
  // it away in. Where it cannot be held (a caller holds it), no undo.
  Result<std::unique_ptr<FileLock>> held = fs.Lock(JoinPath(tmp, kLockFile));
  const bool was_empty_dir = fs.LStat(dir).ok();  // rename replaces only an empty directory
  Status moved = fs.Rename(tmp, dir);
  if (moved.ok()) {
    Status durable = fs.SyncDir(DirName(dir));
    if (durable.ok() || !held.ok()) return durable;
    // FM-53: nothing says the rename is durable, so it is undone and the
    // tree dropped: DIR is as it was, and the re-run builds it again
    // instead of meeting its own output as "not empty".
    if (!fs.Rename(dir, tmp).ok()) {
      return Status(durable.code(), durable.message() + " ('" + dir + "' is in place, not known to be durable)",
                    durable.hint());
    }
    if (was_empty_dir) (void)fs.MakeDir(dir);  // the empty directory that was there
    held->reset();
    (void)RemoveTree(fs, tmp);
    return Status(durable.code(), durable.message() + " (undone: '" + dir + "' not created)", durable.hint());
  }
  // The target was absent or empty when the run began; if it is there now,
  // someone wrote it meanwhile. Its content is not ours to replace.
  // An empty directory there (rename replaces it) means the rename failed
  // for another reason: the file system's, reported as it is.
  // LStat: a symlink put there is taken too, never followed to an empty
  // directory (the rename cannot replace it: ENOTDIR, which reads as 9).
  Result<FileInfo> now = fs.LStat(dir);
  bool taken = now.ok() && !now->is_dir;
  if (now.ok() && now->is_dir) {
    Result<std::vector<DirEntry>> entries = fs.ListDir(dir);
    taken = entries.ok() && !entries->empty();
  }
  (void)RemoveTree(fs, tmp);
  if (!taken) return moved;
  if (now->is_symlink) {
    return Status(Code::kRefused,
                  Problem(std::string(verb), dir, "a symbolic link, which a new node cannot replace"),
                  "give the directory's real path (readlink -f)");
  }
  return Status(Code::kRefused,
                Problem(std::string(verb), dir,
                        now->is_dir ? "the directory is not empty any more: something wrote into it "
                                      "while " + std::string(while_doing)
                                    : "not a directory: it was created while " + std::string(while_doing)),
                std::string(hint));
}

}  // namespace aero::node
