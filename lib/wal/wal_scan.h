// One streaming pass over a WAL file that groups records into write sets
// (REC-10), checks sequence and commit-id order (REC-8, REC-9) and extends the
// history digest (HIST-2). Used by verify, by node open-time validation and by
// the reference node's reads. Memory: one record plus one read chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "history/async_chain.h"
#include "history/digest.h"
#include "wal/record_reader.h"

namespace aero::wal {

// A point in history: a CommitId and, when known, H(commit).
struct Position {
  uint64_t commit = 0;
  std::optional<history::Digest> digest;
};

struct WriteSet {
  uint64_t commit_id = 0;
  uint64_t start_offset = 0;  // first record of the set
  uint64_t end_offset = 0;    // just past its commit record
  uint64_t first_index = 0;
  uint64_t records = 0;  // including the commit record
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  std::optional<history::Digest> digest_after;  // H(commit_id), when the chain is known
};

// A problem that does not stop the reader (REC-8, REC-9).
struct ScanFinding {
  std::string kind;  // "sequence" | "commit-order"
  uint64_t offset = 0;
  uint64_t index = 0;
  std::string detail;
};

struct ScanOptions {
  uint64_t start_offset = 0;  // a record boundary
  uint64_t first_index = 0;
  // The position just before the first write set. When `base_commit` is set,
  // the first commit must be base_commit + 1 (REC-9) and the digest chain starts
  // from `base_digest` (if set). When unset, the first commit may be any value,
  // and `base_digest` (the seed H(0)) is used only if the first commit is 1 (HIST-4).
  std::optional<uint64_t> base_commit;
  std::optional<history::Digest> base_digest;
  // With `base_commit` set: extend the chain on this worker instead (built
  // from H(base_commit)); WriteSet::digest_after and position.digest are then
  // unset, and the caller asks the chain (Keep/Get/Finish).
  history::AsyncDigestChain* chain = nullptr;
};

struct ScanResult {
  uint64_t records = 0;  // intact records, including the uncommitted tail
  uint64_t data_records = 0;
  uint64_t commit_records = 0;
  std::optional<uint64_t> first_sequence, last_sequence;
  std::optional<uint64_t> first_commit, last_commit;
  uint64_t write_sets = 0;
  uint64_t committed_end = 0;  // offset just past the last commit record
  uint64_t tail_records = 0;   // REC-10: intact records after the last commit
  uint64_t tail_bytes = 0;     // bytes after committed_end (tail records + torn bytes)
  uint64_t file_size = 0;
  Position position;  // the last commit and H(last commit), when known
  Stop stop;
  std::vector<ScanFinding> findings;
  bool stopped_early = false;  // the write-set callback asked to stop
};

class WalScanner {
 public:
  using RecordFn = std::function<void(const Record&)>;
  // Return false to stop after this write set.
  using WriteSetFn = std::function<bool(const WriteSet&)>;

  WalScanner(ReadableFile* file, ScanOptions options);
  ScanResult Run(const RecordFn& on_record = {}, const WriteSetFn& on_write_set = {});

 private:
  ReadableFile* file_;
  ScanOptions options_;
};

}  // namespace aero::wal
