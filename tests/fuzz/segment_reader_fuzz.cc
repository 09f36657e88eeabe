// libFuzzer target for the segment reader (formats/wal-segment.md "Reading
// and damage", checks 1-12): any byte string judged as a segment file ends in
// one verdict, never a crash, a hang, an exception or an I/O error from
// memory, and a verdict other than valid has a detail. CheckSegmentHeader
// (checks 1-9) and VerifySegment (1-12) agree up to check 9, and nothing
// past check 9 is in transit. A valid segment:
// - re-encodes: EncodeHeader gives its first 192 bytes (SEG-1), and its
//   name parses back and matches, another name is "name mismatch" (SEG-2);
// - has the body its header declares (size, records) and, written again
//   by WriteSegment from that body, gives the same bytes when plain (SEG-6)
//   and a valid segment with the same header when zstd;
// - is in transit when cut (SEG-3) and corrupt with one bit flipped (SEG-4).
// Each input is judged twice: as it is, and repaired (header_crc,
// stored_size, body_size of a plain body, and the trailer's seal
// recomputed over the header and the bytes between it and the last 40), so
// that mutated header fields and bodies reach checks 5-11 instead of
// stopping at the checksums. A repaired segment refused only for its
// digest_after is valid once that digest is the body's (check 11 is last).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/sha256.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "support/memory_fs.h"
#include "support/string_file.h"

namespace {

using aero::segment::SegmentCheck;
using aero::segment::SegmentHeader;
using aero::segment::SegmentState;
using aero::testing::StringFile;

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

// The segment file, read in odd-sized pieces.
StringFile Input(const std::string& bytes) { return StringFile(bytes, "fuzz.seg", 997); }

struct Body {
  std::string bytes;  // every record the scan returned, in order
  uint64_t records = 0;
};

SegmentCheck Verify(const std::string& bytes, const aero::segment::SegmentNameInfo* name,
                    Body* body = nullptr, uint64_t keep = 0) {
  StringFile f = Input(bytes);
  aero::segment::VerifyHooks hooks;
  if (body) {
    hooks.on_record = [body](const aero::wal::Record& r) {
      body->bytes.append(r.bytes);
      ++body->records;
    };
  }
  if (keep > 0) hooks.keep_digests.push_back(keep);
  return aero::segment::VerifySegment(f, name, hooks);
}

// Header fields, CRC, sizes and seal made to agree with the bytes present.
std::string Repair(const std::string& raw, const aero::history::Digest* digest_after) {
  using namespace aero::segment;
  std::string head = raw.substr(0, kSegmentHeaderBytes);
  const size_t end = raw.size() >= kSegmentHeaderBytes + kTrailerFixedBytes
                         ? raw.size() - kTrailerFixedBytes
                         : raw.size();
  const std::string stored = raw.substr(kSegmentHeaderBytes, end - kSegmentHeaderBytes);
  const bool zstd = (aero::DecodeFixed32(head.data() + kOffFlags) & kFlagZstd) != 0;
  aero::EncodeFixed64(head.data() + kOffStoredSize, stored.size());
  if (!zstd) aero::EncodeFixed64(head.data() + kOffBodySize, stored.size());
  if (digest_after) std::memcpy(head.data() + kOffDigestAfter, digest_after->data(), 32);
  aero::EncodeFixed32(head.data() + kHeaderCrcOffset, aero::Crc32(head.data(), kHeaderCrcOffset));
  aero::Sha256 seal;
  seal.Update(head);
  if (zstd) seal.Update(stored);
  const aero::Sha256Digest d = seal.Finish();
  std::string out = head + stored;
  out.append(kTrailerMagic);
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

// What a valid segment must also be (SEG-1..SEG-6).
void CheckValid(const std::string& bytes, const SegmentCheck& v, const Body& body) {
  using namespace aero::segment;
  const SegmentHeader& h = v.header;
  const std::string head = EncodeHeader(h);
  Check(head == bytes.substr(0, kSegmentHeaderBytes));
  const DecodedHeader again = DecodeHeader(head);
  Check(again.corrupt.empty() && EncodeHeader(again.header) == head);
  Check(v.size == bytes.size() && v.expected_size == bytes.size() && h.TotalSize() == bytes.size());

  const std::string name = SegmentName(h.epoch, h.first_commit, h.last_commit);
  const std::optional<SegmentNameInfo> info = ParseSegmentName(name);
  Check(info && info->epoch == h.epoch && info->first_commit == h.first_commit &&
        info->last_commit == h.last_commit);
  Check(Verify(bytes, &*info).state == SegmentState::kValid);
  SegmentNameInfo other = *info;
  ++other.last_commit;
  const SegmentCheck wrong = Verify(bytes, &other);
  Check(wrong.state == SegmentState::kCorrupt && wrong.detail.rfind("name mismatch", 0) == 0);

  Check(body.bytes.size() == h.body_size && body.records == h.record_count);
  aero::testing::MemoryFs fs;
  StringFile wal(body.bytes, "wal.log");
  const aero::Result<WrittenSegment> w =
      WriteSegment(fs, "/again.seg", h, wal, 0, body.bytes.size(), h.compressed());
  Check(w.ok() && fs.Get("/again.seg") != nullptr);
  const std::string& rewritten = *fs.Get("/again.seg");
  Check(w->bytes == rewritten.size());
  if (!h.compressed()) {
    Check(rewritten == bytes);
  } else {
    const SegmentCheck r = Verify(rewritten, &*info);
    Check(r.state == SegmentState::kValid);
    SegmentHeader same = r.header;
    same.stored_size = h.stored_size;
    Check(EncodeHeader(same) == head);
  }

  // SEG-3: every cut is in transit; SEG-4: every bit flip is corrupt. A few
  // of each, at places that follow from the bytes.
  const uint32_t crc = aero::Crc32(bytes.data(), bytes.size());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{kSegmentHeaderBytes - 1}, bytes.size() - 1,
                     static_cast<size_t>(crc % bytes.size())}) {
    Check(Verify(bytes.substr(0, cut), nullptr).state == SegmentState::kInTransit);
  }
  for (uint64_t bit : {uint64_t{crc}, uint64_t{crc} * 7919, uint64_t{crc} >> 3}) {
    std::string flipped = bytes;
    bit %= flipped.size() * 8;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Check(Verify(flipped, nullptr).state == SegmentState::kCorrupt);
  }
}

// One verdict, agreed by both readers; the checks above when valid.
SegmentCheck Judge(const std::string& bytes) {
  StringFile f = Input(bytes);
  const SegmentCheck head = aero::segment::CheckSegmentHeader(f, nullptr);
  Check(head.state != SegmentState::kIoError);
  Check(head.state == SegmentState::kValid || !head.detail.empty());
  Body body;
  const SegmentCheck v =
      Verify(bytes, nullptr, &body, head.state == SegmentState::kValid ? head.header.last_commit : 0);
  Check(v.state != SegmentState::kIoError);
  if (head.state != SegmentState::kValid) {
    Check(v.state == head.state && v.detail == head.detail);
    return v;
  }
  // Checks 10-12 judge bytes all present: never in transit, except SEG-9's
  // preallocated copy (its last 16 bytes zero, where the seal goes).
  const bool zero_tail = bytes.size() >= 16 &&
                         std::all_of(bytes.end() - 16, bytes.end(), [](char c) { return c == 0; });
  Check(v.state != SegmentState::kInTransit || zero_tail);
  if (v.state != SegmentState::kValid) {
    Check(!v.detail.empty());
    return v;
  }
  CheckValid(bytes, v, body);
  return v;
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid as read.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  if (Judge(raw).state == SegmentState::kValid) ++valid_inputs;
  if (size < aero::segment::kSegmentHeaderBytes ||
      raw.compare(0, aero::segment::kSegmentMagic.size(), aero::segment::kSegmentMagic) != 0) {
    return 0;
  }
  const std::string repaired = Repair(raw, nullptr);
  const SegmentCheck r = Judge(repaired);
  if (r.state == SegmentState::kCorrupt &&
      r.detail == "digest_after differs from the body's history digest") {
    const auto it = r.digests.find(r.header.last_commit);
    Check(it != r.digests.end());
    Check(Judge(Repair(repaired, &it->second)).state == SegmentState::kValid);
  }
  return 0;
}
