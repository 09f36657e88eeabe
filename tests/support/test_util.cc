#include "support/test_util.h"

#include <stdlib.h>
#include <zstd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "common/coding.h"
#include "common/crc32.h"
#include "wal/record.h"

namespace aero::testing {

namespace fsys = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/aerodb-test.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fsys::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << bytes;
}

bool FileExists(const std::string& path) { return fsys::exists(path); }

void FlipBit(std::string* bytes, size_t offset, int bit) {
  (*bytes)[offset] = static_cast<char>((*bytes)[offset] ^ (1 << bit));
}

void FlipBitInFile(const std::string& path, uint64_t offset, int bit) {
  std::string b = ReadFile(path);
  FlipBit(&b, offset, bit);
  WriteFile(path, b);
}

void TruncateFile(const std::string& path, uint64_t size) { fsys::resize_file(path, size); }

namespace {

// What libzstd makes of `zst`: refused, cut short, or these bytes.
struct ZstdDecoded {
  bool refused = false;
  bool cut = false;
  std::string bytes;
};

ZstdDecoded DecodeZstd(const std::string& zst) {
  ZstdDecoded d;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_inBuffer in{zst.data(), zst.size(), 0};
  std::string buf(64 * 1024, '\0');
  size_t ret = 1;
  for (;;) {
    ZSTD_outBuffer out{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(ctx.get(), &out, &in);
    if (ZSTD_isError(ret)) {
      d.refused = true;
      return d;
    }
    d.bytes.append(buf.data(), out.pos);
    // Every input byte taken and nothing more held back by the decoder.
    if (in.pos == in.size && out.pos < out.size) break;
  }
  d.cut = ret != 0;
  return d;
}

}  // namespace

size_t ZstdDamagingFlip(const std::string& zst, size_t from, int bit) {
  const ZstdDecoded whole = DecodeZstd(zst);
  if (whole.refused || whole.cut) throw std::runtime_error("ZstdDamagingFlip: not a whole zstd frame");
  for (size_t at = from; at < zst.size(); ++at) {
    std::string bad = zst;
    FlipBit(&bad, at, bit);
    const ZstdDecoded d = DecodeZstd(bad);
    if (d.refused || (!d.cut && d.bytes.size() == whole.bytes.size() && d.bytes != whole.bytes)) {
      return at;
    }
  }
  throw std::runtime_error("ZstdDamagingFlip: no flip from " + std::to_string(from) + " damages the frame");
}

void FixRecordCrc(std::string* bytes, size_t offset) {
  uint32_t len = DecodeFixed32(bytes->data() + offset);
  uint32_t crc = Crc32(bytes->data() + offset, size_t{len} - 4);
  EncodeFixed32(bytes->data() + offset + len - 4, crc);
}

WalBuilder& WalBuilder::Data(uint8_t type, const std::string& collection,
                             const std::string& id, const std::string& body) {
  wal::DataPayload p{collection, id, collection, "v1", body};
  return Raw(type, wal::EncodeDataPayload(p));
}

WalBuilder& WalBuilder::Commit(uint64_t commit_id) {
  return Raw(3, wal::EncodeCommitPayload(commit_id));
}

WalBuilder& WalBuilder::Raw(uint8_t type, const std::string& payload) {
  offsets_.push_back(bytes_.size());
  wal::AppendRecord(&bytes_, type, seq_++, payload);
  return *this;
}

WalBuilder& WalBuilder::WriteSets(uint64_t first, uint64_t n, int records) {
  for (uint64_t c = first; c < first + n; ++c) {
    for (int i = 0; i < records; ++i) {
      Insert("users", "u-" + std::to_string(c) + "-" + std::to_string(i),
             "{\"c\":" + std::to_string(c) + "}");
    }
    Commit(c);
  }
  return *this;
}

}  // namespace aero::testing
