#include "wal/wal_scan.h"

#include "wal/record.h"

namespace aero::wal {

namespace {

// One Run of the scanner, in named steps: a record's sequence is checked
// (REC-8), the record joins the open write set (opening one if needed) and is
// hashed into the chain (HIST-2), and a commit record closes the set (REC-9).
class ScanPass {
 public:
  ScanPass(const ScanOptions& options, ScanResult* r) : options_(options), r_(r) {
    r_->committed_end = options_.start_offset;
    r_->position.commit = options_.base_commit.value_or(0);
    r_->position.digest = options_.base_commit ? options_.base_digest : std::nullopt;
    if (options_.base_commit) expected_commit_ = *options_.base_commit + 1;
    async_ = options_.base_commit ? options_.chain : nullptr;
    if (async_) r_->position.digest.reset();
    chain_ = r_->position.digest;
    chain_undecided_ = !options_.base_commit;  // HIST-4: decided at the first commit
  }

  void Count(const Record& rec) {
    ++r_->records;
    if (!r_->first_sequence) r_->first_sequence = rec.sequence;
    r_->last_sequence = rec.sequence;
  }

  void CheckSequence(const Record& rec) {
    // REC-8: +1, or a restart at 1 on a write-set boundary; never 0.
    if (rec.sequence == 0) {
      r_->findings.push_back({"sequence", rec.offset, rec.index, "sequence number 0 is invalid"});
    } else if (rec.sequence > kMaxSequence) {  // REC-8: it has no successor
      r_->findings.push_back({"sequence", rec.offset, rec.index,
                              "sequence number " + std::to_string(rec.sequence) +
                                  " is invalid (the largest is 2^64-2)"});
    } else if (prev_sequence_ && rec.sequence != *prev_sequence_ + 1 &&
               !(rec.sequence == 1 && !in_set_)) {
      r_->findings.push_back({"sequence", rec.offset, rec.index,
                              "sequence " + std::to_string(rec.sequence) + " follows " +
                                  std::to_string(*prev_sequence_)});
    }
    prev_sequence_ = rec.sequence;
  }

  void AddToWriteSet(const Record& rec) {
    if (!in_set_) {
      in_set_ = true;
      set_ = WriteSet{};
      set_.start_offset = rec.offset;
      set_.first_index = rec.index;
      set_.first_sequence = rec.sequence;
      if (chain_) digest_.Begin(*chain_);
    }
    ++set_.records;
    set_.last_sequence = rec.sequence;
    Hash(rec);
  }

  // A commit record closes the open write set; false for any other record.
  bool CloseOnCommit(const Record& rec) {
    if (rec.type != static_cast<uint8_t>(RecordType::kMvccCommit)) {
      ++r_->data_records;
      return false;
    }
    ++r_->commit_records;
    uint64_t commit_id = 0;
    DecodeCommitPayload(rec.payload(), &commit_id);  // shape checked by the reader
    if (chain_undecided_) {
      chain_undecided_ = false;
      if (commit_id == 1 && options_.base_digest) chain_ = options_.base_digest;
    }
    CheckCommitOrder(rec, commit_id);
    if (!r_->first_commit) r_->first_commit = commit_id;
    r_->last_commit = commit_id;
    ++r_->write_sets;
    set_.commit_id = commit_id;
    set_.end_offset = rec.offset + rec.bytes.size();
    if (async_) async_->EndWriteSet(commit_id);
    if (chain_) {
      chain_ = digest_.Finish();
      set_.digest_after = chain_;
    }
    in_set_ = false;
    r_->committed_end = set_.end_offset;
    r_->position.commit = commit_id;
    r_->position.digest = chain_;
    return true;
  }

  const WriteSet& set() const { return set_; }

  void Finish(const RecordReader& reader, ReadableFile* file) {
    if (!r_->stopped_early) {
      r_->stop = reader.stop();
      if (in_set_) r_->tail_records = set_.records;
    }
    Result<uint64_t> size = file->Size();
    r_->file_size = size.ok() ? *size : reader.end_offset();
    r_->tail_bytes = r_->file_size > r_->committed_end ? r_->file_size - r_->committed_end : 0;
  }

 private:
  void Hash(const Record& rec) {
    if (async_) {
      async_->Update(rec.bytes, rec.owner);
    } else if (chain_ || chain_undecided_) {
      // While undecided we cannot know yet whether this set is commit 1; keep
      // hashing from the seed so that no bytes need buffering.
      if (chain_undecided_ && set_.records == 1 && options_.base_digest) {
        digest_.Begin(*options_.base_digest);
      }
      digest_.Update(rec.bytes);
    }
  }

  void CheckCommitOrder(const Record& rec, uint64_t commit_id) {
    // REC-9: commit ids start at 1 and continue by exactly one.
    if (commit_id == 0) {
      r_->findings.push_back({"commit-order", rec.offset, rec.index,
                              "commit 0 is invalid (CommitIds start at 1)"});
    } else if (commit_id > kMaxCommitId) {  // REC-9: it has no successor
      r_->findings.push_back({"commit-order", rec.offset, rec.index,
                              "commit " + std::to_string(commit_id) + " is invalid (the largest CommitId is 2^64-2)"});
    } else if (expected_commit_ && commit_id != *expected_commit_) {
      r_->findings.push_back({"commit-order", rec.offset, rec.index,
                              "commit " + std::to_string(commit_id) + " where " +
                                  std::to_string(*expected_commit_) + " was expected"});
    }
    // 2^64-1 has no successor: the next commit is not expected (one finding).
    expected_commit_ = commit_id <= kMaxCommitId ? std::optional<uint64_t>(commit_id + 1) : std::nullopt;
  }

  const ScanOptions& options_;
  ScanResult* r_;
  std::optional<uint64_t> expected_commit_;
  history::AsyncDigestChain* async_ = nullptr;
  std::optional<history::Digest> chain_;
  bool chain_undecided_ = false;
  history::DigestChain digest_;
  bool in_set_ = false;
  WriteSet set_;
  std::optional<uint64_t> prev_sequence_;
};

}  // namespace

WalScanner::WalScanner(ReadableFile* file, ScanOptions options)
    : file_(file), options_(std::move(options)) {}

ScanResult WalScanner::Run(const RecordFn& on_record, const WriteSetFn& on_write_set) {
  ScanResult r;
  ScanPass pass(options_, &r);
  RecordReader reader(file_, options_.start_offset, options_.first_index);
  Record rec;
  while (reader.Next(&rec)) {
    pass.Count(rec);
    pass.CheckSequence(rec);
    pass.AddToWriteSet(rec);
    if (on_record) on_record(rec);
    if (!pass.CloseOnCommit(rec)) continue;
    if (on_write_set && !on_write_set(pass.set())) {
      r.stopped_early = true;
      break;
    }
  }
  pass.Finish(reader, file_);
  return r;
}

}  // namespace aero::wal
