// libFuzzer target for the snapshot archive reader (SNAP-6..SNAP-9): any
// byte string must end in exactly one finding, never a crash, a hang or an
// exception, and kValid only for a real archive. What kValid must mean is
// checked independently of the reader's own verdict: the manifest decoded
// and re-encodes to a manifest that decodes, one CRC-32 was kept per member,
// every member's bytes were counted, and a second, extracting pass over the
// same bytes (install's pass 2, SNAP-10) is valid too and hands the sink
// exactly the manifest's members, in order, each with the manifest's size
// and SHA-256, hashed here rather than by the reader. Every input is read
// twice more with each member of a plain archive read at its offset on a
// worker (SNAP-6's read-at path, its threshold lowered to one byte): the
// verdict must be the stream's, and pass 2 on that path must hand over the
// same members. verify's mode, which goes on past a damaged member, must
// reach the same verdict with the same first finding. A plain input is also
// compressed with zstd and read again: the same tar bytes, the same verdict
// (SNAP-7: the verdict depends on the bytes present, not on the read path).
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/string_file.h"
#include "common/sha256.h"
#include "snapshot/archive_reader.h"
#include "snapshot/manifest.h"

namespace {

using aero::testing::StringFile;

// The fuzz input as a file read in odd-sized pieces.
StringFile Input(const uint8_t* data, size_t size) {
  return StringFile(std::string(reinterpret_cast<const char*>(data), size), "fuzz.tar", 997);
}

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

// What the sink received for one member.
struct Received {
  uint64_t bytes = 0;
  aero::Sha256Digest sha256{};
  bool synced = false;
  bool closed = false;
};

// Install's member file, hashing what it is given instead of writing it.
class HashingFile final : public aero::WritableFile {
 public:
  HashingFile(Received* r, std::string path) : r_(r), path_(std::move(path)) {}
  aero::Status Append(std::string_view b) override {
    Check(!r_->synced && !r_->closed);
    r_->bytes += b.size();
    sha_.Update(b);
    return aero::Status::Ok();
  }
  aero::Status Sync() override {
    r_->synced = true;
    return aero::Status::Ok();
  }
  aero::Status Close() override {
    Check(r_->synced && !r_->closed);
    r_->closed = true;
    r_->sha256 = sha_.Finish();
    return aero::Status::Ok();
  }
  const std::string& path() const override { return path_; }

 private:
  Received* r_;
  std::string path_;
  aero::Sha256 sha_;
};

// Install's one pass (SNAP-10) over the same bytes, verifying and
// extracting: the verdict of the pass without a sink (`c`), the same first
// finding; the sink is asked only for the manifest's members, in order;
// when valid, it got every one of them, whole.
void CheckExtract(const uint8_t* data, size_t size, const aero::snapshot::ArchiveCheck& c,
                  uint64_t read_at_min_bytes) {
  std::vector<std::unique_ptr<Received>> got;
  aero::snapshot::MemberSink sink;
  sink.open = [&](const aero::snapshot::Member& mem)
      -> aero::Result<std::unique_ptr<aero::WritableFile>> {
    Check(c.manifest.has_value() && got.size() < c.manifest->members.size() &&
          mem.path == c.manifest->members[got.size()].path);
    got.push_back(std::make_unique<Received>());
    return std::unique_ptr<aero::WritableFile>(new HashingFile(got.back().get(), mem.path));
  };
  StringFile g = Input(data, size);
  const aero::snapshot::ArchiveCheck extracted =
      aero::snapshot::ReadArchive(g, sink, {.read_at_min_bytes = read_at_min_bytes});
  Check(extracted.state == c.state && extracted.detail == c.detail);
  if (c.state != aero::snapshot::ArchiveState::kValid) return;
  const aero::snapshot::Manifest& m = *c.manifest;
  Check(got.size() == m.members.size());
  for (size_t i = 0; i < got.size(); ++i) {
    Check(got[i]->closed && got[i]->bytes == m.members[i].size &&
          (!m.members[i].sha256 || got[i]->sha256 == *m.members[i].sha256));
  }
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using aero::snapshot::ArchiveState;
  StringFile f = Input(data, size);
  const aero::snapshot::ArchiveCheck c = aero::snapshot::ReadArchive(f);
  // A memory file never fails a read and libarchive is loaded: the reader
  // has no business reporting an I/O error.
  Check(c.state != ArchiveState::kIoError);
  // verify's mode (every damaged member listed) reaches the same verdict;
  // its first finding is the one the stop-at-first pass reports.
  {
    StringFile v = Input(data, size);
    const aero::snapshot::ArchiveCheck all =
        aero::snapshot::ReadArchive(v, {}, {.all_findings = true});
    Check(all.state == c.state);
    Check((all.state == ArchiveState::kCorrupt) == !all.findings.empty());
    Check(c.state != ArchiveState::kCorrupt ||
          (c.findings.size() == 1 && all.findings.front() == c.detail));
  }
  // The same tar as one zstd frame.
  if (size < 4 || std::memcmp(data, "\x28\xb5\x2f\xfd", 4) != 0) {
    std::string z(ZSTD_compressBound(size), '\0');
    const size_t n = ZSTD_compress(z.data(), z.size(), data, size, 1);
    Check(!ZSTD_isError(n));
    z.resize(n);
    StringFile zf(std::move(z), "fuzz.tar.zst", 997);
    const aero::snapshot::ArchiveCheck zc = aero::snapshot::ReadArchive(zf);
    Check(zc.state == c.state);
    Check(c.state != ArchiveState::kCorrupt || zc.detail == c.detail);
  }
  CheckExtract(data, size, c, aero::snapshot::kReadAtMinBytes);
  if (c.state != ArchiveState::kValid) {
    Check(!c.detail.empty());
    StringFile h = Input(data, size);
    Check(aero::snapshot::ReadArchive(h, {}, {.read_at_min_bytes = 1}).state == c.state);
    Check(c.members_read == c.member_crcs.size());
    Check(!c.manifest || c.members_read <= c.manifest->members.size());
    return 0;
  }
  ++valid_inputs;
  Check(c.manifest.has_value());
  const aero::snapshot::Manifest& m = *c.manifest;
  Check(aero::snapshot::DecodeManifest(aero::snapshot::EncodeManifest(m)).ok());
  Check(c.members_read == m.members.size());
  Check(c.member_crcs.size() == m.members.size());
  Check(c.data_bytes == m.TotalBytes());
  Check(c.compressed_bytes <= size);

  // The read-at path: the same verdict, and the same members extracted.
  StringFile h = Input(data, size);
  const aero::snapshot::ArchiveCheck at =
      aero::snapshot::ReadArchive(h, {}, {.read_at_min_bytes = 1});
  Check(at.state == c.state && at.member_crcs == c.member_crcs && at.data_bytes == c.data_bytes);
  CheckExtract(data, size, at, 1);
  return 0;
}
