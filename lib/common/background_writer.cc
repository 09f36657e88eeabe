#include "common/background_writer.h"

#include <algorithm>

namespace aero {

BackgroundWriter::BackgroundWriter(Sink sink) : sink_(std::move(sink)) {
  pending_.reserve(kChunkBytes);
  worker_ = std::thread([this] { Work(); });
}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BackgroundWriter::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t k = std::min(bytes.size(), kChunkBytes - pending_.size());
    pending_.append(bytes.data(), k);
    bytes.remove_prefix(k);
    if (pending_.size() == kChunkBytes) Flush();
  }
}

void BackgroundWriter::Flush() {
  if (pending_.empty()) return;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.size() < kMaxQueued || !error_.ok(); });
  if (error_.ok()) queue_.push_back(std::move(pending_));
  std::string next;
  if (!spare_.empty()) {
    next = std::move(spare_.back());
    spare_.pop_back();
  }
  l.unlock();
  cv_.notify_all();
  next.clear();
  next.reserve(kChunkBytes);
  pending_ = std::move(next);
}

Status BackgroundWriter::Finish() {
  Flush();
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

void BackgroundWriter::Work() {
  for (;;) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !queue_.empty() || done_ || cancelled_; });
    if (cancelled_ || queue_.empty()) return;
    std::string chunk = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    cv_.notify_all();
    Status s = sink_(chunk);
    l.lock();
    if (!s.ok() && error_.ok()) {
      error_ = s;
      queue_.clear();
    }
    if (spare_.size() < kMaxQueued) spare_.push_back(std::move(chunk));
    l.unlock();
    cv_.notify_all();
  }
}

}  // namespace aero
