#include "common/async_sha256.h"

#include <cstring>

namespace aero {

AsyncSha256::AsyncSha256() : worker_([this] { Work(); }) { pending_.reserve(kChunkBytes); }

AsyncSha256::~AsyncSha256() {
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void AsyncSha256::Update(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t k = std::min(n, kChunkBytes - pending_.size());
    pending_.append(p, k);
    p += k;
    n -= k;
    if (pending_.size() == kChunkBytes) Flush();
  }
}

void AsyncSha256::Flush() {
  if (pending_.empty()) return;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.size() < kMaxQueued; });
  queue_.push_back(std::move(pending_));
  l.unlock();
  cv_.notify_all();
  pending_ = std::string();
  pending_.reserve(kChunkBytes);
}

void AsyncSha256::Work() {
  for (;;) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !queue_.empty() || done_; });
    if (queue_.empty()) return;
    std::string chunk = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    cv_.notify_all();
    sha_.Update(chunk);
  }
}

Sha256Digest AsyncSha256::Finish() {
  Flush();
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  worker_.join();  // drains the queue first
  return sha_.Finish();
}

}  // namespace aero
