#include "wal/wal_scan.h"

#include "wal/record.h"

namespace aero::wal {

WalScanner::WalScanner(ReadableFile* file, ScanOptions options)
    : file_(file), options_(std::move(options)) {}

ScanResult WalScanner::Run(const RecordFn& on_record, const WriteSetFn& on_write_set) {
  ScanResult r;
  r.committed_end = options_.start_offset;
  r.position.commit = options_.base_commit.value_or(0);
  r.position.digest = options_.base_commit ? options_.base_digest : std::nullopt;

  std::optional<uint64_t> expected_commit;
  if (options_.base_commit) expected_commit = *options_.base_commit + 1;
  history::AsyncDigestChain* async = options_.base_commit ? options_.chain : nullptr;
  if (async) r.position.digest.reset();
  std::optional<history::Digest> chain = r.position.digest;
  bool chain_undecided = !options_.base_commit;  // HIST-4: decided at the first commit

  history::DigestChain digest;
  bool in_set = false;
  WriteSet set;
  std::optional<uint64_t> prev_sequence;

  RecordReader reader(file_, options_.start_offset, options_.first_index);
  Record rec;
  while (reader.Next(&rec)) {
    ++r.records;
    if (!r.first_sequence) r.first_sequence = rec.sequence;
    r.last_sequence = rec.sequence;
    // REC-8: +1, or a restart at 1 on a write-set boundary; never 0.
    if (rec.sequence == 0) {
      r.findings.push_back({"sequence", rec.offset, rec.index, "sequence number 0 is invalid"});
    } else if (prev_sequence && rec.sequence != *prev_sequence + 1 &&
               !(rec.sequence == 1 && !in_set)) {
      r.findings.push_back({"sequence", rec.offset, rec.index,
                            "sequence " + std::to_string(rec.sequence) + " follows " +
                                std::to_string(*prev_sequence)});
    }
    prev_sequence = rec.sequence;

    if (!in_set) {
      in_set = true;
      set = WriteSet{};
      set.start_offset = rec.offset;
      set.first_index = rec.index;
      set.first_sequence = rec.sequence;
      if (chain) digest.Begin(*chain);
    }
    ++set.records;
    set.last_sequence = rec.sequence;
    if (async) {
      async->Update(rec.bytes, rec.owner);
    } else if (chain || chain_undecided) {
      // While undecided we cannot know yet whether this set is commit 1; keep
      // hashing from the seed so that no bytes need buffering.
      if (chain_undecided && set.records == 1 && options_.base_digest) {
        digest.Begin(*options_.base_digest);
      }
      digest.Update(rec.bytes);
    }
    if (on_record) on_record(rec);

    if (rec.type != static_cast<uint8_t>(RecordType::kMvccCommit)) {
      ++r.data_records;
      continue;
    }
    ++r.commit_records;
    uint64_t commit_id = 0;
    DecodeCommitPayload(rec.payload(), &commit_id);  // shape checked by the reader
    if (chain_undecided) {
      chain_undecided = false;
      if (commit_id == 1 && options_.base_digest) chain = options_.base_digest;
    }
    // REC-9: commit ids start at 1 and continue by exactly one.
    if (commit_id == 0) {
      r.findings.push_back({"commit-order", rec.offset, rec.index,
                            "commit 0 is invalid (CommitIds start at 1)"});
    } else if (expected_commit && commit_id != *expected_commit) {
      r.findings.push_back({"commit-order", rec.offset, rec.index,
                            "commit " + std::to_string(commit_id) + " where " +
                                std::to_string(*expected_commit) + " was expected"});
    }
    expected_commit = commit_id + 1;
    if (!r.first_commit) r.first_commit = commit_id;
    r.last_commit = commit_id;
    ++r.write_sets;
    set.commit_id = commit_id;
    set.end_offset = rec.offset + rec.bytes.size();
    if (async) async->EndWriteSet(commit_id);
    if (chain) {
      chain = digest.Finish();
      set.digest_after = chain;
    }
    in_set = false;
    r.committed_end = set.end_offset;
    r.position.commit = commit_id;
    r.position.digest = chain;
    if (on_write_set && !on_write_set(set)) {
      r.stopped_early = true;
      break;
    }
  }
  if (!r.stopped_early) {
    r.stop = reader.stop();
    if (in_set) r.tail_records = set.records;
  }
  Result<uint64_t> size = file_->Size();
  r.file_size = size.ok() ? *size : reader.end_offset();
  r.tail_bytes = r.file_size > r.committed_end ? r.file_size - r.committed_end : 0;
  return r;
}

}  // namespace aero::wal
