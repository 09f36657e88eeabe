// One producer hands items (chunks of bytes) to one worker thread through a
// bounded queue, so that hashing or writing runs on the other core while the
// producer reads and checks. At most `max_queued` items wait and, when the
// queue is given a way to weigh them, at most `max_bytes` of them are in
// flight: waiting, or being consumed, since an item's bytes (a reference to
// a read block) are held until the worker is done with it. One item always
// may go when nothing is in flight: an item as large as a record, REC-2, is
// never refused. So memory is flat whatever the input size and grows with
// the largest record only once, not by the queue's depth; consumed items come back through
// Reuse() with their buffers' capacity, so a long stream allocates nothing
// after warm-up.
// The pipelines built on it: AsyncSha256, history::AsyncDigestChain,
// BackgroundWriter.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace aero {

template <typename Item>
class WorkerQueue {
 public:
  using Consume = std::function<void(Item&)>;
  using Weigh = std::function<size_t(const Item&)>;

  explicit WorkerQueue(Consume consume, size_t max_queued = 4, size_t max_bytes = 0, Weigh weigh = nullptr)
      : consume_(std::move(consume)),
        max_queued_(max_queued),
        max_bytes_(max_bytes),
        weigh_(std::move(weigh)),
        worker_([this] { Work(); }) {}
  // Stops the worker; what is still queued is dropped.
  ~WorkerQueue() { Stop(/*drain=*/false); }
  WorkerQueue(const WorkerQueue&) = delete;
  WorkerQueue& operator=(const WorkerQueue&) = delete;

  // Producer: waits while the queue is full, then queues `item`.
  void Push(Item item) {
    const size_t bytes = weigh_ ? weigh_(item) : 0;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return stopped_ ||
             (queue_.size() < max_queued_ &&
              (!weigh_ || in_flight_bytes_ == 0 || in_flight_bytes_ + bytes <= max_bytes_));
    });
    if (stopped_) return;
    in_flight_bytes_ += bytes;
    queue_.push_back(std::move(item));
    l.unlock();
    cv_.notify_all();
  }

  // Producer: an item the worker is done with, or a new one.
  Item Reuse() {
    std::lock_guard<std::mutex> l(mu_);
    if (spare_.empty()) return Item{};
    Item item = std::move(spare_.back());
    spare_.pop_back();
    return item;
  }

  // Waits until the worker has consumed every item pushed, then stops it.
  // Everything the worker wrote happens-before Finish() returns.
  void Finish() { Stop(/*drain=*/true); }

 private:
  void Stop(bool drain) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (drain) {
        done_ = true;
      } else {
        stopped_ = true;
      }
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  void Work() {
    for (;;) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return !queue_.empty() || done_ || stopped_; });
      if (stopped_ || queue_.empty()) {
        stopped_ = true;  // a later Push returns at once
        l.unlock();
        cv_.notify_all();
        return;
      }
      Item item = std::move(queue_.front());
      queue_.pop_front();
      const size_t bytes = weigh_ ? weigh_(item) : 0;  // before consume_, which may empty it
      l.unlock();
      cv_.notify_all();  // a queue slot is free
      consume_(item);
      l.lock();
      in_flight_bytes_ -= bytes;  // REC-12: its bytes are let go only now
      if (spare_.size() < max_queued_) spare_.push_back(std::move(item));
      if (bytes > 0) {
        l.unlock();
        cv_.notify_all();
      }
    }
  }

  Consume consume_;
  const size_t max_queued_;
  const size_t max_bytes_;  // with weigh_: the most in_flight_bytes_ may reach (one item always may)
  const Weigh weigh_;
  size_t in_flight_bytes_ = 0;  // weigh_ of the items in queue_ and of the one being consumed
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::vector<Item> spare_;
  bool done_ = false;     // no more items: drain, then stop
  bool stopped_ = false;  // stop now, drop the rest
  std::thread worker_;    // last: started after every other member exists
};

// For byte streams: appends `bytes` to the producer's `pending` chunk and
// hands the chunk to `q` each time it holds `chunk_bytes`; FlushChunk hands
// over what is left. `pending` comes back empty, with a reused buffer.
inline void FlushChunk(WorkerQueue<std::string>& q, std::string& pending, size_t chunk_bytes) {
  if (pending.empty()) return;
  q.Push(std::move(pending));
  pending = q.Reuse();
  pending.clear();
  pending.reserve(chunk_bytes);
}

inline void FeedChunks(WorkerQueue<std::string>& q, std::string& pending, std::string_view bytes,
                       size_t chunk_bytes) {
  while (!bytes.empty()) {
    const size_t k = std::min(bytes.size(), chunk_bytes - pending.size());
    pending.append(bytes.data(), k);
    bytes.remove_prefix(k);
    if (pending.size() == chunk_bytes) FlushChunk(q, pending, chunk_bytes);
  }
}

}  // namespace aero
