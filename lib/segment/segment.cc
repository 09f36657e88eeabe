#include "segment/segment.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "common/coding.h"
#include "common/crc32.h"
#include "history/digest.h"
#include "wal/record_format.h"

namespace aero::segment {

std::string EncodeHeader(const SegmentHeader& h) {
  std::string b(kSegmentHeaderBytes, '\0');
  char* p = b.data();
  std::copy(kSegmentMagic.begin(), kSegmentMagic.end(), p + kOffMagic);
  EncodeFixed16(p + kOffVersion, kSegmentVersion);
  EncodeFixed16(p + kOffHeaderSize, static_cast<uint16_t>(kSegmentHeaderBytes));
  EncodeFixed32(p + kOffFlags, h.flags);
  std::copy(h.system_id.bytes.begin(), h.system_id.bytes.end(), p + kOffSystemId);
  EncodeFixed32(p + kOffEpoch, h.epoch);
  EncodeFixed32(p + kOffSignatureSize, h.signature_size);
  EncodeFixed64(p + kOffFirstCommit, h.first_commit);
  EncodeFixed64(p + kOffLastCommit, h.last_commit);
  EncodeFixed64(p + kOffFirstSequence, h.first_sequence);
  EncodeFixed64(p + kOffLastSequence, h.last_sequence);
  EncodeFixed64(p + kOffRecordCount, h.record_count);
  EncodeFixed64(p + kOffBodySize, h.body_size);
  EncodeFixed64(p + kOffStoredSize, h.stored_size);
  std::copy(h.digest_before.begin(), h.digest_before.end(), p + kOffDigestBefore);
  std::copy(h.digest_after.begin(), h.digest_after.end(), p + kOffDigestAfter);
  EncodeFixed32(p + kHeaderCrcOffset, Crc32(p, kHeaderCrcOffset));
  return b;
}

DecodedHeader DecodeHeader(std::string_view b) {
  DecodedHeader out;
  SegmentHeader& h = out.header;
  const char* p = b.data();
  if (DecodeFixed16(p + kOffVersion) != kSegmentVersion) {
    out.corrupt = "unknown version " + std::to_string(DecodeFixed16(p + kOffVersion));
    return out;
  }
  h.flags = DecodeFixed32(p + kOffFlags);
  std::copy(p + kOffSystemId, p + kOffSystemId + 16, h.system_id.bytes.begin());
  h.epoch = DecodeFixed32(p + kOffEpoch);
  h.signature_size = DecodeFixed32(p + kOffSignatureSize);
  h.first_commit = DecodeFixed64(p + kOffFirstCommit);
  h.last_commit = DecodeFixed64(p + kOffLastCommit);
  h.first_sequence = DecodeFixed64(p + kOffFirstSequence);
  h.last_sequence = DecodeFixed64(p + kOffLastSequence);
  h.record_count = DecodeFixed64(p + kOffRecordCount);
  h.body_size = DecodeFixed64(p + kOffBodySize);
  h.stored_size = DecodeFixed64(p + kOffStoredSize);
  std::copy(p + kOffDigestBefore, p + kOffDigestBefore + 32, h.digest_before.begin());
  std::copy(p + kOffDigestAfter, p + kOffDigestAfter + 32, h.digest_after.begin());
  // SEG-8
  if (DecodeFixed16(p + kOffHeaderSize) != kSegmentHeaderBytes) {
    out.corrupt = "header_size is not 192";
  } else if ((h.flags & ~kKnownFlags) != 0) {
    out.corrupt = "unknown flags";
  } else if (std::any_of(p + kReservedOffset, p + kReservedOffset + kReservedBytes,
                         [](char c) { return c != 0; })) {
    out.corrupt = "reserved bytes are not zero";
  } else if (h.signature_size != 0) {
    out.corrupt = "signature_size is not 0 in version 1";
  }
  if (!out.corrupt.empty()) return out;
  // Check 6: the header must not contradict itself.
  const uint64_t sets = h.last_commit >= h.first_commit ? h.last_commit - h.first_commit + 1 : 0;
  const bool overflow = h.stored_size > UINT64_MAX - kSegmentHeaderBytes - kTrailerFixedBytes;
  // The least body the counts need, 25 bytes per commit record and 17 per
  // other record, without wrapping: a sum past u64 is more than any body.
  const auto least_body = [&]() -> std::optional<uint64_t> {
    if (sets > UINT64_MAX / 25) return std::nullopt;
    const uint64_t others = h.record_count - sets;
    if (others > (UINT64_MAX - 25 * sets) / 17) return std::nullopt;
    return 25 * sets + 17 * others;
  };
  if (h.epoch == 0 || h.first_commit == 0 || h.last_commit < h.first_commit ||
      h.last_commit > wal::kMaxCommitId ||  // REC-9
      h.first_sequence == 0 || h.last_sequence == 0 || h.record_count < sets ||
      h.first_sequence > wal::kMaxSequence || h.last_sequence > wal::kMaxSequence ||  // REC-8
      !least_body() || h.body_size < *least_body() ||
      (!h.compressed() && h.stored_size != h.body_size) ||
      (h.compressed() && h.stored_size == 0) || overflow) {
    out.corrupt = "inconsistent header";
  } else if (h.body_size > kMaxSegmentBodyBytes || h.stored_size > kMaxSegmentStoredBytes) {
    // Corrupt at once: a header that claims 2^60 bytes is never "in transit".
    out.corrupt = h.body_size > kMaxSegmentBodyBytes
                      ? "larger than the largest segment (body " + std::to_string(h.body_size) +
                            " bytes, at most " + std::to_string(kMaxSegmentBodyBytes) + ")"
                      : "larger than the largest segment (stored " + std::to_string(h.stored_size) +
                            " bytes, at most " + std::to_string(kMaxSegmentStoredBytes) + ")";
  } else if (h.first_commit == 1 && h.digest_before != history::SeedDigest(h.system_id)) {
    // Check 6 (HIST-1): every history starts at H(0) of its system id, so
    // this is damage for every reader, never a divergence.
    out.corrupt = "digest_before of commit 1 is not H(0) of its system id";
  }
  return out;
}

std::string SegmentName(uint32_t epoch, uint64_t first, uint64_t last) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%08x-%016llx-%016llx.seg", epoch,
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  return buf;
}

std::optional<SegmentNameInfo> ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentNameBytes || name.substr(42) != kSegmentSuffix ||
      name[8] != '-' || name[25] != '-') {
    return std::nullopt;
  }
  auto hex = [](std::string_view s, uint64_t* out) {
    uint64_t v = 0;
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return false;  // upper case is not a segment name (SEG-2)
      }
      v = v * 16 + static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
  };
  uint64_t epoch = 0;
  SegmentNameInfo info;
  if (!hex(name.substr(0, 8), &epoch) || !hex(name.substr(9, 16), &info.first_commit) ||
      !hex(name.substr(26, 16), &info.last_commit)) {
    return std::nullopt;
  }
  info.epoch = static_cast<uint32_t>(epoch);
  return info;
}

}  // namespace aero::segment
