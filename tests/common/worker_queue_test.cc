// The producer/worker queue under the hashing and writing pipelines
// (lib/common/worker_queue.h).
#include <doctest/doctest.h>

#include <string>
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
