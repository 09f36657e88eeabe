// Snapshot archives (formats/snapshot-archive.md, SNAP-2..SNAP-12): export,
// one-pass verification, hostile members, truncation, install.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "repl/export.h"
#include "engine/reference_node.h"
#include "repl/install.h"
#include "repl/verify.h"
#include "snapshot/archive_format.h"
#include "snapshot/archive_reader.h"
#include "snapshot/archive_writer.h"
#include "snapshot/manifest.h"
#include "support/archive_builder.h"
#include "support/forwarding_fs.h"
#include "support/read_counting_fs.h"
#include "support/repl_fixture.h"
#include "support/string_file.h"
#include "wal/record_format.h"
#include "wal/record_reader.h"
#include "wal/wal_scan.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// A primary with a checkpoint and a WAL tail: base 40, boundary 55.
void Primary(const TempDir& t) {
  MakePrimary(t / "p", 40);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 15, 5);
}

std::string Export(const TempDir& t, const std::string& name, bool zstd = true) {
  repl::ExportOptions o;
  o.data_dir = t / "p";
  o.output = t / name;
  o.zstd = zstd;
  repl::ExportReport rep;
  Status s = repl::ExportSnapshot(PosixFs(), o, &rep);
  REQUIRE(s.ok());
  return o.output;
}

// `read_at` 1 reads every non-empty member of a plain archive at its offset
// on a worker (SNAP-6), as the default does for members of 1 MiB or more.
snapshot::ArchiveCheck Check(const std::string& path,
                             uint64_t read_at = snapshot::kReadAtMinBytes) {
  auto f = PosixFs().OpenRead(path);
  REQUIRE(f.ok());
  return snapshot::ReadArchive(**f, {}, {.read_at_min_bytes = read_at});
}

// How many members a pass read at their offsets on a worker (SNAP-6).
size_t ReadAtCount(const snapshot::ArchiveCheck& c) {
  return static_cast<size_t>(std::count_if(
      c.member_offsets.begin(), c.member_offsets.end(),
      [](uint64_t off) { return off != snapshot::ArchiveCheck::kStreamed; }));
}

// The two ways members are read: from libarchive's stream, and (in a plain
// archive) at their offsets on workers, for every member that has bytes.
constexpr uint64_t kReadAtModes[] = {snapshot::kReadAtMinBytes, 1};

// A file that can only be read in order: ReadArchive streams every member.
class InOrderOnly final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  bool SupportsReadAt() const override { return false; }
};

// Adds `added` (sorted, all sorting before the same existing member) to the
// tar `entries` and to its manifest (re-encoded); the index in the manifest
// of the first one added. Its entry is entries[1 + index].
size_t InsertMembers(std::vector<TarEntry>* entries, const std::vector<TarEntry>& added) {
  auto m = snapshot::DecodeManifest(entries->at(0).data);
  REQUIRE(m.ok());
  const std::string& first = added.front().path;
  auto at = std::find_if(m->members.begin(), m->members.end(),
                         [&](const snapshot::Member& x) { return x.path > first; });
  const size_t index = static_cast<size_t>(at - m->members.begin());
  std::vector<snapshot::Member> listed;
  for (const TarEntry& e : added) listed.push_back({e.path, e.data.size(), Sha256::Of(e.data)});
  m->members.insert(at, listed.begin(), listed.end());
  (*entries)[0].data = snapshot::EncodeManifest(*m);
  entries->insert(entries->begin() + 1 + static_cast<std::ptrdiff_t>(index), added.begin(),
                  added.end());
  return index;
}

repl::InstallOptions InstallOf(const std::string& dir, const std::string& archive,
                               uint64_t read_at = snapshot::kReadAtMinBytes) {
  repl::InstallOptions o;
  o.data_dir = dir;
  o.archive = archive;
  o.read_at_min_bytes = read_at;
  return o;
}

// A manifest of an empty history (base 0, H(0)) that lists `members`, then
// wal/wal.log (empty), which sorts after data/.
snapshot::Manifest ManifestListing(std::vector<snapshot::Member> members) {
  snapshot::Manifest m;
  m.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  m.base_digest = history::SeedDigest(m.system_id);
  m.boundary_digest = m.base_digest;
  m.members = std::move(members);
  m.members.push_back({"wal/wal.log", 0, std::nullopt});  // SNAP-15: bound by the chain
  return m;
}

Status Install(const std::string& dir, const std::string& archive, bool discard = false) {
  repl::InstallOptions o = InstallOf(dir, archive);
  o.discard_existing = discard;
  return repl::InstallSnapshot(PosixFs(), o, nullptr);
}

}  // namespace

TEST_CASE("SNAP-3 manifest: canonical bytes round trip, any edit is refused") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar", false);
  auto entries = ReadTar(a);
  REQUIRE(entries.at(0).path == "aerodb-repl-manifest.json");
  auto m = snapshot::DecodeManifest(entries[0].data);
  REQUIRE(m.ok());
  CHECK(m->base_commit == 40);
  CHECK(m->boundary_commit == 55);
  CHECK(snapshot::EncodeManifest(*m) == entries[0].data);
  std::string edited = entries[0].data;
  edited[edited.find("\"epoch\":1") + 8] = '2';
  CHECK(snapshot::DecodeManifest(edited).status().message().find("manifest_sha256 mismatch") !=
        std::string::npos);
}

TEST_CASE("SNAP-4 export is deterministic: the same state gives the same bytes") {
  TempDir t;
  Primary(t);
  CHECK(ReadFile(Export(t, "a.tar.zst")) == ReadFile(Export(t, "b.tar.zst")));
  CHECK(ReadFile(Export(t, "a.tar", false)) == ReadFile(Export(t, "b.tar", false)));
}

TEST_CASE("SNAP-2 SNAP-4 a zstd archive of many jobs is one frame, the same bytes every time, however often it is finished") {
  TempDir t;
  std::string body(5 * snapshot::kArchiveZstdJobBytes, '\0');  // incompressible: five jobs or more
  std::mt19937_64 rng(7);
  for (size_t i = 0; i + 8 <= body.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(body.data() + i, &v, 8);
  }
  auto write = [&](const std::string& name, int level) {
    auto out = PosixFs().OpenWrite(t / name, OpenMode::kTruncate);
    REQUIRE(out.ok());
    auto w = snapshot::ArchiveWriter::Open(out->get(), true, level);
    REQUIRE(w.ok());
    REQUIRE((*w)->BeginFile("data/x", body.size()).ok());
    for (size_t at = 0; at < body.size(); at += 65536) {
      REQUIRE((*w)->Data(std::string_view(body).substr(at, 65536)).ok());
    }
    REQUIRE((*w)->Finish().ok());
    REQUIRE((*w)->Finish().ok());  // once more: the frame is not ended twice
    REQUIRE((*out)->Close().ok());
    return ReadFile(t / name);
  };
  for (int level : {1, 3}) {
    CAPTURE(level);
    const std::string a = write("a.tar.zst", level);
    CHECK(write("b.tar.zst", level) == a);  // compressed by a worker, yet not a function of timing
    // One frame and nothing after it, streamed (no content size in its header).
    CHECK(ZSTD_findFrameCompressedSize(a.data(), a.size()) == a.size());
    CHECK(ZSTD_getFrameContentSize(a.data(), a.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
    // It holds the tar: the member's header, its bytes, the end marker.
    std::string tar(body.size() + 3 * 512, '\0');
    const size_t got = ZSTD_decompress(tar.data(), tar.size(), a.data(), a.size());
    REQUIRE_FALSE(ZSTD_isError(got));
    CHECK(got == body.size() + 3 * 512);
    CHECK(tar.compare(0, 6, "data/x") == 0);
    CHECK(tar.compare(512, body.size(), body) == 0);
  }
}

TEST_CASE("SNAP-2 members: manifest first, then sorted paths, regular files only") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  std::vector<std::string> paths;
  for (size_t i = 1; i < entries.size(); ++i) paths.push_back(entries[i].path);
  CHECK(std::is_sorted(paths.begin(), paths.end()));
  CHECK(std::find(paths.begin(), paths.end(), "wal/wal.log") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(),
                  "snapshots/00000000000000000040/storage.dat") != paths.end());
  for (auto& p : paths) CHECK(p.rfind("replication/", 0) != 0);
}

TEST_CASE("SNAP-6 a valid archive verifies in one pass, verify reports its boundary") {
  TempDir t;
  Primary(t);
  for (bool zstd : {true, false}) {
    const std::string a = Export(t, zstd ? "a.tar.zst" : "a.tar", zstd);
    CHECK(Check(a).state == snapshot::ArchiveState::kValid);
    auto r = repl::Verify(PosixFs(), a, {});
    REQUIRE(r.ok());
    CHECK(r->kind == "archive");
    CHECK(r->outcome() == Code::kOk);
    CHECK(r->last_commit == 55);
  }
}

TEST_CASE("SNAP-6 a member of several MiB (hashed on a second thread) verifies, and one changed byte in it is 1") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  std::string blob(5 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 2654435761u >> 13);
  // metadata/ sorts before snapshots/ and wal/.
  const size_t index = InsertMembers(&entries, {TarEntry("metadata/zz-blob", blob)});
  WriteTar(t / "big.tar", entries, false);
  const auto good = Check(t / "big.tar");
  CHECK(good.state == snapshot::ArchiveState::kValid);
  CHECK(ReadAtCount(good) == 1);  // the blob, at its offset on a worker
  entries[1 + index].data[3 * 1024 * 1024] ^= 0x20;
  WriteTar(t / "bad.tar", entries, false);
  auto c = Check(t / "bad.tar");
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail == "member 'metadata/zz-blob': SHA-256 differs from the manifest");
}

TEST_CASE("SNAP-6 members of a plain archive read at their offsets give the stream's verdict, first problem first") {
  TempDir t;
  Primary(t);
  const std::string plain = Export(t, "a.tar", false);
  const std::string zstd = Export(t, "a.tar.zst", true);
  auto streamed = [&](const std::string& path) {
    auto f = PosixFs().OpenRead(path);
    REQUIRE(f.ok());
    InOrderOnly in_order(std::move(*f));
    return snapshot::ReadArchive(in_order, {}, {.read_at_min_bytes = 1});
  };
  const auto at = Check(plain, 1);
  const auto in_order = streamed(plain);
  REQUIRE(at.state == snapshot::ArchiveState::kValid);
  REQUIRE(in_order.state == snapshot::ArchiveState::kValid);
  // Every member with bytes goes to a worker, except AeroDB's manifest.json,
  // which this thread parses for the checks of the members after it.
  auto read_at_expected = [&](const snapshot::Member& mem) {
    return mem.size > 0 && mem.path.find("/manifest.json") == std::string::npos;
  };
  uint64_t with_bytes = 0;
  for (const auto& mem : at.manifest->members) with_bytes += read_at_expected(mem) ? 1 : 0;
  CHECK(with_bytes >= 3);
  CHECK(ReadAtCount(at) == with_bytes);
  CHECK(ReadAtCount(in_order) == 0);     // a file read in order only: the stream
  CHECK(ReadAtCount(Check(zstd, 1)) == 0);  // compressed: the stream
  CHECK(at.member_crcs == in_order.member_crcs);
  CHECK(at.data_bytes == in_order.data_bytes);
  for (size_t i = 0; i < at.member_offsets.size(); ++i) {
    CAPTURE(i);
    CHECK((at.member_offsets[i] != snapshot::ArchiveCheck::kStreamed) ==
          read_at_expected(at.manifest->members[i]));
    CHECK(in_order.member_offsets[i] == snapshot::ArchiveCheck::kStreamed);
  }

  // Two damaged members read at once: the first in member order is reported,
  // whichever worker finishes first, in both ways of reading.
  auto entries = ReadTar(plain);
  std::vector<size_t> damaged;
  for (size_t i = 1; i < entries.size() && damaged.size() < 2; ++i) {
    if (entries[i].data.size() >= 2 && entries[i].path != "wal/wal.log") damaged.push_back(i);
  }
  REQUIRE(damaged.size() == 2);
  for (size_t i : damaged) entries[i].data[entries[i].data.size() / 2] ^= 0x04;
  WriteTar(t / "bad.tar", entries, false);
  for (int round = 0; round < 20; ++round) {
    const auto bad = Check(t / "bad.tar", 1);
    REQUIRE(bad.state == snapshot::ArchiveState::kCorrupt);
    CHECK(bad.detail.find("'" + entries[damaged[0]].path + "'") != std::string::npos);
    CHECK(bad.members_read == damaged[0] - 1);
  }
  CHECK(streamed(t / "bad.tar").detail == Check(t / "bad.tar", 1).detail);

  // Installed either way, the replicas are byte for byte the same.
  for (uint64_t read_at : kReadAtModes) {
    const std::string dir = t / ("r" + std::to_string(read_at));
    REQUIRE(repl::InstallSnapshot(PosixFs(), InstallOf(dir, plain, read_at), nullptr).ok());
  }
  const std::string r1 = t / ("r" + std::to_string(kReadAtModes[0]));
  const std::string r2 = t / "r1";
  size_t files = 0;
  for (const auto& e : fsys::recursive_directory_iterator(r1)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fsys::relative(e.path(), r1).string();
    CAPTURE(rel);
    CHECK(ReadFile(e.path().string()) == ReadFile(r2 + "/" + rel));
    ++files;
  }
  CHECK(files >= with_bytes);
}

TEST_CASE("SNAP-6 verify lists every damaged member in order, install stops at the first") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  // Two members damaged in place (the manifest keeps their SHA-256s).
  std::vector<size_t> damaged;
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].data.size() >= 2 && entries[i].path.find("manifest.json") == std::string::npos &&
        entries[i].path != "wal/wal.log") {
      damaged.push_back(i);
    }
  }
  REQUIRE(damaged.size() >= 2);
  for (size_t i : damaged) entries[i].data[entries[i].data.size() / 2] ^= 0x10;
  for (bool zstd : {false, true}) {
    const std::string bad = t / (zstd ? "bad.tar.zst" : "bad.tar");
    WriteTar(bad, entries, zstd);
    for (uint64_t read_at : kReadAtModes) {
      CAPTURE(zstd);
      CAPTURE(read_at);
      auto f = PosixFs().OpenRead(bad);
      REQUIRE(f.ok());
      const auto all = snapshot::ReadArchive(**f, {},
                                             {.read_at_min_bytes = read_at, .all_findings = true});
      CHECK(all.state == snapshot::ArchiveState::kCorrupt);
      REQUIRE(all.findings.size() == damaged.size());
      for (size_t k = 0; k < damaged.size(); ++k) {
        CHECK(all.findings[k].find("'" + entries[damaged[k]].path + "'") != std::string::npos);
      }
      CHECK(all.detail == all.findings.front());
      CHECK(all.members_read == entries.size() - 1);  // on to the end
      const auto first = Check(bad, read_at);
      CHECK(first.state == snapshot::ArchiveState::kCorrupt);
      CHECK(first.findings == std::vector<std::string>{all.findings.front()});
    }
    auto r = repl::Verify(PosixFs(), bad, {});
    REQUIRE(r.ok());
    CHECK(r->outcome() == Code::kDamage);
    CHECK(r->findings.size() == damaged.size());
    // Damage, then the end of the input (a plain archive 600 bytes short;
    // in a zstd one the cut takes whole blocks with it): every damaged
    // member and the end are listed, and the verdict is damage, not in
    // transit.
    if (zstd) continue;
    const std::string whole = ReadFile(bad);
    WriteFile(t / "cut", whole.substr(0, whole.size() - 600));
    auto f = PosixFs().OpenRead(t / "cut");
    REQUIRE(f.ok());
    const auto cut = snapshot::ReadArchive(**f, {}, {.all_findings = true});
    CHECK(cut.state == snapshot::ArchiveState::kCorrupt);
    REQUIRE(cut.findings.size() == damaged.size() + 1);
    CHECK(cut.findings.front().find("'" + entries[damaged[0]].path + "'") != std::string::npos);
  }
}

TEST_CASE("SNAP-6 SNAP-7 verify reads the rest of a damaged zstd member: the input ending inside it ends the pass, as damage") {
  TempDir t;
  REQUIRE(node::Node::Init(PosixFs(), t / "p").ok());
  Write(t / "p", 200, 7, 8, 2000);  // data/documents.dat of about 3 MiB
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  auto entries = ReadTar(Export(t, "a.tar", false));
  REQUIRE(entries.at(1).path == "data/documents.dat");
  REQUIRE(entries[1].data.size() > (2u << 20));
  entries[1].data[100] ^= 0x01;  // the first storage record fails its CRC
  WriteTar(t / "bad.tar.zst", entries, true);
  const std::string whole = ReadFile(t / "bad.tar.zst");
  // Cut inside documents.dat's compressed bytes, well after the damage.
  WriteFile(t / "cut.tar.zst", whole.substr(0, whole.size() / 3));
  auto f = PosixFs().OpenRead(t / "cut.tar.zst");
  REQUIRE(f.ok());
  const auto all = snapshot::ReadArchive(**f, {}, {.all_findings = true});
  CHECK(all.state == snapshot::ArchiveState::kCorrupt);
  REQUIRE(all.findings.size() == 2);
  CHECK(all.findings[0].find("data/documents.dat") != std::string::npos);
  CHECK(all.members_read == 0);  // the pass ended inside member 1
  // The stop-at-first pass reports the damage alone.
  const auto first = Check(t / "cut.tar.zst");
  CHECK(first.findings == std::vector<std::string>{all.findings[0]});
  // Not cut: the damage, then every other member checked.
  auto g = PosixFs().OpenRead(t / "bad.tar.zst");
  REQUIRE(g.ok());
  const auto whole_pass = snapshot::ReadArchive(**g, {}, {.all_findings = true});
  CHECK(whole_pass.findings.size() == 1);
  CHECK(whole_pass.members_read == entries.size() - 1);
}

TEST_CASE("SNAP-6 hundreds of small members behind one read at its offset are taken in order, the stream's verdict") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  // metadata/ sorts before snapshots/ and wal/: one large member read by a
  // worker, then 300 small ones read on the reading thread behind it (more
  // than the 64 outcomes that may wait).
  std::vector<TarEntry> added;
  std::string big(256 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 2654435761u >> 11);
  added.push_back(TarEntry("metadata/a-big", big));
  for (int i = 0; i < 300; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "metadata/b-%04d", i);
    added.push_back(TarEntry(name, "small member " + std::to_string(i)));
  }
  const size_t index = InsertMembers(&entries, added);
  WriteTar(t / "many.tar", entries, false);
  const uint64_t threshold = 64 * 1024;  // the big member and the node's large files only
  const auto at = Check(t / "many.tar", threshold);
  REQUIRE(at.state == snapshot::ArchiveState::kValid);
  CHECK(ReadAtCount(at) >= 1);
  CHECK(at.members_read == at.manifest->members.size());
  auto f = PosixFs().OpenRead(t / "many.tar");
  REQUIRE(f.ok());
  InOrderOnly in_order(std::move(*f));
  const auto streamed = snapshot::ReadArchive(in_order, {}, {.read_at_min_bytes = threshold});
  CHECK(ReadAtCount(streamed) == 0);
  CHECK(at.member_crcs == streamed.member_crcs);
  // The big member and a small one 200 members after it are both damaged:
  // the big one, first in order, is reported.
  entries[1 + index].data[1000] ^= 0x01;
  entries[1 + index + 200].data[0] ^= 0x01;
  WriteTar(t / "bad.tar", entries, false);
  const auto bad = Check(t / "bad.tar", threshold);
  CHECK(bad.state == snapshot::ArchiveState::kCorrupt);
  CHECK(bad.detail == "member 'metadata/a-big': SHA-256 differs from the manifest");
  // Only the small one: found behind the big one that checks out.
  entries[1 + index].data[1000] ^= 0x01;
  WriteTar(t / "bad.tar", entries, false);
  CHECK(Check(t / "bad.tar", threshold).detail ==
        "member 'metadata/b-0199': SHA-256 differs from the manifest");
}

TEST_CASE("SNAP-7 a truncated archive is in transit (8), a damaged one is 1") {
  TempDir t;
  Primary(t);
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    const std::string a = Export(t, zstd ? "a.tar.zst" : "a.tar", zstd);
    const std::string full = ReadFile(a);
    for (uint64_t read_at : kReadAtModes) {
      CAPTURE(read_at);
      for (size_t cut :
           {size_t{0}, size_t{100}, full.size() / 3, full.size() / 2, full.size() - 600}) {
        CAPTURE(cut);
        WriteFile(t / "cut", full.substr(0, cut));
        CHECK(Check(t / "cut", read_at).state == snapshot::ArchiveState::kInTransit);
      }
      std::string bad = full;
      FlipBit(&bad, zstd ? ZstdDamagingFlip(full, full.size() / 2, 3) : full.size() / 2, 3);
      WriteFile(t / "bad", bad);
      CHECK(Check(t / "bad", read_at).state == snapshot::ArchiveState::kCorrupt);
    }
  }
}

// SNAP-17: a copy that sized the file first and writes it in order. A zstd
// archive is in transit (8) for verify and install at each stage until its
// last 16 bytes are there, and valid once whole; a file with nothing written
// yet is in transit whatever its name; a plain archive with its first bytes
// written stays damage (its tail of zero blocks proves nothing).
TEST_CASE("SNAP-17 a preallocated zstd archive is in transit for verify and install until its last 16 bytes are written, never damage") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst", true);
  const std::string full = ReadFile(a);
  for (size_t head : {size_t{0}, size_t{4}, size_t{600}, full.size() / 2, full.size() - 16}) {
    CAPTURE(head);
    const std::string pre = t / "pre.tar.zst";
    WriteFile(pre, full.substr(0, head) + std::string(full.size() - head, '\0'));
    for (uint64_t read_at : kReadAtModes) {
      const snapshot::ArchiveCheck c = Check(pre, read_at);
      CHECK(c.state == snapshot::ArchiveState::kInTransit);
      // After the magic alone, zstd reads the zeros as empty blocks up to
      // the end of the input: in transit by SNAP-7 already.
      if (head != 4) CHECK(c.detail.find("preallocated") != std::string::npos);
      CHECK(c.findings.empty());
    }
    auto v = repl::Verify(PosixFs(), pre, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kInTransit);
    CHECK(Install(t / "r", pre).code() == Code::kInTransit);
    CHECK_FALSE(FileExists(t / "r"));
  }
  // Zeros that stop before the end are damage.
  std::string holed = full;
  std::fill(holed.begin() + 600, holed.end() - 17, '\0');
  WriteFile(t / "holed.tar.zst", holed);
  CHECK(Check(t / "holed.tar.zst").state == snapshot::ArchiveState::kCorrupt);
  // Plain: nothing written yet is in transit; its first bytes written, damage.
  const std::string p = Export(t, "p.tar", false);
  const std::string plain = ReadFile(p);
  WriteFile(t / "pre.tar", std::string(plain.size(), '\0'));
  CHECK(Check(t / "pre.tar").state == snapshot::ArchiveState::kInTransit);
  WriteFile(t / "pre.tar", plain.substr(0, plain.size() / 2) + std::string(plain.size() - plain.size() / 2, '\0'));
  CHECK(Check(t / "pre.tar").state == snapshot::ArchiveState::kCorrupt);
  // The whole copy is valid.
  WriteFile(t / "pre.tar.zst", full);
  CHECK(Check(t / "pre.tar.zst").state == snapshot::ArchiveState::kValid);
}

TEST_CASE("SNAP-8 hostile members are refused before any byte is written") {
  TempDir t;
  Primary(t);
  const auto valid = ReadTar(Export(t, "a.tar", false));
  auto refused = [&](std::vector<TarEntry> entries, const std::string& why) {
    CAPTURE(why);
    WriteTar(t / "h.tar", entries, false);
    auto c = Check(t / "h.tar");
    CHECK(c.state == snapshot::ArchiveState::kCorrupt);
    CHECK(c.detail.find(why) != std::string::npos);
    // install writes nothing: no target, no temp directory
    CHECK(Install(t / "r", t / "h.tar").code() == Code::kDamage);
    CHECK_FALSE(FileExists(t / "r"));
    CHECK_FALSE(FileExists(t / ".r.install.tmp"));
  };
  auto with = [&](size_t at, TarEntry e) {
    auto v = valid;
    v.insert(v.begin() + static_cast<long>(at), e);
    return v;
  };
  refused(with(1, {"/etc/passwd", "x"}), "absolute path");
  refused(with(1, {"data/../../escape", "x"}), "'..', '.' or empty component");
  refused(with(1, {"data/link", "", TarEntry::kSymlink, "/etc/passwd"}), "symlink");
  refused(with(1, {"data/hard", "", TarEntry::kHardlink, "data/documents.dat"}), "a hard link");
  refused(with(1, {"data/dev", "", TarEntry::kCharDevice}), "device");
  refused(with(1, {"data/fifo", "", TarEntry::kFifo}), "fifo");
  refused(with(1, {"data/dir", "", TarEntry::kDir}), "directory");
  refused(with(1, {"replication/state.json", "{}"}), "path outside the node layout");
  refused(with(1, {"data/a\x1b]0;x\x07", "x"}), "a control character or a byte of no UTF-8 sequence");
  refused(with(1, {"data/bad\xff", "x"}), "a control character or a byte of no UTF-8 sequence");
  refused(with(2, valid[1]), "duplicate, out of order or unlisted");  // a duplicate
  refused(with(valid.size(), {"wal/zzz", "x"}), "is not listed in the manifest");
  {
    auto v = valid;
    v[1].size = static_cast<long long>(v[1].data.size()) + 512;  // larger than the manifest says
    v[1].data.resize(v[1].data.size() + 512, 'x');
    refused(v, "where the manifest says");
  }
  {
    auto v = valid;
    v.erase(v.begin() + 1);
    refused(v, "where the manifest lists");
  }
  {
    // A sparse member (a GNU sparse map in a pax header): its bytes would
    // differ by read path (holes), and export never writes one.
    auto v = valid;
    auto big = std::find_if(v.begin() + 1, v.end(),
                            [](const TarEntry& e) { return e.data.size() > 1024; });
    REQUIRE(big != v.end());
    big->sparse = true;
    refused(v, "a sparse file");
  }
  {
    auto v = valid;
    std::swap(v[1], v[2]);
    refused(v, "where the manifest lists");
  }
}

TEST_CASE("SNAP-8 FM-39 export archives a schema named beyond ASCII whatever the locale, and refuses (1) one whose name is not UTF-8, writing nothing") {
  TempDir t;
  Primary(t);
  // The process's locale stays C (no setlocale): the archive must not
  // depend on it (libarchive 3.6's pax writer crashed on such a name).
  WriteFile(t / "p/metadata/schemas/caf\xc3\xa9.json", "{\"x\":1}");
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    const std::string a = Export(t, zstd ? "u.tar.zst" : "u.tar", zstd);
    CHECK(Check(a).state == snapshot::ArchiveState::kValid);
    const std::string r = t / (zstd ? "rz" : "rp");
    REQUIRE(Install(r, a).ok());
    CHECK(ReadFile(r + "/metadata/schemas/caf\xc3\xa9.json") == "{\"x\":1}");
  }
  for (const std::string& bad : {std::string("bad\xff.json"), std::string("a\x1b[2J.json")}) {
    CAPTURE(bad);
    const std::string f = t / "p/metadata/schemas" / bad;
    WriteFile(f, "{}");
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = t / "v.tar.zst";
    Status s = repl::ExportSnapshot(PosixFs(), o, nullptr);
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("cannot export '") == 0);
    CHECK(s.message().find("is not allowed in an archive") != std::string::npos);
    CHECK(s.hint().find("rename the file") != std::string::npos);
    CHECK_FALSE(FileExists(o.output));
    fsys::remove(f);
  }
}

TEST_CASE("SNAP-9 export refuses (1) a tree of more files than an archive may hold, writing nothing, and one file fewer exports") {
  TempDir t;
  Primary(t);
  // The node's own members (wal/wal.log, data/documents.dat, ...), then
  // schema files up to the bound: the archive verify and install accept.
  repl::ExportOptions o;
  o.data_dir = t / "p";
  o.output = t / "n.tar";
  o.zstd = false;
  repl::ExportReport first;
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, &first).ok());
  const uint64_t own = first.members - 1;  // member 0 is the manifest
  fsys::remove(o.output);
  // The reader's bound is the default; a tree at it is 100,000 files, so
  // the test lowers it (the reader's side: "SNAP-9 a manifest of exactly
  // 100000 members is within the bound").
  CHECK(repl::ExportOptions{}.max_members == snapshot::kMaxMembers);
  o.max_members = own + 3;
  for (int i = 0; i < 3; ++i) WriteFile(t / "p/metadata/schemas" / ("s" + std::to_string(i)), "");
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, nullptr).ok());
  CHECK(Check(o.output).state == snapshot::ArchiveState::kValid);
  fsys::remove(o.output);
  WriteFile(t / "p/metadata/schemas/one-more", "");
  Status s = repl::ExportSnapshot(PosixFs(), o, nullptr);
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("an archive holds at most " + std::to_string(own + 3) + " files") != std::string::npos);
  CHECK_FALSE(FileExists(o.output));
}

TEST_CASE("SNAP-9 a decompression bomb is refused by ratio") {
  TempDir t;
  // A manifest that honestly lists 64 MiB of zeros: compressed ~10000:1.
  const std::string zeros(64u << 20, '\0');
  const snapshot::Manifest m = ManifestListing({{"data/zeros", zeros.size(), Sha256::Of(zeros)}});
  WriteTar(t / "bomb.tar.zst",
           {{"aerodb-repl-manifest.json", snapshot::EncodeManifest(m)},
            {"data/zeros", zeros},
            {"wal/wal.log", ""}},
           true);
  auto c = Check(t / "bomb.tar.zst");
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail.find("decompression bomb") != std::string::npos);
  CHECK(c.data_bytes < zeros.size());  // refused long before the end
}

TEST_CASE("SNAP-9 export refuses (2) a zstd archive install would refuse as a bomb, and the plain one installs") {
  TempDir t;
  MakePrimary(t / "p", 1);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE(n.ok());
    const std::string body = "{\"p\":\"" + std::string(2000000, 'a') + "\"}";
    REQUIRE((*n)->Commit({{engine::Op::Kind::kPut, "c", "x", body}}).ok());
    REQUIRE((*n)->Close().ok());
  }
  repl::ExportOptions o;
  o.data_dir = t / "p";
  o.output = t / "a.tar.zst";
  Status s = repl::ExportSnapshot(PosixFs(), o, nullptr);
  CHECK(s.code() == Code::kUsage);
  CHECK(s.message().find("install would refuse it as a decompression bomb") != std::string::npos);
  CHECK(s.hint().find("--compression none") != std::string::npos);
  CHECK_FALSE(FileExists(o.output));
  for (const auto& e : std::filesystem::directory_iterator(t.path())) {  // no temp of the run is left
    CHECK(e.path().filename().string().rfind(".a.tar.zst.", 0) != 0);
  }
  o.output = t / "a.tar";
  o.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, nullptr).ok());
  CHECK(Install(t / "r", o.output).ok());
}

TEST_CASE("SNAP-6 SNAP-9 verify, going on past a damaged zstd member, still refuses the bomb in it") {
  TempDir t;
  // 64 MiB of zeros as data/documents.dat, honestly listed: its first
  // storage record is damaged, and the rest of it is a bomb.
  std::string zeros(64u << 20, '\0');
  zeros[0] = 'x';
  const snapshot::Manifest m =
      ManifestListing({{"data/documents.dat", zeros.size(), Sha256::Of(zeros)}});
  WriteTar(t / "bomb.tar.zst",
           {{"aerodb-repl-manifest.json", snapshot::EncodeManifest(m)},
            {"data/documents.dat", zeros},
            {"wal/wal.log", ""}},
           true);
  auto f = PosixFs().OpenRead(t / "bomb.tar.zst");
  REQUIRE(f.ok());
  const auto all = snapshot::ReadArchive(**f, {}, {.all_findings = true});
  CHECK(all.state == snapshot::ArchiveState::kCorrupt);
  REQUIRE(all.findings.size() == 2);
  CHECK(all.findings[0].find("data/documents.dat") != std::string::npos);
  CHECK(all.findings[1].find("decompression bomb") != std::string::npos);
  CHECK(all.data_bytes < zeros.size());  // refused long before the end
}

namespace {

// Counts the bytes read through it: shows how far into the file a refusal came.
class CountingFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  Result<size_t> Read(char* buf, size_t n) override {
    Result<size_t> got = ForwardingFile::Read(buf, n);
    if (got.ok()) read_ += *got;
    return got;
  }
  // Reads in order only: what is counted is all that was read.
  bool SupportsReadAt() const override { return false; }
  uint64_t read() const { return read_; }

 private:
  uint64_t read_ = 0;
};

// An archive that holds only member 0 (and the end-of-archive blocks): a
// manifest that passes is then refused as "member 'P' is missing", so a
// manifest problem as the detail shows the refusal came from member 0.
snapshot::ArchiveCheck CheckManifestOnly(const TempDir& t, const std::string& manifest) {
  WriteTar(t / "m.tar", {{"aerodb-repl-manifest.json", manifest}}, false);
  return Check(t / "m.tar");
}

const std::string kManifestProblem = "invalid archive manifest 'aerodb-repl-manifest.json': ";

}  // namespace

TEST_CASE("SNAP-2 SNAP-7 a member of 9 GiB (its size in a pax header) cut short is in transit, a size off by one is 1") {
  TempDir t;
  const uint64_t big = 9ull << 30;  // over ustar's 8 GiB: only a pax header can say it
  std::string head(1 << 20, '\0');
  for (size_t i = 0; i < head.size(); ++i) head[i] = static_cast<char>(i * 2654435761u >> 7);
  for (uint64_t listed : {big, big + 1}) {
    CAPTURE(listed);
    const snapshot::Manifest m =
        ManifestListing({{"data/big", listed, Sha256::Of("not checked: the copy ends first")}});
    TarEntry member("data/big", head);
    member.size = static_cast<long long>(big);
    // A copy that stopped 1.5 MiB into an archive of 9 GiB.
    const std::string prefix = PaxTarPrefix(
        {{"aerodb-repl-manifest.json", snapshot::EncodeManifest(m)}, member, {"wal/wal.log", ""}},
        3u << 19);
    REQUIRE(prefix.size() == 3u << 19);
    REQUIRE(prefix.find("size=9663676416") != std::string::npos);  // the pax record
    WriteFile(t / "cut.tar", prefix);
    for (uint64_t read_at : kReadAtModes) {
      CAPTURE(read_at);
      const auto c = Check(t / "cut.tar", read_at);
      if (listed == big) {
        CHECK(c.state == snapshot::ArchiveState::kInTransit);  // the header agreed: 9 GiB
      } else {
        CHECK(c.state == snapshot::ArchiveState::kCorrupt);
        CHECK(c.detail == "member 'data/big': size 9663676416 where the manifest says 9663676417");
      }
    }
  }
}

TEST_CASE("SNAP-9 member 0 of size 0 or over 16 MiB is refused from its header (1)") {
  TempDir t;
  constexpr size_t kMax = snapshot::kMaxManifestBytes;
  static_assert(kMax == 16u << 20);
  for (size_t size : {size_t{0}, kMax + 1}) {
    CAPTURE(size);
    // A plain archive: member 0's bytes lie in the file, after its header.
    WriteTar(t / "m.tar", {{"aerodb-repl-manifest.json", std::string(size, ' ')}, {"wal/wal.log", ""}},
             false);
    auto f = PosixFs().OpenRead(t / "m.tar");
    REQUIRE(f.ok());
    CountingFile counted(**f);
    auto c = snapshot::ReadArchive(counted);
    CHECK(c.state == snapshot::ArchiveState::kCorrupt);
    CHECK(c.detail == "manifest size out of bounds");
    CHECK(counted.read() < (1u << 20));  // refused from the header, the 16 MiB not read
    Status s = Install(t / "r", t / "m.tar");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message() == "invalid archive '" + (t / "m.tar") + "': manifest size out of bounds");
    CHECK_FALSE(FileExists(t / "r"));
    CHECK_FALSE(FileExists(t / ".r.install.tmp"));
  }
  // Exactly 16 MiB is within the bound: read whole and decoded (and then
  // refused, because 16 MiB of spaces is not a manifest).
  WriteTar(t / "m.tar", {{"aerodb-repl-manifest.json", std::string(kMax, ' ')}}, false);
  auto f = PosixFs().OpenRead(t / "m.tar");
  REQUIRE(f.ok());
  CountingFile counted(**f);
  auto c = snapshot::ReadArchive(counted);
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail == kManifestProblem + "does not end with a newline");
  CHECK(counted.read() >= kMax);
}

// The canonical manifest of ManifestListing() with `extra` empty members
// data/000000.. in front of wal/wal.log, built as text: EncodeManifest takes
// about half a second for 100000 members, this a few milliseconds.
std::string ManifestWithEmptyMembers(int extra) {
  std::string text = snapshot::EncodeManifest(ManifestListing({}));
  const std::string empty_sha = ToHex(Sha256::Of(""));
  std::string entries;
  char entry[160];
  for (int i = 0; i < extra; ++i) {
    std::snprintf(entry, sizeof entry, R"({"path":"data/%06d","sha256":"%s","size":0,"type":"file"},)",
                  i, empty_sha.c_str());
    entries += entry;
  }
  const size_t wal = text.find(R"({"path":"wal/wal.log")");
  const size_t count = text.find(R"("member_count":1,)");
  REQUIRE(wal != std::string::npos);
  REQUIRE(count != std::string::npos);
  text.insert(wal, entries);
  text.replace(count, 17, "\"member_count\":" + std::to_string(extra + 1) + ",");
  // Seal it again: manifest_sha256 is the SHA-256 of the text without itself.
  const std::string key = R"("manifest_sha256":")";
  const size_t k = text.find(key);
  REQUIRE(k != std::string::npos);
  text.erase(k, key.size() + 64 + 2);
  const std::string sha = ToHex(Sha256::Of(std::string_view(text).substr(0, text.size() - 1)));
  text.insert(k, key + sha + "\",");
  return text;
}

TEST_CASE("SNAP-9 a manifest listing more than 100000 members is refused (1) before any member") {
  TempDir t;
  static_assert(snapshot::kMaxMembers == 100000);
  {  // the text builder gives exactly EncodeManifest's bytes
    std::vector<snapshot::Member> two = {{"data/000000", 0, Sha256::Of("")},
                                         {"data/000001", 0, Sha256::Of("")}};
    CHECK(ManifestWithEmptyMembers(2) == snapshot::EncodeManifest(ManifestListing(two)));
  }
  const std::string over = ManifestWithEmptyMembers(100000);  // with wal/wal.log: 100001
  REQUIRE(over.size() < snapshot::kMaxManifestBytes);  // the member bound decides, not the size
  auto c = CheckManifestOnly(t, over);
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail == kManifestProblem + "invalid members");
  CHECK(c.members_read == 0);
}

TEST_CASE("SNAP-9 a manifest of exactly 100000 members is within the bound") {
  const std::string at_bound = ManifestWithEmptyMembers(99999);  // with wal/wal.log: 100000
  auto m = snapshot::DecodeManifest(at_bound);
  REQUIRE(m.ok());
  CHECK(m->members.size() == 100000);
}

TEST_CASE("SNAP-9 total_bytes over 64 GiB is refused (1), member sizes that wrap around included") {
  TempDir t;
  constexpr uint64_t kMax = snapshot::kMaxTotalBytes;
  static_assert(kMax == uint64_t{64} << 30);
  const auto sha = Sha256::Of("");
  auto refused = [&](const snapshot::Manifest& m) {
    const std::string bytes = snapshot::EncodeManifest(m);
    CHECK(snapshot::DecodeManifest(bytes).status().message() ==
          kManifestProblem + "total_bytes over the 64 GiB bound");
    auto c = CheckManifestOnly(t, bytes);
    CHECK(c.state == snapshot::ArchiveState::kCorrupt);
    CHECK(c.detail == kManifestProblem + "total_bytes over the 64 GiB bound");
    CHECK(c.members_read == 0);
  };
  refused(ManifestListing({{"data/big", kMax + 1, sha}}));
  refused(ManifestListing({{"data/a", kMax, sha}, {"data/b", 1, sha}}));
  // Four members of 2^62 bytes: 2^64 in all, which a 64-bit sum wraps to a
  // total_bytes of 0. Each size alone fits a tar header (pax).
  const uint64_t quarter = uint64_t{1} << 62;
  snapshot::Manifest wrap = ManifestListing(
      {{"data/a", quarter, sha}, {"data/b", quarter, sha}, {"data/c", quarter, sha},
       {"data/d", quarter, sha}});
  REQUIRE(wrap.TotalBytes() == 0);
  refused(wrap);
  // Exactly 64 GiB is within the bound: the manifest passes, and the
  // archive is refused only for the member data it lacks.
  const std::string at_bound = snapshot::EncodeManifest(ManifestListing({{"data/big", kMax, sha}}));
  CHECK(snapshot::DecodeManifest(at_bound).ok());
  auto c = CheckManifestOnly(t, at_bound);
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail == "member 'data/big' is missing (2 of 2 not present)");
}

TEST_CASE("SNAP-10 SNAP-11 install: a replica at the boundary that apply-wal continues") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  REQUIRE(Install(t / "r", a).ok());
  node::NodeState s = StateOf(t / "r");
  CHECK(s.role == node::Role::kReplica);
  CHECK(s.applied_commit == 55);
  CHECK(s.base_commit == 40);
  CHECK(s.applied_digest == StateOf(t / "p").applied_digest);
  CHECK(repl::Verify(PosixFs(), t / "r", {})->outcome() == Code::kOk);
  Write(t / "p", 10, 6);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

namespace {

// The archive file that install opens, being rewritten in place by a copy:
// a byte read for the first time is the old copy's (`first`), a byte read
// again is the new copy's (`again`). A reader that read the archive twice
// (verify, then extract) would install bytes it never verified.
class RewrittenOnReread final : public ReadableFile {
 public:
  // `reread` counts the bytes read again; it outlives the file.
  RewrittenOnReread(std::string first, std::string again, std::string path, uint64_t* reread)
      : first_(std::move(first)), again_(std::move(again)), seen_(first_.size(), false),
        path_(std::move(path)), reread_(reread) {}
  Result<size_t> Read(char* buf, size_t n) override {
    AERO_ASSIGN_OR_RETURN(size_t got, ReadAt(pos_, buf, n));
    pos_ += got;
    return got;
  }
  Status Seek(uint64_t offset) override {
    pos_ = offset;
    return Status::Ok();
  }
  bool SupportsReadAt() const override { return true; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    std::lock_guard<std::mutex> hold(mu_);  // members are read at their offsets on workers
    if (offset >= first_.size()) return size_t{0};
    n = std::min<size_t>(n, first_.size() - offset);
    for (size_t k = 0; k < n; ++k) {
      const size_t at = static_cast<size_t>(offset) + k;
      buf[k] = seen_[at] ? again_[at] : first_[at];
      if (seen_[at]) ++*reread_;
      seen_[at] = true;
    }
    return n;
  }
  Result<uint64_t> Size() override { return first_.size(); }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.size = first_.size();
    return i;
  }
  const std::string& path() const override { return path_; }

 private:
  std::string first_, again_;
  std::vector<bool> seen_;
  std::string path_;
  uint64_t* reread_;
  std::mutex mu_;
  uint64_t pos_ = 0;
};

// Serves the archive `archive` as a RewrittenOnReread file, and records
// every file created (OpenWrite), so that a test sees what install wrote
// before it removed it.
class RewritingFs final : public ForwardingFs {
 public:
  RewritingFs(std::string archive, std::string again)
      : archive_(std::move(archive)), again_(std::move(again)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    if (path != archive_) return real_.OpenRead(path);
    ++opened_;
    return std::unique_ptr<ReadableFile>(new RewrittenOnReread(ReadFile(path), again_, path, &reread_));
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    created_.push_back(p);
    return real_.OpenWrite(p, m);
  }
  int opened() const { return opened_; }
  uint64_t reread() const { return reread_; }
  const std::vector<std::string>& created() const { return created_; }

 private:
  std::string archive_, again_;
  int opened_ = 0;
  uint64_t reread_ = 0;
  std::vector<std::string> created_;
};

// Nothing of an install that failed is left: no DIR, no temp directory,
// no lock file.
void CheckNothingLeft(const TempDir& t) {
  CHECK_FALSE(FileExists(t / "r"));
  CHECK_FALSE(FileExists(t / ".r.install.tmp"));
  CHECK_FALSE(FileExists(t / ".r.install.lock"));
}

}  // namespace

TEST_CASE("SNAP-10 an archive rewritten in place while install reads it installs the bytes it verified, or nothing") {
  TempDir t;
  Primary(t);
  for (bool zstd : {false, true}) {
    const std::string a = Export(t, zstd ? "a.tar.zst" : "a.tar", zstd);
    const std::string good = ReadFile(a);
    std::string changed = good;
    for (size_t k = good.size() / 4; k < good.size(); k += 97) changed[k] ^= 0x5a;
    for (uint64_t read_at : kReadAtModes) {
      CAPTURE(zstd);
      CAPTURE(read_at);
      // Streamed, every byte is read once: what is installed is what was
      // verified, never the new copy's bytes behind them. Read at their
      // offsets, a member's first bytes were also in the block that held
      // its header (libarchive reads ahead): the worker verifies and writes
      // what it reads, so the new copy's bytes there are damage (1), and
      // nothing is installed.
      {
        RewritingFs fs(a, changed);
        const Status s = repl::InstallSnapshot(fs, InstallOf(t / "r", a, read_at), nullptr);
        REQUIRE(fs.opened() == 1);
        if (zstd || read_at == snapshot::kReadAtMinBytes) {
          REQUIRE(s.ok());
          CHECK(fs.reread() == 0);
        }
        if (s.ok()) {
          CHECK(repl::Verify(PosixFs(), t / "r", {})->outcome() == Code::kOk);
          CheckSameHistory(t / "p", t / "r");
          CHECK(ReadFile(t / "r/data/documents.dat") == ReadFile(t / "p/data/documents.dat"));
          CHECK_FALSE(FileExists(t / ".r.install.lock"));
          fsys::remove_all(t / "r");
        } else {
          CHECK(fs.reread() > 0);
          CHECK(s.code() == Code::kDamage);
          CheckNothingLeft(t);
        }
      }
      // The copy ran ahead of the reader: its first quarter is the old
      // archive, the rest the new one. The mix is judged as verify judges
      // it, damage (1), and nothing is installed.
      {
        const std::string mixed = good.substr(0, good.size() / 4) + changed.substr(good.size() / 4);
        auto f = PosixFs().OpenWrite(t / "m", OpenMode::kTruncate);
        REQUIRE(f.ok());
        REQUIRE((*f)->Append(mixed).ok());
        REQUIRE((*f)->Close().ok());
        const snapshot::ArchiveCheck verdict = Check(t / "m", read_at);
        REQUIRE(verdict.state == snapshot::ArchiveState::kCorrupt);
        Status s = repl::InstallSnapshot(PosixFs(), InstallOf(t / "r", t / "m", read_at), nullptr);
        CHECK(s.code() == Code::kDamage);
        CHECK(s.message() == "invalid archive '" + (t / "m") + "': " + verdict.detail);
        CHECK(s.hint() == "nothing was installed; get a good copy of the archive");
        CheckNothingLeft(t);
      }
      // The new copy is shorter so far: in transit (8), as verify says.
      for (size_t cut : {good.size() / 3, good.size() / 2}) {
        CAPTURE(cut);
        auto f = PosixFs().OpenWrite(t / "m", OpenMode::kTruncate);
        REQUIRE(f.ok());
        REQUIRE((*f)->Append(good.substr(0, cut)).ok());
        REQUIRE((*f)->Close().ok());
        REQUIRE(Check(t / "m", read_at).state == snapshot::ArchiveState::kInTransit);
        Status s = repl::InstallSnapshot(PosixFs(), InstallOf(t / "r", t / "m", read_at), nullptr);
        CHECK(s.code() == Code::kInTransit);
        CHECK(s.message().find("archive in transit '" + (t / "m") + "': the archive ends after ") == 0);
        CHECK(s.hint() == "re-run once the copy has finished; nothing was installed");
        CheckNothingLeft(t);
      }
    }
  }
}

TEST_CASE("SNAP-10 damage in the last member removes the members already written, DIR untouched") {
  TempDir t;
  Primary(t);
  for (bool zstd : {false, true}) {
    const auto entries = ReadTar(Export(t, "e.tar", false));
    fsys::remove(t / "e.tar");
    REQUIRE(entries.back().path == "wal/wal.log");  // members sort by path: the WAL is last
    auto damaged = entries;
    damaged.back().data[damaged.back().data.size() / 2] ^= 0x01;
    WriteTar(t / "d.tar", damaged, zstd);
    const snapshot::ArchiveCheck verdict = Check(t / "d.tar");
    REQUIRE(verdict.state == snapshot::ArchiveState::kCorrupt);
    for (uint64_t read_at : kReadAtModes) {
      for (bool existing : {false, true}) {
        CAPTURE(zstd);
        CAPTURE(read_at);
        CAPTURE(existing);
        // An empty DIR, or an old replica that --discard-existing would replace.
        if (existing) {
          REQUIRE(Install(t / "r", Export(t, "old.tar", false)).ok());
          fsys::remove(t / "old.tar");
        }
        const std::string before = existing ? ReadFile(t / "r/replication/state.json") : "";
        RewritingFs fs(t / "d.tar", ReadFile(t / "d.tar"));
        repl::InstallOptions o = InstallOf(t / "r", t / "d.tar", read_at);
        o.discard_existing = existing;
        Status s = repl::InstallSnapshot(fs, o, nullptr);
        CHECK(s.code() == Code::kDamage);
        CHECK(s.message() == "invalid archive '" + (t / "d.tar") + "': " + verdict.detail);
        // The members before the WAL were written, then removed with the
        // temp directory; DIR is as it was.
        const auto& created = fs.created();
        CHECK(std::count_if(created.begin(), created.end(), [&](const std::string& p) {
                return p.find("/.r.install.tmp/") != std::string::npos;
              }) >= 2);
        CHECK_FALSE(FileExists(t / ".r.install.tmp"));
        CHECK_FALSE(FileExists(t / ".r.install.lock"));
        if (existing) {
          CHECK(ReadFile(t / "r/replication/state.json") == before);
          fsys::remove_all(t / "r");
        } else {
          CHECK_FALSE(FileExists(t / "r"));
        }
      }
    }
  }
}

TEST_CASE("SNAP-10 install refuses a target without a parent (9) and an archive that is missing (9) or not a file (2) before reading it") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar", false);
  {
    ReadCountingFs fs;
    Status s = repl::InstallSnapshot(fs, InstallOf(t / "no/such/r", a), nullptr);
    CHECK(s.code() == Code::kNotFound);
    CHECK(s.message() == "no parent directory '" + (t / "no/such/r") + "': '" + (t / "no/such") +
                             "' does not exist");
    CHECK(s.hint() == "create the parent directory first, or install elsewhere; nothing was read "
                      "or written");
    CHECK(fs.BytesRead("a.tar") == 0);  // refused before the archive was read
  }
  {
    ReadCountingFs fs;
    WriteFile(t / "file", "x");
    Status s = repl::InstallSnapshot(fs, InstallOf(t / "file/r", a), nullptr);
    CHECK(s.code() == Code::kNotFound);
    CHECK(s.message().find("' is not a directory") != std::string::npos);
    CHECK(fs.BytesRead("a.tar") == 0);
  }
  Status missing = Install(t / "r", t / "missing.tar");
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.message() == "no archive '" + (t / "missing.tar") + "': no such file");
  Status dir = Install(t / "r", t / "p");
  CHECK(dir.code() == Code::kUsage);
  CHECK(dir.message() == "not an archive '" + (t / "p") + "': a directory");
  CHECK(dir.hint() == "give the file that snapshot export wrote; nothing was installed");
  REQUIRE(::mkfifo((t / "fifo").c_str(), 0600) == 0);  // could not be read twice
  Status fifo = Install(t / "r", t / "fifo");
  CHECK(fifo.code() == Code::kUsage);
  CHECK(fifo.message() == "not an archive '" + (t / "fifo") + "': not a regular file");
  CHECK_FALSE(FileExists(t / "r"));
  CHECK_FALSE(FileExists(t / ".r.install.lock"));
}

TEST_CASE("SNAP-10 install refuses a non-empty target (5) unless told to discard it") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  REQUIRE(PosixFs().MakeDir(t / "r").ok());
  WriteFile(t / "r/keep", "x");
  Status s = Install(t / "r", a);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "refusing to install '" + (t / "r") + "': the directory is not empty");
  CHECK(ReadFile(t / "r/keep") == "x");
  REQUIRE(Install(t / "r", a, /*discard=*/true).ok());
  CHECK_FALSE(FileExists(t / "r/keep"));
  CHECK(StateOf(t / "r").applied_commit == 55);
  // An archive inside DIR would go with the old tree (a trial lost its only
  // copy so): 2 before it is read, by its path or through a symlink.
  fsys::copy_file(a, t / "r/mine.tar.zst");
  fsys::create_symlink(t / "r/mine.tar.zst", t / "link.tar.zst");
  for (const std::string& inside : {t / "r/mine.tar.zst", t / "link.tar.zst"}) {
    CAPTURE(inside);
    Status in = Install(t / "r", inside, /*discard=*/true);
    CHECK(in.code() == Code::kUsage);
    CHECK(in.message() == "refusing to install from '" + inside + "': it is inside " + (t / "r") +
                              ", which install replaces");
    CHECK(FileExists(t / "r/mine.tar.zst"));
  }
  CHECK(StateOf(t / "r").applied_commit == 55);
}

TEST_CASE("SNAP-11 a segment history that does not contain the snapshot's digest is refused") {
  TempDir t;
  Primary(t);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 5, 7);  // p: 56..60
  Write(t / "q", 5, 8);  // q: 56..60, other history
  const std::string a = Export(t, "a.tar.zst");  // p at 60
  REQUIRE(Install(t / "r", a).ok());
  Write(t / "q", 5, 9);
  REQUIRE(PosixFs().MakeDir(t / "qout").ok());
  REQUIRE(Ship(t / "q", t / "qout").ok());  // q: 41..65 overlaps r's 60
  Status s = Apply(t / "r", t / "qout");
  CHECK(s.code() == Code::kDiverged);
}

TEST_CASE("equivalence: snapshot + apply-wal equals full WAL replay at every CommitId") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    TempDir t;
    MakePrimary(t / "p", 30, seed);
    REQUIRE(PosixFs().MakeDir(t / "archive").ok());
    REQUIRE(Ship(t / "p", t / "archive", 3000).ok());
    {
      auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
      REQUIRE((*n)->Checkpoint().ok());  // base 30
    }
    Write(t / "p", 10 + seed * 3, seed + 10);
    const uint64_t boundary = StateOf(t / "p").applied_commit;
    const std::string a = Export(t, "a.tar.zst");
    Write(t / "p", 25, seed + 20);
    REQUIRE(Ship(t / "p", t / "archive", 3000).ok());
    REQUIRE(Apply(t / "full", t / "archive").ok());  // (a) replay from commit 1
    REQUIRE(Install(t / "snap", a).ok());            // (b) snapshot at boundary
    REQUIRE(Apply(t / "snap", t / "archive").ok());  //     + the rest
    auto full = engine::ReferenceNode::Open(PosixFs(), t / "full", node::Access::kRead);
    auto snap = engine::ReferenceNode::Open(PosixFs(), t / "snap", node::Access::kRead);
    REQUIRE((*full)->state().applied_commit == (*snap)->state().applied_commit);
    CHECK((*full)->state().applied_digest == (*snap)->state().applied_digest);
    for (uint64_t c = boundary; c <= (*full)->state().applied_commit; ++c) {
      auto x = (*full)->ReadAt(c);
      auto y = (*snap)->ReadAt(c);
      REQUIRE(x.ok());
      REQUIRE(y.ok());
      REQUIRE(x->size() == y->size());
      for (auto& [k, d] : *x) CHECK(y->at(k).body == d.body);
    }
    auto digests = (*full)->DigestsAt({boundary + 5});
    auto digests2 = (*snap)->DigestsAt({boundary + 5});
    CHECK(digests->at(boundary + 5) == digests2->at(boundary + 5));
  }
}

TEST_CASE("SNAP-13 export refuses a halted node (6) and never overwrites an archive (5)") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  repl::ExportOptions o;
  o.data_dir = t / "p";
  o.output = a;
  CHECK(repl::ExportSnapshot(PosixFs(), o, nullptr).code() == Code::kRefused);
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", {"corrupt", "x", "y", 1}).ok());
  o.output = t / "b.tar.zst";
  CHECK(repl::ExportSnapshot(PosixFs(), o, nullptr).code() == Code::kHalted);
  CHECK_FALSE(FileExists(t / "b.tar.zst"));
}

namespace {

Status ExportTo(const std::string& dir, const std::string& output) {
  repl::ExportOptions o;
  o.data_dir = dir;
  o.output = output;
  return repl::ExportSnapshot(PosixFs(), o, nullptr);
}

// Neither the archive nor export's temp file beside it.
void CheckNoArchive(const TempDir& t, const std::string& name) {
  CHECK_FALSE(FileExists(t / name));
  CHECK_FALSE(FileExists(t / ("." + name + ".tmp")));
}

}  // namespace

TEST_CASE("SNAP-13 export refuses an output that exists (5), is a directory (5) or has no parent (9) before reading the node") {
  TempDir t;
  Primary(t);
  WriteFile(t / "taken.tar", "old");
  REQUIRE(PosixFs().MakeDir(t / "dir").ok());
  struct Case {
    std::string output;
    Code code;
    std::string message;
    std::string hint;
  };
  const std::vector<Case> cases = {
      {t / "taken.tar", Code::kRefused, "refusing to overwrite '" + (t / "taken.tar") + "': the file exists",
       "give a new name, or remove the old archive first"},
      {t / "dir", Code::kRefused, "refusing to write '" + (t / "dir") + "': a directory",
       "give the archive's file name, for example " + (t / "dir/snapshot.tar.zst")},
      {t / "no/a.tar", Code::kNotFound,
       "no parent directory '" + (t / "no/a.tar") + "': '" + (t / "no") + "' does not exist",
       "create the directory first, or write the archive elsewhere; nothing was read or written"},
      {t / "taken.tar/a.tar", Code::kNotFound,
       "no parent directory '" + (t / "taken.tar/a.tar") + "': '" + (t / "taken.tar") +
           "' is not a directory",
       "create the directory first, or write the archive elsewhere; nothing was read or written"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.output);
    ReadCountingFs fs;
    repl::ExportOptions o;
    o.data_dir = t / "p";
    o.output = c.output;
    Status s = repl::ExportSnapshot(fs, o, nullptr);
    CHECK(s.code() == c.code);
    CHECK(s.message() == c.message);
    CHECK(s.hint() == c.hint);
    CHECK(fs.BytesRead("") == 0);  // nothing of the node was read
  }
  CHECK(ReadFile(t / "taken.tar") == "old");
  CHECK(fsys::is_empty(t / "dir"));
}

TEST_CASE("SNAP-13 export refuses a node whose lock another run holds (7)") {
  TempDir t;
  MakePrimary(t / "p", 5);
  {
    auto held = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE(held.ok());
    Status s = ExportTo(t / "p", t / "a.tar.zst");
    CHECK(s.code() == Code::kLocked);
    CHECK(s.message() == "locked '" + (t / "p/replication/lock") +
                             "': another aerodb or aerodb-repl run holds it");
    CheckNoArchive(t, "a.tar.zst");
  }
  CHECK(ExportTo(t / "p", t / "a.tar.zst").ok());  // the other run has finished
}

TEST_CASE("SNAP-13 export refuses a directory that is not a node or is mid-install (9)") {
  TempDir t;
  Status s = ExportTo(t / "absent", t / "a.tar.zst");
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() == "not an aerodb node '" + (t / "absent") + "': no wal/wal.log");
  REQUIRE(PosixFs().MakeDir(t / "empty").ok());
  s = ExportTo(t / "empty", t / "a.tar.zst");
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() == "not an aerodb node '" + (t / "empty") + "': no wal/wal.log");
  // Mid-install (MODEL state S2): identity.json, no state.json yet.
  MakePrimary(t / "p", 3);
  REQUIRE(PosixFs().Remove(t / "p/replication/state.json").ok());
  s = ExportTo(t / "p", t / "a.tar.zst");
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() ==
        "not an aerodb node '" + (t / "p") + "': no replication/state.json (unfinished install)");
  CheckNoArchive(t, "a.tar.zst");
}

TEST_CASE("SNAP-13 export refuses a node open-time validation cannot prove (1)") {
  // Damage to acknowledged write sets where open-time validation looks
  // (NODE-4: the commit record ending at applied.wal_offset, the file's
  // length, the write sets past it that a primary rolls forward). Bytes
  // before applied.wal_offset are not re-read at open.
  struct Damage {
    std::string what;
    std::function<void(const std::string& wal, uint64_t applied_offset)> apply;
    std::string detail;
  };
  const std::vector<Damage> damages = {
      {"the commit record at applied.wal_offset",
       [](const std::string& wal, uint64_t o) { FlipBitInFile(wal, o - 10, 2); },
       "no commit record of commit 3 ends at byte"},
      {"the log shorter than applied.wal_offset",
       [](const std::string& wal, uint64_t o) { TruncateFile(wal, o - 1); },
       "state.json records commit 3 ending at byte"},
      {"a corrupt record in a write set past state.json",
       [](const std::string& wal, uint64_t o) { FlipBitInFile(wal, o + 20, 2); }, "crc mismatch"},
  };
  for (const Damage& d : damages) {
    CAPTURE(d.what);
    TempDir t;
    MakePrimary(t / "p", 3);
    const std::string wal = t / "p/wal/wal.log";
    const uint64_t o = StateOf(t / "p").applied_wal_offset;
    REQUIRE(o == fsys::file_size(wal));
    {  // commit 4: fsynced in the log, state.json not yet updated
      auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
      REQUIRE(n.ok());
      REQUIRE((*n)->Commit({{engine::Op::Kind::kPut, "c", "x", "{}"}}).ok());
    }
    REQUIRE(StateOf(t / "p").applied_commit == 4);  // rolled forward by a reader
    REQUIRE(fsys::file_size(wal) > o);
    d.apply(wal, o);
    const std::string damaged = ReadFile(wal);
    Status s = ExportTo(t / "p", t / "a.tar.zst");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("wal cannot be trusted '" + wal + "': ") == 0);
    CHECK(s.message().find(d.detail) != std::string::npos);
    CheckNoArchive(t, "a.tar.zst");
    CHECK(ReadFile(wal) == damaged);  // nothing truncated or rewritten
  }
}

TEST_CASE("SNAP-13 export refuses a fenced primary and a replica mid-promote (5)") {
  TempDir t;
  MakePrimary(t / "p", 3);
  auto id = node::LoadIdentity(PosixFs(), t / "p");
  REQUIRE(id.ok());
  auto st = node::LoadState(PosixFs(), t / "p", *id);
  REQUIRE(st.ok());
  node::NodeState fenced = *st;
  fenced.fenced = node::Fenced{2, 2, "arch"};
  REQUIRE(node::SaveState(PosixFs(), t / "p", fenced).ok());
  Status s = ExportTo(t / "p", t / "a.tar.zst");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "node is fenced '" + (t / "p") +
                           "': epoch 2 began after commit 2 in 'arch'; this primary is superseded");
  CheckNoArchive(t, "a.tar.zst");
  node::NodeState promoting = *st;
  promoting.role = node::Role::kReplica;
  promoting.promoting = node::IntentAt(promoting, history::Claimant{1});
  REQUIRE(node::SaveState(PosixFs(), t / "p", promoting).ok());
  s = ExportTo(t / "p", t / "a.tar.zst");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("promote in progress '" + (t / "p") + "'") == 0);
  CheckNoArchive(t, "a.tar.zst");
  // The same node without the flags exports.
  REQUIRE(node::SaveState(PosixFs(), t / "p", *st).ok());
  CHECK(ExportTo(t / "p", t / "a.tar.zst").ok());
}

namespace {

// Export's file system, with a probe run at three points of its run: the
// first open of data/documents.dat (pass 1 reads it for its SHA-256), the
// first write of archive bytes (pass 2) and the rename that publishes the
// archive (export's last step but the directory fsync).
class ProbeFs final : public ForwardingFs {
 public:
  explicit ProbeFs(std::function<void(const std::string&)> probe) : probe_(std::move(probe)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (!read_probed_ && p.size() >= 18 && p.substr(p.size() - 18) == "data/documents.dat") {
      read_probed_ = true;
      probe_("pass 1 read");
    }
    return real_.OpenRead(p);
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    AERO_ASSIGN_OR_RETURN(auto f, real_.OpenWrite(p, m));
    return std::unique_ptr<WritableFile>(new Probed(std::move(f), this));
  }
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    probe_("rename");
    return real_.RenameNoReplace(a, b);
  }

 private:
  class Probed final : public ForwardingWritable {
   public:
    Probed(std::unique_ptr<WritableFile> f, ProbeFs* fs) : ForwardingWritable(std::move(f)), fs_(fs) {}
    Status Append(std::string_view d) override {
      if (!probed_) fs_->probe_("first write");
      probed_ = true;
      return ForwardingWritable::Append(d);
    }

   private:
    ProbeFs* fs_;
    bool probed_ = false;
  };
  std::function<void(const std::string&)> probe_;
  bool read_probed_ = false;
};

}  // namespace

TEST_CASE("SNAP-5 FM-39 a writer during export gets 7, from pass 1 to the rename, and writes after it") {
  TempDir t;
  MakePrimary(t / "p", 5);
  // At each probe a writer tries what 'aerodb put' does first: open the node
  // for writing. The probe runs inside export, in this process; the lock is
  // a flock, which two opens of the file conflict on even in one process.
  std::vector<std::string> probed;
  ProbeFs fs([&](const std::string& when) {
    probed.push_back(when);
    CAPTURE(when);
    auto writer = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    CHECK(writer.status().code() == Code::kLocked);
    CHECK(writer.status().message() == "locked '" + (t / "p/replication/lock") +
                                           "': another aerodb or aerodb-repl run holds it");
  });
  repl::ExportOptions o;
  o.data_dir = t / "p";
  o.output = t / "a.tar.zst";
  REQUIRE(repl::ExportSnapshot(fs, o, nullptr).ok());
  CHECK(probed == std::vector<std::string>{"pass 1 read", "first write", "rename"});
  // The archive holds commit 5: nothing was written to the node meanwhile.
  auto c = Check(t / "a.tar.zst");
  REQUIRE(c.state == snapshot::ArchiveState::kValid);
  CHECK(c.manifest->boundary_commit == 5);
  // Once export has returned, the writer goes ahead.
  auto writer = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
  REQUIRE(writer.ok());
  CHECK(*(*writer)->Commit({{engine::Op::Kind::kPut, "c", "after-export", "{}"}}) == 6);
}

TEST_CASE("a replica installed from another database's archive halts on the first segment (5)") {
  TempDir t;
  Primary(t);
  MakePrimary(t / "q", 10, 9);
  repl::ExportOptions o;
  o.data_dir = t / "q";
  o.output = t / "q.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, nullptr).ok());
  REQUIRE(Install(t / "r", t / "q.tar.zst").ok());
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  Status s = Apply(t / "r", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("foreign segment '") == 0);
}

TEST_CASE("SNAP-7 bytes after the end-of-archive marker are not read: verify and install agree, plain and zstd") {
  TempDir t;
  Primary(t);
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    const std::string a = Export(t, zstd ? "a.tar.zst" : "a.tar", zstd);
    std::string garbage(800, '\0');
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
    WriteFile(a, ReadFile(a) + garbage);  // what formats/snapshot-archive.md says passes
    auto v = repl::Verify(PosixFs(), a, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kOk);
    const std::string dir = t / (zstd ? "rz" : "rp");
    REQUIRE(Install(dir, a).ok());
    CHECK(repl::Verify(PosixFs(), dir, {})->outcome() == Code::kOk);
  }
}

TEST_CASE("SNAP-7 a plain archive cut at a member boundary is in transit, damage inside is 1") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  REQUIRE(entries.size() >= 3);
  // Only the first members made it: a clean prefix of whole members.
  WriteTar(t / "prefix.tar", {entries[0], entries[1]}, false);
  const std::string prefix = ReadFile(t / "prefix.tar");
  // Drop the end-of-archive blocks, as an unfinished copy would.
  WriteFile(t / "cut.tar", prefix.substr(0, prefix.size() - 1024));
  CHECK(Check(t / "cut.tar").state == snapshot::ArchiveState::kInTransit);
  // A member whose content is damaged is damage even at the end of the input.
  auto bad = entries;
  FlipBit(&bad.back().data, bad.back().data.size() / 2, 1);
  WriteTar(t / "bad.tar", bad, false);
  CHECK(Check(t / "bad.tar").state == snapshot::ArchiveState::kCorrupt);
}

TEST_CASE("SNAP-7 a plain archive with every member but not its whole end-of-archive marker is in transit (8)") {
  TempDir t;
  Primary(t);
  const std::string full = ReadFile(Export(t, "a.tar", false));
  // export writes the marker (two zero blocks) and no padding after it.
  REQUIRE(full.size() % 512 == 0);
  REQUIRE(full.substr(full.size() - 1024) == std::string(1024, '\0'));
  for (uint64_t read_at : kReadAtModes) {
    CAPTURE(read_at);
    CHECK(Check(Export(t, "b" + std::to_string(read_at) + ".tar", false), read_at).state ==
          snapshot::ArchiveState::kValid);
    // Just after the last member's padded data, inside the first block,
    // after it, inside the second.
    for (size_t missing : {size_t{1024}, size_t{700}, size_t{512}, size_t{100}, size_t{1}}) {
      CAPTURE(missing);
      WriteFile(t / "cut.tar", full.substr(0, full.size() - missing));
      const auto c = Check(t / "cut.tar", read_at);
      CHECK(c.state == snapshot::ArchiveState::kInTransit);
      if (missing == 1024 || missing == 512) {
        CHECK(c.detail.find("no end-of-archive marker after the last member") != std::string::npos);
      }
      Status s = repl::InstallSnapshot(PosixFs(), InstallOf(t / "r", t / "cut.tar", read_at), nullptr);
      CHECK(s.code() == Code::kInTransit);
      CHECK_FALSE(FileExists(t / "r"));
    }
    // Bytes after the marker are not read (formats/snapshot-archive.md).
    WriteFile(t / "long.tar", full + std::string(512, 'x'));
    CHECK(Check(t / "long.tar", read_at).state == snapshot::ArchiveState::kValid);
  }
}

TEST_CASE("SNAP-3 a manifest that lists no wal/wal.log is refused") {
  snapshot::Manifest m;
  m.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  m.base_digest = history::SeedDigest(m.system_id);
  m.boundary_digest = m.base_digest;
  auto r = snapshot::DecodeManifest(snapshot::EncodeManifest(m));
  CHECK(r.status().message().find("'wal/wal.log' is not listed") != std::string::npos);
}

TEST_CASE("SNAP-3 a member path that is also a directory of the tree is refused: verify and install say 1") {
  TempDir t;
  const std::string x = "x";
  struct Case {
    std::vector<snapshot::Member> members;
    std::vector<TarEntry> entries;
    std::string path;
  };
  const std::vector<Case> cases = {
      // data/x a file, and the parent of data/x/y
      {{{"data/x", 1, Sha256::Of(x)}, {"data/x/y", 1, Sha256::Of(x)}},
       {{"data/x", x}, {"data/x/y", x}}, "data/x"},
      // metadata/schemas, the directory install creates for the schemas
      {{{"metadata/schemas", 1, Sha256::Of(x)}}, {{"metadata/schemas", x}}, "metadata/schemas"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    const snapshot::Manifest m = ManifestListing(c.members);
    auto decoded = snapshot::DecodeManifest(snapshot::EncodeManifest(m));
    CHECK(decoded.status().code() == Code::kDamage);
    CHECK(decoded.status().message().find("member path is also a directory: " + c.path) !=
          std::string::npos);
    std::vector<TarEntry> entries = {{"aerodb-repl-manifest.json", snapshot::EncodeManifest(m)}};
    entries.insert(entries.end(), c.entries.begin(), c.entries.end());
    entries.push_back({"wal/wal.log", ""});
    WriteTar(t / "a.tar", entries, false);
    CHECK(Check(t / "a.tar").state == snapshot::ArchiveState::kCorrupt);
    CHECK(repl::Verify(PosixFs(), t / "a.tar", {})->outcome() == Code::kDamage);
    const Status s = Install(t / "r", t / "a.tar");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("member path is also a directory: " + c.path) != std::string::npos);
    CHECK_FALSE(FileExists(t / "r"));
    CHECK_FALSE(FileExists(t / ".r.install.tmp"));
  }
}

TEST_CASE("SNAP-3 a manifest that omits the base snapshot's manifest.json or storage.dat is refused") {
  snapshot::Manifest m;
  m.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  m.base_commit = m.boundary_commit = 40;
  m.base_snapshot = "00000000000000000040";
  const std::string dir = "snapshots/00000000000000000040/";
  const Sha256Digest sum = Sha256::Of("x");
  const std::vector<snapshot::Member> all = {
      {dir + "manifest.json", 1, sum}, {dir + "storage.dat", 1, sum}, {"wal/wal.log", 0, std::nullopt}};
  m.members = all;
  REQUIRE(snapshot::DecodeManifest(snapshot::EncodeManifest(m)).ok());  // with both: valid
  for (size_t dropped : {0, 1}) {
    CAPTURE(all[dropped].path);
    m.members = all;
    m.members.erase(m.members.begin() + static_cast<std::ptrdiff_t>(dropped));
    auto r = snapshot::DecodeManifest(snapshot::EncodeManifest(m));
    CHECK(r.status().code() == Code::kDamage);
    CHECK(r.status().message().find("the base snapshot's manifest.json or storage.dat is not listed") !=
          std::string::npos);
  }
}

TEST_CASE("--discard-existing removes a symlink, never what it points to") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  REQUIRE(PosixFs().MakeDir(t / "victim").ok());
  WriteFile(t / "victim/important", "keep me");
  REQUIRE(PosixFs().MakeDir(t / "r").ok());
  fsys::create_directory_symlink(t / "victim", t / "r/link");
  REQUIRE(Install(t / "r", a, /*discard=*/true).ok());
  CHECK(ReadFile(t / "victim/important") == "keep me");
  CHECK_FALSE(fsys::exists(t / "r/link"));
}

TEST_CASE("--discard-existing refuses a node another run holds (7)") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  REQUIRE(Install(t / "r", a).ok());
  auto held = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kWrite);
  REQUIRE(held.ok());
  CHECK(Install(t / "r", a, /*discard=*/true).code() == Code::kLocked);
}

namespace {

// One 512-byte header of a plain tar, as written (no libarchive in between).
struct RawHeader {
  bool operator==(const RawHeader&) const = default;
  char type = 0;
  std::string name;    // ustar prefix + "/" + name, as the header holds them
  std::string data;    // the member's bytes (an extended header's records)
};

std::string Field(const std::string& block, size_t at, size_t len) {
  std::string f = block.substr(at, len);
  return f.substr(0, f.find('\0'));
}

// An octal ustar number field as libarchive reads one: leading spaces or
// tabs, then octal digits up to the first other byte; nullopt without a
// digit or with the base-256 high bit (the writer never sets it).
std::optional<uint64_t> Octal(const std::string& block, size_t at, size_t len) {
  size_t i = at;
  while (i < at + len && (block[i] == ' ' || block[i] == '\t')) ++i;
  if (i == at + len || block[i] < '0' || block[i] > '7' || (block[at] & 0x80) != 0) return std::nullopt;
  uint64_t v = 0;
  for (; i < at + len && block[i] >= '0' && block[i] <= '7'; ++i) v = v * 8 + (block[i] - '0');
  return v;
}

// The ustar header checksum: the unsigned sum of the block's bytes with the
// checksum field (148, 8 bytes) counted as spaces.
void SetHeaderChecksum(std::string& tar, size_t header) {
  std::fill_n(tar.begin() + static_cast<std::ptrdiff_t>(header + 148), 8, ' ');
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[header + i]);
  char field[8];
  std::snprintf(field, sizeof field, "%06o", sum);
  std::copy_n(field, 7, tar.begin() + static_cast<std::ptrdiff_t>(header + 148));  // 6 digits, NUL, space
}

// Walks a plain tar block by block up to the end-of-archive marker, without
// libarchive, reading each header as libarchive does: the ustar prefix only
// under the ustar magic (a header without it is a pre-POSIX one, whose path
// is the name field alone); nullopt when a size runs past the end.
std::optional<std::vector<RawHeader>> ParseRaw(const std::string& tar) {
  std::vector<RawHeader> out;
  for (size_t at = 0;; ) {
    if (at + 512 > tar.size()) return std::nullopt;
    const std::string block = tar.substr(at, 512);
    if (block == std::string(512, '\0')) return out;
    RawHeader h;
    h.type = block[156];
    const bool ustar = block.substr(257, 6) == std::string("ustar\0", 6);
    const std::string prefix = ustar ? Field(block, 345, 155) : std::string();
    h.name = prefix.empty() ? Field(block, 0, 100) : prefix + "/" + Field(block, 0, 100);
    const std::optional<uint64_t> size = Octal(block, 124, 12);
    if (!size || *size > tar.size() - at - 512) return std::nullopt;
    h.data = tar.substr(at + 512, *size);
    out.push_back(h);
    at += 512 + (*size + 511) / 512 * 512;
  }
}

std::vector<RawHeader> RawHeaders(const std::string& tar) {
  std::optional<std::vector<RawHeader>> raw = ParseRaw(tar);
  REQUIRE(raw);
  return *raw;
}

}  // namespace

TEST_CASE("SNAP-2 FM-39 a member path ustar cannot split gets a pax path header, verifies and installs byte-identical") {
  TempDir t;
  MakePrimary(t / "p", 30);
  // 200 bytes after a '/': no prefix/name split fits 155 + 100. Written
  // before the checkpoint, so the base snapshot's schemas/ has it too.
  const std::string name = std::string(195, 's') + ".json";
  const std::string schema = "{\"fields\":[\"a\",\"b\"]}\n";
  WriteFile(t / "p" / "metadata/schemas" / name, schema);
  WriteFile(t / "p" / "metadata/schemas" / "short.json", "{}\n");
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE(n.ok());
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 5, 3);
  const std::string long_paths[] = {"metadata/schemas/" + name,
                                    "snapshots/00000000000000000030/schemas/" + name};
  for (const std::string& p : long_paths) REQUIRE(p.size() > 155 + 1);

  const std::string plain = Export(t, "a.tar", false);
  const std::vector<RawHeader> raw = RawHeaders(ReadFile(plain));
  std::vector<std::string> extended_for;  // the member each 'x' header precedes
  for (size_t i = 0; i < raw.size(); ++i) {
    CAPTURE(raw[i].name);
    if (raw[i].type == 'x') {
      REQUIRE(i + 1 < raw.size());
      CHECK(raw[i + 1].type == '0');
      CHECK(raw[i].name.find("/PaxHeader/") != std::string::npos);  // no process id
      // Exactly one record, "path": the size fits ustar.
      const std::string& rec = raw[i].data;
      const std::string value = rec.substr(rec.find(' ') + 1);
      CHECK(value.rfind("path=", 0) == 0);
      CHECK(std::count(rec.begin(), rec.end(), '\n') == 1);
      CHECK(std::stoul(rec.substr(0, rec.find(' '))) == rec.size());
      extended_for.push_back(value.substr(5, value.size() - 6));
      CHECK(raw[i + 1].name != extended_for.back());  // ustar holds only a shortened form
    } else {
      CHECK(raw[i].type == '0');
    }
  }
  CHECK(extended_for == std::vector<std::string>(std::begin(long_paths), std::end(long_paths)));
  CHECK(raw.size() == ReadTar(plain).size() + extended_for.size());  // 'x' only for those two
  CHECK(ReadFile(plain) == ReadFile(Export(t, "b.tar", false)));  // SNAP-4 still holds

  for (const std::string& a : {plain, Export(t, "a.tar.zst", true)}) {
    CAPTURE(a);
    auto c = Check(a);
    CHECK(c.state == snapshot::ArchiveState::kValid);
    REQUIRE(c.manifest);
    CHECK(std::count_if(c.manifest->members.begin(), c.manifest->members.end(),
                        [&](const snapshot::Member& m) { return m.path.find(name) != std::string::npos; }) == 2);
    CHECK(repl::Verify(PosixFs(), a, {})->outcome() == Code::kOk);
    const std::string r = t / ("r-" + BaseName(a));
    REQUIRE(Install(r, a).ok());
    CHECK(ReadFile(r / "metadata/schemas" / name) == schema);
    CHECK(ReadFile(r / "snapshots/00000000000000000030/schemas" / name) == schema);
    CHECK(ReadFile(r / "metadata/schemas/short.json") == "{}\n");
    CHECK(repl::Verify(PosixFs(), r, {})->outcome() == Code::kOk);
    CHECK(StateOf(r).applied_commit == 35);
  }
}

TEST_CASE("SNAP-6 SNAP-7 SNAP-8 single-bit mutants of a small archive are never valid unless they carry the same members") {
  TempDir t;
  // A small node with a base snapshot, so the mutants reach every content
  // check: WAL records and chain, storage records, AeroDB's manifest and CRCs.
  MakePrimary(t / "p", 0);
  Write(t / "p", 1, 1, 1, 10);
  WriteFile(t / "p/metadata/schemas/s.json", "{}\n");
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 1, 2, 1, 10);
  const auto start = std::chrono::steady_clock::now();
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    const std::string original = ReadFile(Export(t, zstd ? "a.tar.zst" : "a.tar", zstd));
    const std::optional<std::string> tar = zstd ? DecompressZstd(original) : original;
    REQUIRE(tar);
    const std::vector<RawHeader> members = RawHeaders(*tar);
    REQUIRE(members.size() == 7);  // manifest, documents, schema, 3 of the snapshot, wal
    {
      StringFile f(original);
      REQUIRE(snapshot::ReadArchive(f).state == snapshot::ArchiveState::kValid);
    }
    // One bit per byte, bit (offset % 8), so that every bit position of
    // every header field is hit across the blocks: every byte of the zstd
    // archive (about 1 KiB); of the plain one (9 KiB), every byte of a
    // header or of member data and every 16th byte of the block padding and
    // the end marker, which carry nothing. Under 1 s; about 10 s under
    // ASan at -O0.
    std::vector<size_t> offsets;
    if (zstd) {
      for (size_t i = 0; i < original.size(); ++i) offsets.push_back(i);
    } else {
      std::vector<bool> meaningful(original.size(), false);
      size_t at = 0;
      for (const RawHeader& h : members) {
        std::fill_n(meaningful.begin() + static_cast<std::ptrdiff_t>(at), 512 + h.data.size(), true);
        at += 512 + (h.data.size() + 511) / 512 * 512;
      }
      for (size_t i = 0; i < original.size(); ++i) {
        if (meaningful[i] || i % 16 == 0) offsets.push_back(i);
      }
    }
    MESSAGE(std::string(zstd ? "zstd" : "plain") << " archive: " << original.size()
                                                 << " bytes, " << offsets.size() << " mutants");
    size_t valid = 0, in_transit = 0, corrupt = 0;
    for (const size_t at : offsets) {
      std::string mutant = original;
      mutant[at] = static_cast<char>(mutant[at] ^ (1 << (at % 8)));
      StringFile f(mutant);
      const snapshot::ArchiveCheck c = snapshot::ReadArchive(f);
      if (c.state == snapshot::ArchiveState::kValid) {
        // Only a flip in bytes that carry nothing (block padding, the end
        // marker, a field terminator, a zstd header bit that changes no
        // output, the headers' magic: see the next test) may pass: the members read without libarchive must be
        // exactly the original's, names, types and bytes.
        const std::optional<std::string> mt = zstd ? DecompressZstd(mutant) : mutant;
        const std::optional<std::vector<RawHeader>> got = mt ? ParseRaw(*mt) : std::nullopt;
        CAPTURE(at);
        CHECK((got && *got == members));
        ++valid;
      } else if (c.state == snapshot::ArchiveState::kInTransit) {
        ++in_transit;
      } else {
        CHECK(c.state == snapshot::ArchiveState::kCorrupt);  // never an I/O error from memory
        CHECK_FALSE(c.detail.empty());
        ++corrupt;
      }
    }
    MESSAGE("valid (same members) " << valid << ", in transit " << in_transit << ", corrupt "
                                    << corrupt);
  }
  MESSAGE("took " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                  << " s");
}

namespace {

// The archive with every header's magic and version zeroed, as a pre-POSIX
// tar writes them, and each checksum recomputed.
std::string WithoutUstarMagic(const std::string& tar) {
  std::string out = tar;
  for (size_t at = 0; at + 512 <= out.size() && out.compare(at, 512, std::string(512, '\0')) != 0;) {
    const std::optional<uint64_t> size = Octal(out, at + 124, 12);
    REQUIRE(size);
    std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(at + 257), 8, '\0');
    SetHeaderChecksum(out, at);
    at += 512 + (*size + 511) / 512 * 512;
  }
  return out;
}

}  // namespace

// A single-bit flip in a zstd archive can rewrite every header's magic at
// once (one literal that the headers' matches copy) and keep the checksum;
// the mutant test above met one. The reader judges the members libarchive
// returns (formats/snapshot-archive.md), and a pre-POSIX header has no
// prefix: the verdict is the members', whatever the magic.
TEST_CASE("SNAP-7 a header without the ustar magic is read as a pre-POSIX one: the same members are valid, a path that needed the ustar prefix is damage") {
  TempDir t;
  MakePrimary(t / "p", 5);
  const std::string plain = ReadFile(Export(t, "a.tar", false));
  const std::string v7 = WithoutUstarMagic(plain);
  REQUIRE(v7 != plain);
  REQUIRE(ParseRaw(v7) == ParseRaw(plain));
  {
    StringFile f(v7);
    const snapshot::ArchiveCheck c = snapshot::ReadArchive(f);
    CHECK(c.state == snapshot::ArchiveState::kValid);
  }
  // A path of 112 bytes: ustar splits it, "metadata/schemas" in the prefix.
  const std::string name = std::string(90, 's') + ".json";
  WriteFile(t / "p/metadata/schemas" / name, "{}\n");
  const std::string split = ReadFile(Export(t, "b.tar", false));
  REQUIRE(split.find(std::string("metadata/schemas\0", 17)) != std::string::npos);  // in a prefix field
  StringFile f(WithoutUstarMagic(split));
  const snapshot::ArchiveCheck c = snapshot::ReadArchive(f);
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail.find(name) != std::string::npos);
}

TEST_CASE("SNAP-12 an AeroDB manifest.json with a field of the wrong type is damage (1), never an exception") {
  TempDir t;
  MakePrimary(t / "p", 40);
  WriteFile(t / "p/metadata/schemas/s.json", "{}\n");
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 15, 5);
  const auto valid = ReadTar(Export(t, "a.tar", false));
  const std::string member = "snapshots/00000000000000000040/manifest.json";
  // The archive's own manifest lists the edited bytes honestly: only the
  // content checks of SNAP-12 stand between them and install.
  auto edited = [&](const std::string& from, const std::string& to) {
    auto v = valid;
    auto m = snapshot::DecodeManifest(v.at(0).data);
    REQUIRE(m.ok());
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i].path != member) continue;
      const size_t at = v[i].data.find(from);
      REQUIRE(at != std::string::npos);
      v[i].data.replace(at, from.size(), to);
      m->members[i - 1].size = v[i].data.size();
      if (m->members[i - 1].sha256) m->members[i - 1].sha256 = Sha256::Of(v[i].data);
    }
    v[0].data = snapshot::EncodeManifest(*m);
    WriteTar(t / "e.tar", v, false);
    return t / "e.tar";
  };
  struct Case {
    std::string from, to, why;
  };
  for (const Case& k : {Case{"\"commit_boundary\": 40", "\"commit_boundary\": \"40\"", "commit_boundary is not the base commit"},
                        Case{"\"commit_boundary\": 40", "\"commit_boundary\": null", "commit_boundary is not the base commit"},
                        Case{"\"commit_boundary\": 40", "\"commit_boundary\": -40", "commit_boundary is not the base commit"},
                        Case{"\"commit_boundary\": 40", "\"commit_boundary\": 4e99", "commit_boundary is not the base commit"},
                        Case{"\"storage_checksum\": \"", "\"storage_checksum\": 7, \"x\": \"", "manifest.json: no storage_checksum"},
                        Case{"\"schema_checksums\": {", "\"schema_checksums\": 7, \"y\": {", "manifest.json: schema_checksums is not an object"},
                        Case{"\"s.json\": \"", "\"s.json\": 7, \"z\": \"", "manifest.json: the checksum of schema 's.json' is not a string"}}) {
    CAPTURE(k.to);
    snapshot::ArchiveCheck c;
    CHECK_NOTHROW(c = Check(edited(k.from, k.to)));
    CHECK(c.state == snapshot::ArchiveState::kCorrupt);
    CHECK(c.detail.find(k.why) != std::string::npos);
  }
}

TEST_CASE("SNAP-12 an AeroDB manifest.json whose commit_boundary is not the base commit is damage (1)") {
  TempDir t;
  MakePrimary(t / "p", 40);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 15, 5);
  auto v = ReadTar(Export(t, "a.tar", false));
  auto m = snapshot::DecodeManifest(v.at(0).data);
  REQUIRE(m.ok());
  const std::string member = "snapshots/00000000000000000040/manifest.json";
  bool edited = false;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i].path != member) continue;
    const size_t at = v[i].data.find("\"commit_boundary\": 40");
    REQUIRE(at != std::string::npos);
    v[i].data.replace(at, 21, "\"commit_boundary\": 39");  // a valid number, the wrong commit
    m->members[i - 1].sha256 = Sha256::Of(v[i].data);  // listed honestly: only SNAP-12 refuses it
    edited = true;
  }
  REQUIRE(edited);
  v[0].data = snapshot::EncodeManifest(*m);
  WriteTar(t / "e.tar", v, false);
  const snapshot::ArchiveCheck c = Check(t / "e.tar");
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail.find(member + ": commit_boundary is not the base commit") != std::string::npos);
  CHECK(Install(t / "r", t / "e.tar").code() == Code::kDamage);
  CHECK_FALSE(FileExists(t / "r"));
}

namespace {

// A file system without renameat2 RENAME_EXCHANGE (NFS, some FUSE file systems).
class NoExchangeFs final : public ForwardingFs {
 public:
  Status Exchange(const std::string& a, const std::string&) override {
    return Status(Code::kIo, Problem("cannot swap", a, "not supported"));
  }
};

}  // namespace

TEST_CASE("SNAP-10 --discard-existing on a file system that cannot swap directories is 10, DIR untouched") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar.zst");
  REQUIRE(PosixFs().MakeDir(t / "r").ok());
  WriteFile(t / "r/keep", "x");
  NoExchangeFs fs;
  repl::InstallOptions o{t / "r", a, /*discard_existing=*/true};
  Status s = repl::InstallSnapshot(fs, o, nullptr);
  CHECK(s.code() == Code::kIo);
  CHECK(ReadFile(t / "r/keep") == "x");
  CHECK_FALSE(FileExists(t / ".r.discarded.tmp"));
  // An install into an absent or empty directory needs no swap.
  REQUIRE(repl::InstallSnapshot(fs, repl::InstallOptions{t / "fresh", a, false}, nullptr).ok());
  CHECK(StateOf(t / "fresh").applied_commit == 55);
}

TEST_CASE("SNAP-3 SNAP-9 manifest numbers: a float, a negative or member sizes that wrap around 2^64 are refused") {
  snapshot::Manifest base;
  base.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  base.base_digest = history::SeedDigest(base.system_id);
  base.boundary_digest = base.base_digest;
  base.members.push_back({"data/a", 3, Sha256::Of("abc")});
  base.members.push_back({"wal/wal.log", 0, std::nullopt});
  REQUIRE(snapshot::DecodeManifest(snapshot::EncodeManifest(base)).ok());
  // Canonical bytes with a correct manifest_sha256 around an edited field:
  // only the field checks can refuse them.
  auto with = [](const std::string& canonical, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = nlohmann::json::parse(canonical);
    j.erase("manifest_sha256");
    edit(j);
    j["manifest_sha256"] = ToHex(Sha256::Of(j.dump()));
    return j.dump() + "\n";
  };
  const std::string ok = snapshot::EncodeManifest(base);
  auto refused = [&](const std::string& bytes, const std::string& why) {
    CAPTURE(why);
    auto r = snapshot::DecodeManifest(bytes);
    CHECK(r.status().code() == Code::kDamage);
    CHECK(r.status().message().find(why) != std::string::npos);
  };
  refused(with(ok, [](nlohmann::json& j) { j["epoch"] = 1.0; }), "epoch is not an unsigned integer");
  refused(with(ok, [](nlohmann::json& j) { j["base"]["commit"] = -1; }), "base.commit is not an unsigned integer");
  refused(with(ok, [](nlohmann::json& j) { j["boundary"]["wal_offset"] = 1e300; }),
          "boundary.wal_offset is not an unsigned integer");
  refused(with(ok, [](nlohmann::json& j) {
            j["members"][0]["size"] = -1;
            j["total_bytes"] = 2;  // what -1 + 3 would wrap to
          }),
          "size is not an unsigned integer");
  // Two sizes that add up to 2^64 + 3 must not pass as a total of 3.
  snapshot::Manifest wrap = base;
  wrap.members[0].size = (uint64_t{1} << 63) + 1;
  wrap.members.insert(wrap.members.begin() + 1, {"data/b", (uint64_t{1} << 63) + 2, Sha256::Of("")});
  REQUIRE(wrap.TotalBytes() == 3);
  refused(snapshot::EncodeManifest(wrap), "total_bytes over the 64 GiB bound");
  // And plainly over: a member of 64 GiB is at the bound, one byte more is over.
  snapshot::Manifest big = base;
  big.members[0].size = uint64_t{64} << 30;
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(big)).ok());
  big.members[0].size += 1;
  refused(snapshot::EncodeManifest(big), "total_bytes over the 64 GiB bound");
  // REC-9, REC-8: a boundary a replica could never continue from.
  snapshot::Manifest top = base;
  top.boundary_commit = UINT64_MAX - 1;
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(top)).ok());
  top.boundary_commit = UINT64_MAX;
  refused(snapshot::EncodeManifest(top), "boundary.commit above the largest CommitId");
  top.boundary_commit = 1;
  top.next_sequence = 0;
  refused(snapshot::EncodeManifest(top), "next_sequence is 0");
}

TEST_CASE("SNAP-14 LOG-22 export of a node whose acknowledged WAL is damaged halts it (1), no archive") {
  TempDir t;
  Primary(t);
  FlipBitInFile(t / "p/wal/wal.log", 300, 2);  // past open-time validation's reach (NODE-4)
  Status s = ExportTo(t / "p", t / "a.archive");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("wal cannot be trusted '") == 0);
  CHECK(s.message().find("wal/wal.log: ") != std::string::npos);
  CheckNoArchive(t, "a.archive");
  CHECK(FileExists(t / "p/replication/halt.json"));
  CHECK(ExportTo(t / "p", t / "a.archive").code() == Code::kHalted);
}

TEST_CASE("SNAP-14 export of a node whose storage record fails its CRC is 1, no archive") {
  TempDir t;
  Primary(t);
  for (const char* file : {"data/documents.dat", "snapshots/00000000000000000040/storage.dat"}) {
    CAPTURE(file);
    const std::string path = t / "p" / file;
    REQUIRE(fsys::file_size(path) > 200);
    FlipBitInFile(path, 100, 1);
    Status s = ExportTo(t / "p", t / "a.archive");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find(std::string("cannot export '") + path + "': " + file + ": ") == 0);
    CheckNoArchive(t, "a.archive");
    CHECK_FALSE(FileExists(t / "p/replication/halt.json"));
    FlipBitInFile(path, 100, 1);  // repaired: the next file's damage alone
  }
  CHECK(ExportTo(t / "p", t / "a.archive").ok());
}

namespace {

// Runs `hook` once, when install creates its temp directory (after pass 1).
class HookAtTempDirFs final : public ForwardingFs {
 public:
  explicit HookAtTempDirFs(std::function<void()> hook) : hook_(std::move(hook)) {}
  Status MakeDir(const std::string& p) override {
    Status s = real_.MakeDir(p);
    if (hook_ && p.find(".install.tmp") != std::string::npos) {
      auto h = std::move(hook_);
      hook_ = nullptr;
      h();
    }
    return s;
  }

 private:
  std::function<void()> hook_;
};

}  // namespace

TEST_CASE("SNAP-10 FM-38 a target written into while install runs is refused (5), left as it is") {
  TempDir t;
  Primary(t);
  const std::string a = Export(t, "a.tar", /*zstd=*/false);
  for (bool as_file : {false, true}) {
    CAPTURE(as_file);
    fsys::remove_all(t / "r");
    HookAtTempDirFs fs([&] {
      if (as_file) {
        WriteFile(t / "r", "someone else's file");
      } else {
        fsys::create_directory(t / "r");
        WriteFile(t / "r/notes.txt", "someone else's file");
      }
    });
    repl::InstallOptions o;
    o.data_dir = t / "r";
    o.archive = a;
    Status s = repl::InstallSnapshot(fs, o, nullptr);
    CHECK(s.code() == Code::kRefused);
    CHECK(s.message().find("refusing to install '" + (t / "r") + "': ") == 0);
    CHECK(ReadFile(as_file ? t / "r" : t / "r/notes.txt") == "someone else's file");
    for (const auto& e : fsys::directory_iterator(t.path())) {
      CHECK(e.path().filename().string().find("install.tmp") == std::string::npos);  // removed
    }
  }
}

namespace {

// What every read path says of one input, and what verify and install do
// with it as a file (SNAP-6, SNAP-7: one verdict for the same bytes).
struct Agreement {
  size_t inputs = 0, valid = 0, in_transit = 0, corrupt = 0, zstd_compared = 0;
};

void RequireOneVerdict(const TempDir& t, const std::string& bytes, const std::string& label,
                       Agreement* agreed) {
  CAPTURE(label);
  const bool is_zstd = bytes.size() >= 4 && bytes.compare(0, 4, "\x28\xb5\x2f\xfd") == 0;
  const std::string path = t / (is_zstd ? "in.tar.zst" : "in.tar");
  WriteFile(path, bytes);
  const snapshot::ArchiveCheck stream = Check(path);
  const snapshot::ArchiveCheck at = Check(path, 1);
  snapshot::ArchiveCheck all;
  {
    auto f = PosixFs().OpenRead(path);
    REQUIRE(f.ok());
    all = snapshot::ReadArchive(**f, {}, {.read_at_min_bytes = 1, .all_findings = true});
  }
  CHECK(snapshot::ArchiveStateName(at.state) == std::string(snapshot::ArchiveStateName(stream.state)));
  CHECK(snapshot::ArchiveStateName(all.state) == std::string(snapshot::ArchiveStateName(stream.state)));
  // The same first problem (an unfinished copy's detail names what
  // noticed the end, libarchive or a worker's read, and may differ).
  if (stream.state == snapshot::ArchiveState::kCorrupt) {
    CHECK(at.detail == stream.detail);
    REQUIRE_FALSE(all.findings.empty());
    CHECK(all.findings.front() == stream.detail);
  }
  // The same tar compressed with zstd: the same member bytes, the same verdict.
  if (!is_zstd) {
    StringFile z(CompressZstd(bytes), "in.tar.zst");
    const snapshot::ArchiveCheck zc = snapshot::ReadArchive(z);
    CHECK(snapshot::ArchiveStateName(zc.state) == std::string(snapshot::ArchiveStateName(stream.state)));
    ++agreed->zstd_compared;
  }
  // verify says what install will do, both ways of reading.
  auto verified = repl::Verify(PosixFs(), path, {});
  REQUIRE(verified.ok());
  CHECK(verified->kind == "archive");
  for (uint64_t read_at : kReadAtModes) {
    const std::string dir = t / ("r" + std::to_string(agreed->inputs) + "-" + std::to_string(read_at));
    const Status installed = repl::InstallSnapshot(PosixFs(), InstallOf(dir, path, read_at), nullptr);
    CHECK(CodeName(installed.code()) == std::string(CodeName(verified->outcome())));
  }
  ++agreed->inputs;
  switch (stream.state) {
    case snapshot::ArchiveState::kValid: ++agreed->valid; break;
    case snapshot::ArchiveState::kInTransit: ++agreed->in_transit; break;
    default: ++agreed->corrupt; break;
  }
}

}  // namespace

TEST_CASE("SNAP-6 SNAP-7 one verdict for the same bytes: stream, read-at, verify's pass, zstd, verify and install") {
  TempDir t;
  Agreement agreed;
  // Every seed of the fuzz corpus, the archive the fuzzer found read two
  // ways (finding_verdict_split_cut_last_member.tar: its last member cut,
  // the bytes it has already invalid) among them.
  const std::string corpus = std::string(AERODB_SOURCE_DIR) + "/tests/fuzz/corpus/archive_reader";
  bool finding_seen = false;
  for (const auto& e : fsys::directory_iterator(corpus)) {
    finding_seen |= e.path().filename() == "finding_verdict_split_cut_last_member.tar";
    RequireOneVerdict(t, ReadFile(e.path()), e.path().filename(), &agreed);
  }
  CHECK(finding_seen);
  // A small archive with a base snapshot, cut every 61 bytes, whole and with
  // the first WAL record's length zeroed, so that cuts land inside headers
  // and members whose present bytes pass, and fail, their checks.
  MakePrimary(t / "p", 0);
  Write(t / "p", 1, 1, 1, 10);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 1, 2, 1, 10);
  const std::string plain = ReadFile(Export(t, "a.tar", false));
  const std::vector<RawHeader> members = RawHeaders(plain);
  size_t wal_data = 0;
  for (size_t at = 0, i = 0; i < members.size(); ++i) {
    if (members[i].name == "wal/wal.log") wal_data = at + 512;
    at += 512 + (members[i].data.size() + 511) / 512 * 512;
  }
  REQUIRE(wal_data > 0);
  std::string damaged = plain;
  for (size_t k = 0; k < 4; ++k) damaged[wal_data + k] = 0;
  for (const std::string* whole : {&plain, static_cast<const std::string*>(&damaged)}) {
    for (size_t cut = 0; cut <= whole->size(); cut += 61) {
      RequireOneVerdict(t, whole->substr(0, cut), (whole == &plain ? "plain cut " : "damaged cut ") +
                                                     std::to_string(cut), &agreed);
    }
    RequireOneVerdict(t, *whole, whole == &plain ? "plain" : "damaged", &agreed);
  }
  MESSAGE("inputs " << agreed.inputs << ": valid " << agreed.valid << ", in transit "
                    << agreed.in_transit << ", corrupt " << agreed.corrupt
                    << "; zstd compared " << agreed.zstd_compared);
  CHECK(agreed.valid >= 5);
  CHECK(agreed.in_transit > 50);
  CHECK(agreed.corrupt > 30);
}

namespace {

// The index of `path` in `entries` (member 0 is the manifest).
size_t EntryIndex(const std::vector<TarEntry>& entries, const std::string& path) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].path == path) return i;
  }
  FAIL("no member " << path);
  return 0;
}

}  // namespace

TEST_CASE("SNAP-15 format 2: the WAL member has no SHA-256 and every flipped bit in it is still corrupt") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  auto m = snapshot::DecodeManifest(entries[0].data);
  REQUIRE(m.ok());
  CHECK(m->format == 2);
  const size_t w = EntryIndex(entries, "wal/wal.log");
  REQUIRE(w > 0);
  CHECK_FALSE(m->members[w - 1].sha256.has_value());
  CHECK(entries[0].data.find(R"({"path":"wal/wal.log","sha256":null,)") != std::string::npos);
  for (size_t i = 0; i < m->members.size(); ++i) {
    if (i != w - 1) CHECK(m->members[i].sha256.has_value());  // every other member keeps one
  }
  // Every single-bit flip of the WAL member's bytes is corrupt.
  const std::string wal = entries[w].data;
  REQUIRE(wal.size() > 1000);
  size_t flips = 0;
  for (size_t at = 0; at < wal.size(); at += 7) {  // a byte in 7, each of its bits
    for (int bit = 0; bit < 8; ++bit) {
      entries[w].data = wal;
      FlipBit(&entries[w].data, at, bit);
      WriteTar(t / "f.tar", entries, false);
      auto c = Check(t / "f.tar");
      CAPTURE(at);
      CAPTURE(bit);
      CHECK(c.state == snapshot::ArchiveState::kCorrupt);
      ++flips;
    }
  }
  MESSAGE("WAL member bit flips, all corrupt: " << flips);
  // A change the record CRCs cannot see (the CRC recomputed): only the
  // chain binds it, and the archive is corrupt at the boundary digest.
  entries[w].data = wal;
  const size_t body = wal.size() / 2;
  StringFile wal_file(entries[w].data);
  wal::RecordReader rr(&wal_file);
  std::optional<size_t> rec;
  wal::Record r;
  while (rr.Next(&r)) {
    if (r.offset + r.bytes.size() > body && r.type <= 2 && r.bytes.size() > 40) {
      rec = r.offset;
      break;
    }
  }
  REQUIRE(rec);
  entries[w].data[*rec + r.bytes.size() - wal::kCrcSize - 1] ^= 0x20;  // a body byte
  FixRecordCrc(&entries[w].data, *rec);
  WriteTar(t / "c.tar", entries, false);
  auto c = Check(t / "c.tar");
  CHECK(c.state == snapshot::ArchiveState::kCorrupt);
  CHECK(c.detail.find("does not end at the boundary commit") != std::string::npos);
}

TEST_CASE("SNAP-15 a format 1 archive is still read, its WAL member's SHA-256 checked") {
  TempDir t;
  Primary(t);
  auto entries = ReadTar(Export(t, "a.tar", false));
  auto m = snapshot::DecodeManifest(entries[0].data);
  REQUIRE(m.ok());
  const size_t w = EntryIndex(entries, "wal/wal.log");
  m->format = 1;
  m->members[w - 1].sha256 = Sha256::Of(entries[w].data);
  entries[0].data = snapshot::EncodeManifest(*m);
  CHECK(entries[0].data.find(R"("format":1,)") != std::string::npos);
  WriteTar(t / "v1.tar", entries, false);
  auto c = Check(t / "v1.tar");
  CHECK(c.state == snapshot::ArchiveState::kValid);
  CHECK(Install(t / "r", t / "v1.tar").ok());
  // A format 1 manifest whose WAL hash is wrong: corrupt, as before.
  m->members[w - 1].sha256 = Sha256::Of("another log");
  entries[0].data = snapshot::EncodeManifest(*m);
  WriteTar(t / "bad.tar", entries, false);
  auto bad = Check(t / "bad.tar");
  CHECK(bad.state == snapshot::ArchiveState::kCorrupt);
  CHECK(bad.detail == "member 'wal/wal.log': SHA-256 differs from the manifest");
}

TEST_CASE("SNAP-15 a format 2 manifest with a WAL hash, or a member without one, is corrupt") {
  snapshot::Manifest m = ManifestListing({{"data/a", 0, Sha256::Of("")}});
  REQUIRE(snapshot::DecodeManifest(snapshot::EncodeManifest(m)).ok());
  snapshot::Manifest hashed = m;
  hashed.members.back().sha256 = Sha256::Of("");
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(hashed)).status().message() ==
        kManifestProblem + "wal/wal.log: sha256 must be null in format 2");
  snapshot::Manifest unhashed = m;
  unhashed.members.front().sha256.reset();
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(unhashed)).status().code() ==
        Code::kDamage);
  // Format 1 has no exception: its WAL member needs a hash too.
  snapshot::Manifest v1 = m;
  v1.format = 1;
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(v1)).status().code() == Code::kDamage);
  v1.members.back().sha256 = Sha256::Of("");
  CHECK(snapshot::DecodeManifest(snapshot::EncodeManifest(v1)).ok());
}
