// libFuzzer target for the snapshot archive reader (SNAP-6..SNAP-9): any
// byte string must end in exactly one finding, never a crash, a hang or an
// exception, and kValid only for a real archive. What kValid must mean is
// checked independently of the reader's own verdict: the manifest decoded
// and re-encodes to a manifest that decodes, one CRC-32 was kept per member,
// every member's bytes were counted, and a second, extracting pass over the
// same bytes (install's pass 2, SNAP-10) is valid too and hands the sink
// exactly the manifest's members, in order, each with the manifest's size
// and SHA-256, hashed here rather than by the reader.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mem_file.h"
#include "common/sha256.h"
#include "snapshot/archive_reader.h"
#include "snapshot/manifest.h"

namespace {

using aero::fuzz::MemFile;

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using aero::snapshot::ArchiveState;
  MemFile f(data, size, 997, "fuzz.tar");
  const aero::snapshot::ArchiveCheck c = aero::snapshot::ReadArchive(f);
  // A memory file never fails a read and libarchive is loaded: the reader
  // has no business reporting an I/O error.
  Check(c.state != ArchiveState::kIoError);
  if (c.state != ArchiveState::kValid) {
    Check(!c.detail.empty());
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

  // Pass 2 over the same bytes, hashing what the sink receives.
  size_t next = 0;
  bool open = false;
  uint64_t got = 0;
  aero::Sha256 sha;
  aero::snapshot::MemberSink sink;
  sink.begin = [&](const aero::snapshot::Member& mem) {
    Check(!open && next < m.members.size() && mem.path == m.members[next].path);
    open = true;
    got = 0;
    sha.Reset();
    return aero::Status::Ok();
  };
  sink.data = [&](std::string_view b) {
    Check(open);
    got += b.size();
    sha.Update(b);
    return aero::Status::Ok();
  };
  sink.end = [&]() {
    Check(open && got == m.members[next].size && sha.Finish() == m.members[next].sha256);
    open = false;
    ++next;
    return aero::Status::Ok();
  };
  MemFile g(data, size, 997, "fuzz.tar");
  const aero::snapshot::ArchiveCheck second = aero::snapshot::ReadArchive(g, sink, &c);
  Check(second.state == ArchiveState::kValid);
  Check(!open && next == m.members.size());
  return 0;
}
