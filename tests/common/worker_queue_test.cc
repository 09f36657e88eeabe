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

TEST_CASE("worker queue: weighed items wait beyond max_bytes in flight, the one being consumed included, and one item always may, however large") {
  std::promise<void> gate, entered;
  std::shared_future<void> open = gate.get_future().share();
  std::future<void> first_taken = entered.get_future();
  std::atomic<int> consumed{0};
  WorkerQueue<std::string> q([&](std::string& item) {
    if (consumed.load() == 0) entered.set_value();  // the first item only: consumed counts after it
    open.wait();
    item.clear();  // as the pipelines do: the weight is taken before, not after
    ++consumed;
  }, 4, 5, [](const std::string& s) { return s.size(); });
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (const char* item : {"aaa", "bb", "c", "0123456789"}) {
      q.Push(item);
      ++pushed;
    }
  });
  // The worker holds "aaa" (its 3 bytes are still in flight: the item's
  // block would be); "bb" makes 5; "c" would make 6 and waits.
  first_taken.wait();
  while (pushed.load() < 2) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // time for a wrong third push
  CHECK(pushed.load() == 2);
  CHECK(consumed.load() == 0);
  gate.set_value();
  producer.join();  // "0123456789" (10 > 5) went once nothing was in flight
  q.Finish();
  CHECK(pushed.load() == 4);
  CHECK(consumed.load() == 4);
}

TEST_CASE("worker queue: an item as large as max_bytes waits until the one being consumed is done, not only taken") {
  // Two large items (a record each, REC-2) are never held at once by the
  // queue: the second goes only after the worker has let go of the first.
  std::promise<void> gate, entered;
  std::shared_future<void> open = gate.get_future().share();
  std::future<void> first_taken = entered.get_future();
  std::atomic<int> consumed{0};
  WorkerQueue<std::string> q([&](std::string& item) {
    if (consumed.load() == 0) entered.set_value();
    open.wait();
    item.clear();
    ++consumed;
  }, 4, 5, [](const std::string& s) { return s.size(); });
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (const char* item : {"0123456789", "abcdefghij"}) {
      q.Push(item);
      ++pushed;
    }
  });
  first_taken.wait();  // the worker took the first item off the queue, and holds it
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(pushed.load() == 1);
  gate.set_value();
  producer.join();
  q.Finish();
  CHECK(consumed.load() == 2);
}
