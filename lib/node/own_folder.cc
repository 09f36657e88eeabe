#include "node/own_folder.h"

#include "common/fs.h"
#include "node/layout.h"

namespace aero::node {

namespace {

// NODE-13's refusal: `node` is the data directory the output would be in.
Status Refusal(const std::string& dir, const std::string& subject, const std::string& node,
               std::string_view whose, std::string_view option, std::string_view outside) {
  return Status(Code::kUsage,
                Problem("refusing to write", subject.empty() ? dir : subject,
                        "it is inside " + node + ", " + std::string(whose) +
                            " data directory (its snapshots and archives would carry the file, and open "
                            "reads every file of replication/)"),
                "give " + std::string(option) + " a place outside " + std::string(outside));
}

// NODE-13: any node's data directory is as closed as the command's own: a
// directory at or above `real` (resolved) that holds replication/identity.json.
Status RefuseInsideAnyNode(const std::string& real, const std::string& dir, std::string_view option,
                           const std::string& subject) {
  for (std::string at = real;; at = DirName(at)) {
    Result<FileInfo> marker = PosixFs().Stat(JoinPath(at, kIdentityFile));
    if (marker.ok() && marker->is_regular) {
      return Refusal(dir, subject, at, "a node's", option, "every node's data directory");
    }
    if (at == "/" || at.empty()) return Status::Ok();
  }
}

// `there` is `own` or lies inside it; both resolved.
bool AtOrInside(const std::string& there, const std::string& own) {
  return there == own || (there.size() > own.size() && there.compare(0, own.size(), own) == 0 &&
                          there[own.size()] == '/');
}

}  // namespace

Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option, const std::string& subject) {
  Result<std::string> own = RealPath(data_dir);
  Result<std::string> there = RealPath(dir);
  if (!own.ok() || !there.ok()) return Status::Ok();
  if (!AtOrInside(*there, *own)) return RefuseInsideAnyNode(*there, dir, option, subject);
  return Refusal(dir, subject, data_dir, "the node's", option, "the data directory");
}

bool LiesInside(const std::string& path, const std::string& dir) {
  Result<std::string> own = RealPath(dir);
  Result<std::string> there = RealPath(path);
  return own.ok() && there.ok() && AtOrInside(*there, *own);
}

Status RefuseInboxInsideOwnFolder(const std::string& data_dir, const std::string& inbox) {
  if (!LiesInside(inbox, data_dir)) return Status::Ok();  // NODE-13
  return Status(Code::kUsage,
                Problem("refusing to read", inbox,
                        "it is inside " + data_dir +
                            ", the replica's data directory (the transport would write into it, and "
                            "install --discard-existing or a re-bootstrap would remove the inbox with it)"),
                "give --from an inbox outside the replica's data directory");
}

}  // namespace aero::node
