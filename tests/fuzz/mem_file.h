// The fuzz targets' input as a ReadableFile. Reads come back in odd sizes
// (1 + (pos % 7) * stride bytes at most), so that every target exercises its
// reader's buffering across short reads; ReadAt too, from several threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/fs.h"

namespace aero::fuzz {

class MemFile final : public ReadableFile {
 public:
  MemFile(const uint8_t* d, size_t n, size_t stride, std::string path)
      : data_(reinterpret_cast<const char*>(d), n), stride_(stride), path_(std::move(path)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= data_.size()) return size_t{0};
    const size_t k = std::min<size_t>({n, data_.size() - pos_, 1 + (pos_ % 7) * stride_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Status Seek(uint64_t off) override {
    pos_ = off;
    return Status::Ok();
  }
  // Positional reads, in the same odd sizes, from any thread.
  bool SupportsReadAt() const override { return true; }
  Result<size_t> ReadAt(uint64_t off, char* buf, size_t n) override {
    if (off >= data_.size()) return size_t{0};
    const size_t k = std::min<size_t>({n, data_.size() - off, 1 + (off % 7) * stride_});
    std::memcpy(buf, data_.data() + off, k);
    return k;
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
  std::string data_;
  size_t stride_;
  std::string path_;
  uint64_t pos_ = 0;
};

}  // namespace aero::fuzz
