// The producer/worker queue under the hashing and writing pipelines
// (lib/common/worker_queue.h).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/worker_queue.h"

using namespace aero;

TEST_CASE("worker queue: every item consumed once, in order, and Finish waits for all") {
  std::vector<int> seen;  // the worker's until Finish()
  WorkerQueue<std::vector<int>> q([&](std::vector<int>& item) {
    seen.insert(seen.end(), item.begin(), item.end());
  }, 2);
  int reused = 0;
  for (int i = 0; i < 1000; ++i) {
    std::vector<int> item = q.Reuse();
    if (item.capacity() >= 3) ++reused;  // a consumed item keeps its buffer
    item.assign({3 * i, 3 * i + 1, 3 * i + 2});
    q.Push(std::move(item));
  }
  q.Finish();
  REQUIRE(seen.size() == 3000);
  for (int i = 0; i < 3000; ++i) CHECK(seen[static_cast<size_t>(i)] == i);
  CHECK(reused > 0);
  q.Push({7});  // after Finish: dropped, returns at once
  CHECK(seen.size() == 3000);
}

// A queue of strings weighed by their size, at most `max_bytes` in flight,
// whose worker holds the first item it takes until Open(), and empties each
// item as the pipelines do (the weight is taken before, not after); a
// producer thread pushes `items` in order and counts them.
class GatedQueue {
 public:
  GatedQueue(size_t max_bytes, std::vector<std::string> items)
      : q_([this](std::string& item) {
             if (consumed.load() == 0) entered_.set_value();  // the first item only
             open_.wait();
             item.clear();
             ++consumed;
           }, 4, max_bytes, [](const std::string& s) { return s.size(); }),
        producer_([this, items] {
          for (const std::string& item : items) {
            q_.Push(item);
            ++pushed;
          }
        }) {}
  // Waits until the worker has taken the first item (it holds it), then
  // gives the others time to push what they must not.
  void WaitFirstTaken(int at_least_pushed) {
    first_taken_.wait();
    while (pushed.load() < at_least_pushed) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  void OpenAndFinish() {
    gate_.set_value();
    producer_.join();
    q_.Finish();
  }
  std::atomic<int> pushed{0}, consumed{0};

 private:
  std::promise<void> gate_, entered_;
  std::shared_future<void> open_ = gate_.get_future().share();
  std::future<void> first_taken_ = entered_.get_future();
  WorkerQueue<std::string> q_;
  std::thread producer_;  // last: started once everything else exists
};

TEST_CASE("worker queue: weighed items wait beyond max_bytes in flight, the one being consumed included, and one item always may, however large") {
  GatedQueue g(5, {"aaa", "bb", "c", "0123456789"});
  // The worker holds "aaa" (its 3 bytes are still in flight: the item's
  // block would be); "bb" makes 5; "c" would make 6 and waits.
  g.WaitFirstTaken(2);
  CHECK(g.pushed.load() == 2);
  CHECK(g.consumed.load() == 0);
  g.OpenAndFinish();  // "0123456789" (10 > 5) went once nothing was in flight
  CHECK(g.pushed.load() == 4);
  CHECK(g.consumed.load() == 4);
}

TEST_CASE("worker queue: an item as large as max_bytes waits until the one being consumed is done, not only taken") {
  // Two large items (a record each, REC-2) are never held at once by the
  // queue: the second goes only after the worker has let go of the first.
  GatedQueue g(5, {"0123456789", "abcdefghij"});
  g.WaitFirstTaken(1);
  CHECK(g.pushed.load() == 1);
  g.OpenAndFinish();
  CHECK(g.consumed.load() == 2);
}
