// libFuzzer target for the WAL record reader and write-set scanner: any byte
// string must end in exactly one classified stop, never a crash or a hang,
// and every returned record must satisfy REC-1 (framing and CRC).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/string_file.h"
#include "common/coding.h"
#include "common/crc32.h"
#include "wal/record_format.h"
#include "wal/record_reader.h"
#include "wal/wal_scan.h"

namespace {

using aero::testing::StringFile;

// The fuzz input as a file read in odd-sized pieces.
StringFile Input(const uint8_t* data, size_t size) {
  return StringFile(std::string(reinterpret_cast<const char*>(data), size), "fuzz", 97);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StringFile f = Input(data, size);
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

  StringFile g = Input(data, size);
  aero::wal::ScanOptions opt;
  opt.base_digest = aero::history::SeedDigest({});
  aero::wal::ScanResult r = aero::wal::WalScanner(&g, opt).Run();
  if (r.committed_end > size || r.write_sets != r.commit_records) std::abort();
  return 0;
}
