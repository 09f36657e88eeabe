#include "node/own_folder.h"

#include "common/fs.h"
#include "node/layout.h"

namespace aero::node {

Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option) {
  Result<std::string> own = RealPath(JoinPath(data_dir, kReplicationDir));
  Result<std::string> there = RealPath(dir);
  if (!own.ok() || !there.ok()) return Status::Ok();
  const bool inside = *there == *own || (there->size() > own->size() &&
                                         there->compare(0, own->size(), *own) == 0 &&
                                         (*there)[own->size()] == '/');
  if (!inside) return Status::Ok();
  return Status(Code::kUsage,
                Problem("refusing to write", dir,
                        "it is inside " + JoinPath(data_dir, kReplicationDir) +
                            ", which aerodb-repl owns (every file there is read at open)"),
                "give " + std::string(option) + " a directory outside the data directory's replication/");
}

}  // namespace aero::node
