// replication/digests (formats/node-layout.md, NODE-11): H(c) for each commit
// at which this node finished applying a segment. A cache, not an authority:
// it spares apply-wal one scan of wal/wal.log per run when it checks the
// duplicates in its inbox against its own history (LOG-8). Append-only and
// not fsynced; every entry carries its own CRC-32, a reader keeps the entries
// before the first one that is short or fails it, and a lost entry only
// costs that scan.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/fs.h"
#include "history/digest.h"

namespace aero::node {

// The file: the magic, then entries of kDigestIndexEntryBytes each:
//   commit   u64 LE
//   digest   32 bytes, H(commit) (HIST-2)
//   crc      u32 LE, CRC-32 (common/crc32) of the 40 bytes before it
constexpr std::string_view kDigestIndexMagic = "AERODIX1";
constexpr size_t kDigestIndexEntryBytes = 44;

struct DigestIndexEntry {
  uint64_t commit = 0;
  history::Digest digest{};
};

std::string EncodeDigestIndexEntry(const DigestIndexEntry& e);

struct DigestIndex {
  std::map<uint64_t, history::Digest> digests;
  uint64_t valid_bytes = 0;  // the magic and the good entries; 0: no usable file
  uint64_t file_bytes = 0;
};

// An absent file is an empty index; so is one whose magic is wrong.
Result<DigestIndex> ReadDigestIndex(Fs& fs, const std::string& path);

// Appends `entries`. On the first call for a file (valid_bytes unknown,
// `*index` null) the file is read once: a damaged or torn tail is cut off
// (Truncate), a file without the magic is started again. `*valid_bytes`
// follows the file.
class DigestIndexWriter {
 public:
  DigestIndexWriter(Fs& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  Status Append(const std::vector<DigestIndexEntry>& entries);

 private:
  Fs& fs_;
  std::string path_;
  bool checked_ = false;
  uint64_t valid_bytes_ = 0;
};

}  // namespace aero::node
