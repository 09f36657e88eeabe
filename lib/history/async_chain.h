// HIST-2 on a worker thread: the history digest chain over a stream of
// records, hashed on the other core while the caller reads, checks CRCs and
// writes. Every byte is hashed once (SEG-7 keeps the segment's seal off a
// plain body for that reason: digest_after binds it).
//
// The producer (one thread) calls Update() with the bytes of each record and
// EndWriteSet() at each commit record. Bytes go to the worker in hand-offs of
// about kChunkBytes through a WorkerQueue (at most four, and 4 MiB, waiting), so memory
// is flat whatever the input size. Bytes that lie in a refcounted read block
// (Update's `owner`, common/byte_spans.h) are handed over as a reference to
// that block, not copied; others are copied into the hand-off. The worker records H(c) only for the commits
// asked for with Keep(), and always the latest one (Finish()).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_spans.h"
#include "common/worker_queue.h"
#include "history/digest.h"

namespace aero::history {

class AsyncDigestChain {
 public:
  static constexpr size_t kChunkBytes = 1 << 20;

  // `start` is H(base): the digest before the first write set that follows.
  explicit AsyncDigestChain(const Digest& start);
  ~AsyncDigestChain();  // stops the worker; pending work is dropped
  AsyncDigestChain(const AsyncDigestChain&) = delete;
  AsyncDigestChain& operator=(const AsyncDigestChain&) = delete;

  // Producer only.
  // `owner` (nullable): the block holding `bytes`; the worker keeps a
  // reference instead of a copy.
  void Update(std::string_view bytes, const ByteBlock* owner = nullptr) {
    // Inline: once per record; a record in the last span's block only extends it.
    const size_t k = pending_.bytes.Add(bytes, owner, kChunkBytes);
    if (k < bytes.size() || pending_.bytes.Full(kChunkBytes)) UpdateSlow(bytes.substr(k), owner);
  }
  void EndWriteSet(uint64_t commit) {  // the bytes so far end write set `commit`
    pending_.marks.push_back({pending_.bytes.size, commit});
    ended_previous_ = ended_last_;
    ended_last_ = commit;
  }
  // H(commit) will be asked for with Get(). `commit` is the last or the
  // second-to-last write set ended so far, or one not ended yet. Also hands
  // every byte so far to the worker, so that Get() on another thread cannot
  // wait for bytes the producer still holds.
  void Keep(uint64_t commit);
  // Waits for everything; H(last ended write set), or `start` if none.
  Digest Finish();

  // Any thread. H(commit) once the worker has it; nullopt if the chain
  // finished without reaching `commit`. Only for commits passed to Keep().
  // The contract is checked, not trusted: Keep() of a commit older than the
  // last two ended (the worker may have passed it unrecorded) makes Get()
  // of it return nullopt at once, instead of waiting for ever.
  std::optional<Digest> Get(uint64_t commit);
  // Any thread. Drops the digests kept for commits below `commit`: asked
  // for, got, and not needed again (LOG-33: memory does not grow with the
  // number of Keep calls). A Get of a dropped commit says nullopt at once.
  void ForgetBelow(uint64_t commit);
  // How many digests are kept (tests).
  size_t kept() const {
    std::lock_guard<std::mutex> l(mu_);
    return kept_.size();
  }
  // Keep() calls that broke the contract (tests assert there are none).
  uint64_t contract_violations() const {
    std::lock_guard<std::mutex> l(mu_);
    return violations_;
  }

 private:
  struct Mark {
    size_t at;  // bytes of the chunk that belong to write sets up to `commit`
    uint64_t commit;
  };
  struct Chunk {
    ByteSpans bytes;
    std::vector<Mark> marks;
  };
  void Flush();
  void UpdateSlow(std::string_view bytes, const ByteBlock* owner);
  void Consume(Chunk& chunk);  // worker
  void Record(uint64_t commit, const Digest& d);  // worker, under mu_

  Chunk pending_;  // the producer's
  // The producer's last two ended write sets (the Keep contract).
  std::optional<uint64_t> ended_last_, ended_previous_;
  Sha256 sha_;     // the worker's: the chain's running hash
  // Under mu_: what the worker has reached.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;  // no more results will come
  uint64_t last_commit_ = 0;
  bool any_commit_ = false;
  Digest last_{};
  std::optional<std::pair<uint64_t, Digest>> previous_;  // the one before last_
  std::set<uint64_t> wanted_;
  std::map<uint64_t, Digest> kept_;
  std::set<uint64_t> unreachable_;  // kept against the contract: Get says nullopt
  uint64_t forgotten_below_ = 0;     // ForgetBelow: kept digests below it are dropped
  uint64_t violations_ = 0;
  WorkerQueue<Chunk> queue_{[this](Chunk& c) { Consume(c); }, 4, 4 * kChunkBytes,
                            [](const Chunk& c) { return c.bytes.size; }};  // last: stopped first
};

}  // namespace aero::history
