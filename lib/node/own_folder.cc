#include "node/own_folder.h"

#include "common/fs.h"

namespace aero::node {

Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option, const std::string& subject) {
  Result<std::string> own = RealPath(data_dir);
  Result<std::string> there = RealPath(dir);
  if (!own.ok() || !there.ok()) return Status::Ok();
  const bool inside = *there == *own || (there->size() > own->size() &&
                                         there->compare(0, own->size(), *own) == 0 &&
                                         (*there)[own->size()] == '/');
  if (!inside) return Status::Ok();
  return Status(Code::kUsage,
                Problem("refusing to write", subject.empty() ? dir : subject,
                        "it is inside " + data_dir +
                            ", the node's data directory (its snapshots and archives would carry the "
                            "file, and open reads every file of replication/)"),
                "give " + std::string(option) + " a place outside the data directory");
}

}  // namespace aero::node
