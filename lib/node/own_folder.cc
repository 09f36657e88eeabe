#include "node/own_folder.h"

#include "common/fs.h"
#include "node/layout.h"

namespace aero::node {

namespace {

// NODE-13: any node's data directory is as closed as the command's own: a
// directory at or above `real` (resolved) that holds replication/identity.json.
Status RefuseInsideAnyNode(const std::string& real, const std::string& dir, std::string_view option,
                           const std::string& subject) {
  std::string at = real;
  for (;;) {
    Result<FileInfo> marker = PosixFs().Stat(JoinPath(at, kIdentityFile));
    if (marker.ok() && marker->is_regular) {
      return Status(Code::kUsage,
                    Problem("refusing to write", subject.empty() ? dir : subject,
                            "it is inside " + at +
                                ", a node's data directory (its snapshots and archives would carry the "
                                "file, and open reads every file of replication/)"),
                    "give " + std::string(option) + " a place outside every node's data directory");
    }
    if (at == "/" || at.empty()) return Status::Ok();
    at = DirName(at);
  }
}

}  // namespace

Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option, const std::string& subject) {
  Result<std::string> own = RealPath(data_dir);
  Result<std::string> there = RealPath(dir);
  if (!own.ok() || !there.ok()) return Status::Ok();
  const bool inside = *there == *own || (there->size() > own->size() &&
                                         there->compare(0, own->size(), *own) == 0 &&
                                         (*there)[own->size()] == '/');
  if (!inside) return RefuseInsideAnyNode(*there, dir, option, subject);
  return Status(Code::kUsage,
                Problem("refusing to write", subject.empty() ? dir : subject,
                        "it is inside " + data_dir +
                            ", the node's data directory (its snapshots and archives would carry the "
                            "file, and open reads every file of replication/)"),
                "give " + std::string(option) + " a place outside the data directory");
}

}  // namespace aero::node
