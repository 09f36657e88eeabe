// Small helpers shared by the tests: temporary directories, whole-file I/O,
// tamper helpers (flip a bit, truncate, fix up a record's CRC so that later
// checks are reached), and a WAL builder; StringFile (support/string_file.h)
// is the in-memory ReadableFile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/fs.h"
#include "support/string_file.h"

namespace aero::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return JoinPath(path_, rel); }

 private:
  std::string path_;
};

// Path joining for tests: dir / "name".
inline std::string operator/(const std::string& a, const std::string& b) { return JoinPath(a, b); }

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);
bool FileExists(const std::string& path);

// Tamperers.
void FlipBit(std::string* bytes, size_t offset, int bit);
void FlipBitInFile(const std::string& path, uint64_t offset, int bit);
void TruncateFile(const std::string& path, uint64_t size);
// The first offset at or after `from` where flipping `bit` of the zstd frame
// `zst` damages what the frame holds: libzstd refuses it, or it decodes to
// as many bytes as before but not the same ones. Passed over: a flip that
// decodes to the same bytes (slack bits of an entropy table) and one that
// makes the frame look cut short (a block or frame header claiming more than
// is there, which no reader can tell from a copy in progress, SNAP-7). A
// test that damages a zstd file at a fixed offset is otherwise flaky: the
// bytes there differ from run to run.
size_t ZstdDamagingFlip(const std::string& zst, size_t from, int bit);
// Recomputes the CRC of the record starting at `offset` (its length field is trusted).
void FixRecordCrc(std::string* bytes, size_t offset);


// Builds WAL bytes: data records and commit records with running sequences.
class WalBuilder {
 public:
  explicit WalBuilder(uint64_t first_sequence = 1) : seq_(first_sequence) {}
  WalBuilder& Data(uint8_t type, const std::string& collection, const std::string& id,
                   const std::string& body);
  WalBuilder& Insert(const std::string& collection, const std::string& id,
                     const std::string& body) {
    return Data(0, collection, id, body);
  }
  WalBuilder& Commit(uint64_t commit_id);
  // A raw record with an arbitrary type and payload.
  WalBuilder& Raw(uint8_t type, const std::string& payload);
  // n write sets of `records` inserts each, commits first..first+n-1.
  WalBuilder& WriteSets(uint64_t first, uint64_t n, int records = 2);
  const std::string& bytes() const { return bytes_; }
  std::vector<size_t> offsets() const { return offsets_; }

 private:
  uint64_t seq_;
  std::string bytes_;
  std::vector<size_t> offsets_;
};

}  // namespace aero::testing
