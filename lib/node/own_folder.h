// NODE-13: the data directory holds only the node's own files
// (formats/node-layout.md): open reads every file of replication/history/
// (RECOV-2), and checkpoints and archives carry every file of
// metadata/schemas/, so a file that a command writes as its output, a
// segment shipped, a registration, a snapshot archive, never lands inside
// it: the node would stop opening, or carry the file in every snapshot.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aero::node {

// 2 (`refusing to write 'PATH': it is inside DATA_DIR, the node's data
// directory`) when the existing directory `dir` (a path) is `data_dir` or
// lies inside it, both resolved with realpath(3); Ok when it does not, or
// when either cannot be resolved (the caller's own checks report a missing
// directory). `option` names the flag in the hint; `subject` (the output
// file, for --output) is named instead of `dir` when given.
Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option, const std::string& subject = "");

// 2 (`refusing to read 'INBOX': it is inside DATA_DIR, the replica's data
// directory`) when the existing directory `inbox` is `data_dir` or lies
// inside it (NODE-13: the transport writes into an inbox); Ok otherwise, or
// when either cannot be resolved.
Status RefuseInboxInsideOwnFolder(const std::string& data_dir, const std::string& inbox);

// Whether `path` is the directory `dir` or lies inside it, both resolved
// with realpath(3); false when either cannot be resolved.
bool LiesInside(const std::string& path, const std::string& dir);

}  // namespace aero::node
