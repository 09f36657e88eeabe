#include "history/async_chain.h"

#include <algorithm>

namespace aero::history {

AsyncDigestChain::AsyncDigestChain(const Digest& start) : last_(start) {
  sha_.Update(start.data(), start.size());
}

AsyncDigestChain::~AsyncDigestChain() {
  {
    std::lock_guard<std::mutex> l(mu_);
    finished_ = true;  // wakes a Get() that waits for what will not come
  }
  cv_.notify_all();
}

void AsyncDigestChain::UpdateSlow(std::string_view bytes, const ByteBlock* owner) {
  // Update added what fit; the chunk is full, or `bytes` did not fit.
  AddAll(pending_.bytes, bytes, owner, kChunkBytes, [this] { Flush(); });
}

void AsyncDigestChain::Keep(uint64_t commit) {
  const bool allowed = !ended_last_ || commit == *ended_last_ || commit > *ended_last_ ||
                       (ended_previous_ && commit == *ended_previous_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!allowed && kept_.count(commit) == 0) {
      unreachable_.insert(commit);
      ++violations_;
    } else if (any_commit_ && last_commit_ == commit) {
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
  if (pending_.bytes.size == 0 && pending_.marks.empty()) return;
  queue_.Push(std::move(pending_));
  pending_ = queue_.Reuse();
  pending_.bytes.Clear();
  pending_.marks.clear();
}

Digest AsyncDigestChain::Finish() {
  Flush();
  queue_.Finish();  // the worker has consumed every chunk
  std::lock_guard<std::mutex> l(mu_);
  finished_ = true;
  cv_.notify_all();
  return last_;
}

std::optional<Digest> AsyncDigestChain::Get(uint64_t commit) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] {
    return kept_.count(commit) > 0 || finished_ || unreachable_.count(commit) > 0 || commit < forgotten_below_;
  });
  auto it = kept_.find(commit);
  if (it == kept_.end()) return std::nullopt;
  return it->second;
}

void AsyncDigestChain::ForgetBelow(uint64_t commit) {
  {
    std::lock_guard<std::mutex> l(mu_);
    kept_.erase(kept_.begin(), kept_.lower_bound(commit));
    // Asked for again after this, a dropped commit is unreachable, not awaited.
    forgotten_below_ = std::max(forgotten_below_, commit);
  }
  cv_.notify_all();  // a Get waiting for a dropped commit returns at once
}

void AsyncDigestChain::Record(uint64_t commit, const Digest& d) {
  if (any_commit_) previous_ = std::make_pair(last_commit_, last_);
  last_commit_ = commit;
  last_ = d;
  any_commit_ = true;
  if (wanted_.erase(commit) > 0) kept_[commit] = d;
}

void AsyncDigestChain::Consume(Chunk& chunk) {
  std::vector<std::pair<uint64_t, Digest>> ended;
  auto end_set = [&](uint64_t commit) {
    const Digest at = sha_.Finish();
    sha_.Reset();
    sha_.Update(at.data(), at.size());
    ended.emplace_back(commit, at);
  };
  size_t pos = 0;  // bytes of the chunk hashed so far
  size_t next = 0;  // the next mark
  for (const ByteSpans::Span& span : chunk.bytes.spans) {
    const char* p = span.data;
    size_t n = span.size;
    while (next < chunk.marks.size() && chunk.marks[next].at <= pos + n) {
      const size_t k = chunk.marks[next].at - pos;
      sha_.Update(p, k);  // HIST-2
      p += k;
      n -= k;
      pos += k;
      end_set(chunk.marks[next].commit);
      ++next;
    }
    if (n > 0) sha_.Update(p, n);
    pos += n;
  }
  for (; next < chunk.marks.size(); ++next) end_set(chunk.marks[next].commit);  // at == pos
  chunk.bytes.Clear();  // the blocks go back to the reader's pool now
  if (ended.empty()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [commit, d] : ended) Record(commit, d);
  }
  cv_.notify_all();
}

}  // namespace aero::history
