#include "common/progress.h"

#include <algorithm>

namespace aero {

void ProgressCounter::Add(uint64_t n) { Report(done_.fetch_add(n) + n); }

void ProgressCounter::Set(uint64_t done) {
  done_.store(done);
  if (!fn_) return;
  std::lock_guard<std::mutex> lock(mu_);
  reported_ = done;
  fn_(std::min(done, total_), total_);  // OPS-7: done <= total
}

void ProgressCounter::Report(uint64_t done) {
  if (!fn_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (done < reported_) return;  // two readers at once (verify): never backwards
  reported_ = done;
  fn_(std::min(done, total_), total_);  // OPS-7: done <= total
}

namespace {

class Counting final : public ReadableFile {
 public:
  Counting(std::unique_ptr<ReadableFile> inner, ProgressCounter* counter)
      : inner_(std::move(inner)), counter_(counter) {}
  Result<size_t> Read(char* buf, size_t n) override {
    Result<size_t> got = inner_->Read(buf, n);
    if (got.ok() && *got > 0) counter_->Add(*got);
    return got;
  }
  Status Seek(uint64_t offset) override { return inner_->Seek(offset); }
  bool SupportsReadAt() const override { return inner_->SupportsReadAt(); }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    Result<size_t> got = inner_->ReadAt(offset, buf, n);
    if (got.ok() && *got > 0) counter_->Add(*got);
    return got;
  }
  Result<uint64_t> Size() override { return inner_->Size(); }
  Result<FileInfo> Info() override { return inner_->Info(); }
  Status Sync() override { return inner_->Sync(); }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::unique_ptr<ReadableFile> inner_;
  ProgressCounter* counter_;
};

}  // namespace

std::unique_ptr<ReadableFile> CountReads(std::unique_ptr<ReadableFile> inner,
                                           ProgressCounter* counter) {
  return std::make_unique<Counting>(std::move(inner), counter);
}

}  // namespace aero
