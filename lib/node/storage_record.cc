#include "node/storage_record.h"

#include <algorithm>

#include "common/coding.h"
#include "common/crc32.h"

namespace aero::node {

namespace {
constexpr uint32_t kMinStorageRecord = 4 + 4 * 4 + 1 + 4;  // all fields empty
constexpr uint32_t kMaxStorageRecord = 64u << 20;

void PutField(std::string* dst, std::string_view f) {
  PutFixed32(dst, static_cast<uint32_t>(f.size()));
  dst->append(f);
}
bool TakeField(std::string_view* in, std::string_view* out) {
  if (in->size() < 4) return false;
  uint32_t len = DecodeFixed32(in->data());
  in->remove_prefix(4);
  if (len > in->size()) return false;
  *out = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}
}  // namespace

void AppendStorageRecord(std::string* dst, std::string_view composite_id,
                         std::string_view schema_id, std::string_view schema_version,
                         bool tombstone, std::string_view body) {
  const size_t start = dst->size();
  PutFixed32(dst, 0);  // patched below
  PutField(dst, composite_id);
  PutField(dst, schema_id);
  PutField(dst, schema_version);
  dst->push_back(tombstone ? 1 : 0);
  PutField(dst, body);
  const uint32_t total = static_cast<uint32_t>(dst->size() - start + 4);
  EncodeFixed32(dst->data() + start, total);
  PutFixed32(dst, Crc32(dst->data() + start, dst->size() - start));
}

bool StorageReader::Fill(size_t n) {
  const bool filled = in_.Fill(n);
  if (!in_.status().ok()) status_ = in_.status();
  return filled;
}

bool StorageReader::Next(StorageRecord* out) {
  if (!status_.ok()) return false;
  auto damaged = [&](const std::string& detail) {
    status_ = Status(Code::kDamage,
                     Problem("damaged storage record", file_->path(),
                             detail + " at offset " + std::to_string(offset_)));
    return false;
  };
  if (!Fill(4)) {
    if (!status_.ok()) return false;
    if (in_.available() == 0) return false;  // clean end
    return damaged("truncated length field");
  }
  uint32_t total = DecodeFixed32(in_.data());
  if (total < kMinStorageRecord || total > kMaxStorageRecord) {
    return damaged("invalid length " + std::to_string(total));
  }
  if (!Fill(total)) {
    if (!status_.ok()) return false;
    return damaged("truncated record of " + std::to_string(total) + " bytes");
  }
  std::string_view rec(in_.data(), total);
  if (DecodeFixed32(rec.data() + total - 4) != Crc32(rec.data(), size_t{total} - 4)) {
    return damaged("crc mismatch");
  }
  std::string_view in = rec.substr(4, total - 8);
  StorageRecord r;
  r.offset = offset_;
  if (!TakeField(&in, &r.document_id) || !TakeField(&in, &r.schema_id) ||
      !TakeField(&in, &r.schema_version) || in.empty()) {
    return damaged("malformed fields");
  }
  uint8_t tomb = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (tomb > 1 || !TakeField(&in, &r.body) || !in.empty()) return damaged("malformed fields");
  r.tombstone = tomb == 1;
  *out = r;
  in_.Consume(total);
  offset_ += total;
  return true;
}

}  // namespace aero::node
