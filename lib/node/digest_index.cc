#include "node/digest_index.h"

#include "common/coding.h"
#include "common/crc32.h"

namespace aero::node {

std::string EncodeDigestIndexEntry(const DigestIndexEntry& e) {
  std::string out;
  out.reserve(kDigestIndexEntryBytes);
  PutFixed64(&out, e.commit);
  out.append(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
  PutFixed32(&out, Crc32(out));
  return out;
}

Result<DigestIndex> ReadDigestIndex(Fs& fs, const std::string& path) {
  DigestIndex index;
  Result<std::unique_ptr<ReadableFile>> opened = fs.OpenRead(path);
  if (!opened.ok()) {
    if (opened.status().code() == Code::kNotFound) return index;
    return opened.status();
  }
  ReadableFile& f = **opened;
  AERO_ASSIGN_OR_RETURN(index.file_bytes, f.Size());
  std::string magic(kDigestIndexMagic.size(), '\0');
  if (index.file_bytes < magic.size()) return index;
  AERO_RETURN_IF_ERROR(ReadExactlyAt(f, 0, magic.data(), magic.size()));
  if (magic != kDigestIndexMagic) return index;
  index.valid_bytes = magic.size();
  // Whole entries in blocks; memory is one block, the map holds 40 bytes an entry.
  constexpr size_t kPerBlock = 4096;
  std::string block(kPerBlock * kDigestIndexEntryBytes, '\0');
  for (uint64_t pos = index.valid_bytes; pos + kDigestIndexEntryBytes <= index.file_bytes;) {
    const uint64_t whole = (index.file_bytes - pos) / kDigestIndexEntryBytes;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(whole, kPerBlock));
    AERO_RETURN_IF_ERROR(ReadExactlyAt(f, pos, block.data(), n * kDigestIndexEntryBytes));
    for (size_t i = 0; i < n; ++i) {
      const char* p = block.data() + i * kDigestIndexEntryBytes;
      if (Crc32(p, kDigestIndexEntryBytes - 4) != DecodeFixed32(p + kDigestIndexEntryBytes - 4)) {
        return index;  // NODE-11: the entries before the first bad one
      }
      history::Digest d;
      std::copy(p + 8, p + 8 + d.size(), reinterpret_cast<char*>(d.data()));
      index.digests[DecodeFixed64(p)] = d;
      index.valid_bytes += kDigestIndexEntryBytes;
    }
    pos += n * kDigestIndexEntryBytes;
  }
  return index;
}

Status DigestIndexWriter::Append(const std::vector<DigestIndexEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  if (!checked_) {
    AERO_ASSIGN_OR_RETURN(DigestIndex index, ReadDigestIndex(fs_, path_));
    valid_bytes_ = index.valid_bytes;
    if (valid_bytes_ > 0 && index.file_bytes != valid_bytes_) {
      AERO_RETURN_IF_ERROR(fs_.Truncate(path_, valid_bytes_));  // a torn or damaged tail
    }
    checked_ = true;
  }
  std::string bytes;
  if (valid_bytes_ == 0) bytes.append(kDigestIndexMagic);
  for (const DigestIndexEntry& e : entries) bytes += EncodeDigestIndexEntry(e);
  AERO_ASSIGN_OR_RETURN(auto f, fs_.OpenWrite(path_, valid_bytes_ == 0 ? OpenMode::kTruncate
                                                                       : OpenMode::kAppend));
  // Counted as written only once Close() returns: a failure leaves the file
  // for the next writer's check to cut back.
  checked_ = false;
  AERO_RETURN_IF_ERROR(f->Append(bytes));
  AERO_RETURN_IF_ERROR(f->Close());
  valid_bytes_ += bytes.size();
  checked_ = true;
  return Status::Ok();
}

}  // namespace aero::node
