// The history files of an archive directory and its claim-archive marker
// (formats/history-file.md HFILE-1..HFILE-5), read through `Archive`, and
// the exclusive publish of one such file (MODEL-6, ARC-1).
#pragma once

#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/fs.h"
#include "history/history_file.h"
#include "history/lineage.h"

namespace aero::archive {

// Every `EEEEEEEE.history` regular file of `a`, decoded and checked, by
// epoch. The first file that is not valid is the outcome: in transit 8,
// invalid 1, foreign 5 (HFILE-3). kNotFound when `a` does not exist.
Result<std::vector<history::HistoryFile>> ReadHistoryFiles(Archive& a, const history::SystemId& system);
// The same for the regular files `names` of a listing already taken
// (sorted; a name that is not a history file's is passed over).
Result<std::vector<history::HistoryFile>> ReadHistoryFiles(Archive& a, const history::SystemId& system,
                                                           const std::vector<std::string>& names);

// A node's own history copies (`copies`, read from `copies_dir`), each
// with the path it was read from, as Lineage::Of takes them.
std::vector<history::SourcedFile> SourcedCopies(const std::vector<history::HistoryFile>& copies,
                                                const std::string& copies_dir);

// LOG-15: the lineage `a`'s history files describe together with a node's
// own copies (`copies`, read from `copies_dir`; empty for none): one chain,
// or the first problem: in transit 8, invalid 1, foreign 5, two files that
// disagree 4. The one place every command builds it.
Result<history::Lineage> ReadLineage(Archive& a, const history::SystemId& system,
                                     const std::vector<history::HistoryFile>& copies,
                                     const std::string& copies_dir);
// The same for the regular files `names` of a listing already taken (a
// run's one listing of its inbox or target).
Result<history::Lineage> ReadLineage(Archive& a, const history::SystemId& system,
                                     const std::vector<history::HistoryFile>& copies,
                                     const std::string& copies_dir, const std::vector<std::string>& names);

// HFILE-5: `a` is the claim archive of `system`: its marker is there (9
// otherwise, "not a claim archive"), complete (8), valid (1), this system's (5).
Status CheckClaimArchive(Archive& a, const history::SystemId& system);

// Reads `name` of `a` whole, refusing more than `max_bytes` (1).
Result<std::string> ReadArchiveFile(Archive& a, const std::string& name, size_t max_bytes);

// Writes `bytes` durably to the hidden temp name `temp_name` beside the
// archive's files, publishes it exclusively as `name` and makes it durable.
// kRefused (the temp removed, nothing else changed) when `name` exists.
// `renamed`: set when `name` is this run's file, durable or not (a failure
// after the rename: the directory's fsync).
Status PublishBytesExclusive(Fs& fs, Archive& a, const std::string& temp_name,
                             const std::string& name, const std::string& bytes, bool* renamed = nullptr);

}  // namespace aero::archive
