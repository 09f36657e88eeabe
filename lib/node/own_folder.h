// NODE-13: the replication/ folder is this toolkit's own (formats/node-layout.md):
// open reads every file in it (replication/history/, RECOV-2), so a file
// that a command writes as its output, a segment shipped, a registration,
// a snapshot archive, must never land inside it, or the node stops opening.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aero::node {

// 2 (`refusing to write 'PATH': it is inside DATA_DIR/replication, which
// aerodb-repl owns`) when the existing directory `dir` (a path) lies inside
// `data_dir`'s replication/ folder, both resolved with realpath(3); Ok when
// it does not, or when either cannot be resolved (the caller's own checks
// report a missing directory). `option` names the flag in the hint.
Status RefuseInsideOwnFolder(const std::string& data_dir, const std::string& dir,
                             std::string_view option);

}  // namespace aero::node
