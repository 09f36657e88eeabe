#include "wal/record.h"

#include "common/coding.h"
#include "common/crc32.h"

namespace aero::wal {

const char* RecordTypeName(uint8_t type) {
  switch (type) {
    case 0: return "Insert";
    case 1: return "Update";
    case 2: return "Delete";
    case 3: return "MvccCommit";
    case 4: return "MvccVersion";
    case 5: return "MvccGc";
    default: return "unknown";
  }
}

namespace {

// Reads a u32 LE length and that many bytes; advances `in`.
[[gnu::always_inline]] inline bool TakeField(std::string_view* in, std::string_view* out) {
  if (in->size() < 4) return false;
  uint32_t len = DecodeFixed32(in->data());
  in->remove_prefix(4);
  if (len > in->size()) return false;
  *out = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

void PutField(std::string* dst, std::string_view field) {
  PutFixed32(dst, static_cast<uint32_t>(field.size()));
  dst->append(field);
}

}  // namespace

bool DecodeDataPayload(std::string_view payload, DataPayload* out) {
  std::string_view in = payload;
  return TakeField(&in, &out->collection) && TakeField(&in, &out->document_id) &&
         TakeField(&in, &out->schema_id) && TakeField(&in, &out->schema_version) &&
         TakeField(&in, &out->body) && in.empty();
}

bool DecodeCommitPayload(std::string_view payload, uint64_t* commit_id) {
  if (payload.size() != kCommitPayloadBytes) return false;
  *commit_id = DecodeFixed64(payload.data());
  return true;
}

bool DecodeCommitRecord(std::string_view record, uint64_t* commit_id, uint64_t* sequence) {
  if (record.size() != kCommitRecordBytes) return false;
  const char* r = record.data();
  if (DecodeFixed32(r) != kCommitRecordBytes ||
      static_cast<uint8_t>(r[kTypeOffset]) != static_cast<uint8_t>(RecordType::kMvccCommit) ||
      DecodeFixed32(r + kCommitRecordBytes - kCrcSize) != Crc32(r, kCommitRecordBytes - kCrcSize)) {
    return false;
  }
  *sequence = DecodeFixed64(r + kSequenceOffset);
  return DecodeCommitPayload(record.substr(kPayloadOffset, kCommitPayloadBytes), commit_id);
}

bool DecodeVersionPayload(std::string_view payload, VersionPayload* out) {
  std::string_view in = payload;
  if (in.size() < 8) return false;
  out->commit_id = DecodeFixed64(in.data());
  in.remove_prefix(8);
  if (!TakeField(&in, &out->key)) return false;
  if (in.empty()) return false;
  uint8_t tomb = static_cast<uint8_t>(in[0]);
  if (tomb > 1) return false;
  out->tombstone = tomb == 1;
  in.remove_prefix(1);
  return TakeField(&in, &out->payload) && in.empty();
}

bool PayloadShapeOk(uint8_t type, std::string_view payload) {
  switch (type) {
    case 0:
    case 1:
    case 2: {
      DataPayload p;
      return DecodeDataPayload(payload, &p);
    }
    case 3: {
      uint64_t id;
      return DecodeCommitPayload(payload, &id);
    }
    case 4: {
      VersionPayload p;
      return DecodeVersionPayload(payload, &p);
    }
    default:
      return true;
  }
}

std::string EncodeDataPayload(const DataPayload& p) {
  std::string out;
  out.reserve(20 + p.collection.size() + p.document_id.size() + p.schema_id.size() +
              p.schema_version.size() + p.body.size());
  PutField(&out, p.collection);
  PutField(&out, p.document_id);
  PutField(&out, p.schema_id);
  PutField(&out, p.schema_version);
  PutField(&out, p.body);
  return out;
}

std::string EncodeCommitPayload(uint64_t commit_id) {
  std::string out;
  PutFixed64(&out, commit_id);
  return out;
}

void AppendRecord(std::string* dst, uint8_t type, uint64_t sequence,
                  std::string_view payload) {
  const size_t start = dst->size();
  PutFixed32(dst, static_cast<uint32_t>(kFramingBytes + payload.size()));
  dst->push_back(static_cast<char>(type));
  PutFixed64(dst, sequence);
  dst->append(payload);
  uint32_t crc = Crc32(dst->data() + start, dst->size() - start);
  PutFixed32(dst, crc);
}

std::string EncodeRecord(uint8_t type, uint64_t sequence, std::string_view payload) {
  std::string out;
  AppendRecord(&out, type, sequence, payload);
  return out;
}

}  // namespace aero::wal
