#include "history/async_chain.h"

#include <algorithm>

namespace aero::history {

AsyncDigestChain::AsyncDigestChain(const Digest& start) : last_(start) {
  pending_.bytes.reserve(kChunkBytes);
  worker_ = std::thread([this] { Work(); });
}

AsyncDigestChain::~AsyncDigestChain() {
  {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void AsyncDigestChain::Update(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t k = std::min(bytes.size(), kChunkBytes - pending_.bytes.size());
    pending_.bytes.append(bytes.data(), k);
    bytes.remove_prefix(k);
    if (pending_.bytes.size() == kChunkBytes) Flush();
  }
}

void AsyncDigestChain::EndWriteSet(uint64_t commit) {
  pending_.marks.push_back({pending_.bytes.size(), commit});
}

void AsyncDigestChain::Keep(uint64_t commit) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (any_commit_ && last_commit_ == commit) {
      kept_[commit] = last_;
    } else if (previous_ && previous_->first == commit) {
      kept_[commit] = previous_->second;
    } else {
      wanted_.insert(commit);
    }
  }
  cv_.notify_all();
  Flush();
}

void AsyncDigestChain::Flush() {
  if (pending_.bytes.empty() && pending_.marks.empty()) return;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.size() < kMaxQueued || cancelled_ || finished_; });
  queue_.push_back(std::move(pending_));
  Chunk next;
  if (!spare_.empty()) {
    next.bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  l.unlock();
  cv_.notify_all();
  next.bytes.clear();
  next.bytes.reserve(kChunkBytes);
  pending_ = std::move(next);
}

Digest AsyncDigestChain::Finish() {
  Flush();
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();  // the worker drains the queue first
  std::lock_guard<std::mutex> l(mu_);
  return last_;
}

std::optional<Digest> AsyncDigestChain::Get(uint64_t commit) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return kept_.count(commit) > 0 || finished_; });
  auto it = kept_.find(commit);
  if (it == kept_.end()) return std::nullopt;
  return it->second;
}

void AsyncDigestChain::Record(uint64_t commit, const Digest& d) {
  if (any_commit_) previous_ = std::make_pair(last_commit_, last_);
  last_commit_ = commit;
  last_ = d;
  any_commit_ = true;
  if (wanted_.erase(commit) > 0) kept_[commit] = d;
}

void AsyncDigestChain::Work() {
  Sha256 sha;
  Digest at;
  {
    std::lock_guard<std::mutex> l(mu_);
    at = last_;
  }
  sha.Update(at.data(), at.size());
  std::vector<std::pair<uint64_t, Digest>> ended;
  for (;;) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !queue_.empty() || done_ || cancelled_; });
    if (cancelled_ || queue_.empty()) {
      finished_ = true;
      l.unlock();
      cv_.notify_all();
      return;
    }
    Chunk chunk = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    cv_.notify_all();

    ended.clear();
    size_t pos = 0;
    for (const Mark& m : chunk.marks) {
      sha.Update(chunk.bytes.data() + pos, m.at - pos);  // HIST-2
      at = sha.Finish();
      sha.Reset();
      sha.Update(at.data(), at.size());
      ended.emplace_back(m.commit, at);
      pos = m.at;
    }
    sha.Update(chunk.bytes.data() + pos, chunk.bytes.size() - pos);

    l.lock();
    for (const auto& [commit, d] : ended) Record(commit, d);
    if (spare_.size() < kMaxQueued) spare_.push_back(std::move(chunk.bytes));
    l.unlock();
    cv_.notify_all();
  }
}

}  // namespace aero::history
