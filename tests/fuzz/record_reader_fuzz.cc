// libFuzzer target for the WAL record reader and write-set scanner: any byte
// string must end in exactly one classified stop, never a crash or a hang,
// and every returned record must satisfy REC-1 (framing and CRC).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/coding.h"
#include "common/crc32.h"
#include "wal/record_format.h"
#include "wal/record_reader.h"
#include "wal/wal_scan.h"

namespace {

class MemFile final : public aero::ReadableFile {
 public:
  MemFile(const uint8_t* d, size_t n) : data_(reinterpret_cast<const char*>(d), n) {}
  aero::Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= data_.size()) return size_t{0};
    // Odd read sizes exercise the reader's buffering.
    size_t k = std::min<size_t>({n, data_.size() - pos_, 1 + (pos_ % 7) * 97});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  aero::Status Seek(uint64_t off) override {
    pos_ = off;
    return aero::Status::Ok();
  }
  aero::Result<uint64_t> Size() override { return data_.size(); }
  aero::Result<aero::FileInfo> Info() override {
    aero::FileInfo i;
    i.size = data_.size();
    return i;
  }
  const std::string& path() const override { return path_; }

 private:
  std::string data_;
  std::string path_ = "fuzz";
  uint64_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemFile f(data, size);
  aero::wal::RecordReader reader(&f);
  aero::wal::Record rec;
  uint64_t end = 0;
  while (reader.Next(&rec)) {
    if (rec.offset != end) std::abort();
    if (rec.bytes.size() < aero::wal::kMinRecordBytes) std::abort();
    uint32_t stored = aero::DecodeFixed32(rec.bytes.data() + rec.bytes.size() - 4);
    if (stored != aero::Crc32(rec.bytes.data(), rec.bytes.size() - 4)) std::abort();
    end += rec.bytes.size();
  }
  if (reader.stop().kind == aero::wal::StopKind::kCleanEnd && end != size) std::abort();
  if (reader.stop().offset > size) std::abort();

  MemFile g(data, size);
  aero::wal::ScanOptions opt;
  opt.base_digest = aero::history::SeedDigest({});
  aero::wal::ScanResult r = aero::wal::WalScanner(&g, opt).Run();
  if (r.committed_end > size || r.write_sets != r.commit_records) std::abort();
  return 0;
}
