// MODEL-10, FM-38: a new node is built beside its directory under a temp
// name and renamed onto it (aerodb init, apply-wal's bootstrap, snapshot
// install), so that a crash leaves nothing or a whole node.
#pragma once

#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/status.h"

namespace aero::node {

// Renames the tree `tmp` onto `dir` (rename(2) replaces an absent or empty
// directory) and makes the rename durable (fsync of `dir`'s parent). When
// the rename is refused and `dir` exists now, something created it or wrote
// into it while the tree was being built (another command, another run):
// 5, `VERB 'DIR': the directory is not empty any more: something wrote into
// it while WHILE` (or `not a directory: it was created while WHILE`) with
// `hint`, never an I/O fault; its content is untouched. Either way, on a
// failure the temp tree is removed. `verb` is the problem's words
// ("refusing to install").
Status PlaceNewTree(Fs& fs, const std::string& tmp, const std::string& dir, std::string_view verb,
                    std::string_view while_doing, std::string_view hint);

}  // namespace aero::node
