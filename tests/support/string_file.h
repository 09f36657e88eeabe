// A ReadableFile over a string, for the tests and the fuzz targets. With a
// stride, reads come back in odd sizes (1 + (pos % 7) * stride bytes at
// most), so that a reader's buffering across short reads is exercised.
// ReadAt follows the same rule, and may be called from several threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/fs.h"

namespace aero::testing {

class StringFile final : public PositionalReadableFile {
 public:
  explicit StringFile(std::string data, std::string path = "mem.log", size_t stride = 0)
      : data_(std::move(data)), path_(std::move(path)), stride_(stride) {}
  bool SupportsReadAt() const override { return true; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    return Copy(offset, buf, n);
  }
  Result<uint64_t> Size() override { return data_.size(); }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.is_regular = true;
    i.size = data_.size();
    return i;
  }
  const std::string& path() const override { return path_; }

 private:
  size_t Copy(uint64_t at, char* buf, size_t n) const {
    if (at >= data_.size()) return 0;
    size_t k = std::min<size_t>(n, data_.size() - at);
    if (stride_ > 0) k = std::min<size_t>(k, 1 + (at % 7) * stride_);
    std::memcpy(buf, data_.data() + at, k);
    return k;
  }

  std::string data_;
  std::string path_;
  size_t stride_;
};

}  // namespace aero::testing
