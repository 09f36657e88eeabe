// Writes the seed corpus of archive_reader_fuzz (tests/fuzz/README.md):
// a few tiny valid archives made by `snapshot export`, and truncated,
// mutated and hostile ones made from them with tests/support's tar builder.
// Not a test: run it by hand to refresh the seeds after a format change.
//   archive_reader_corpus OUT_DIR
// The system ids are random, so the bytes differ on every run; the set of
// cases does not. Files named valid_* must verify (the replay counts them).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "node/store.h"
#include "engine/workload.h"
#include "repl/export.h"
#include "snapshot/archive_reader.h"
#include "snapshot/manifest.h"
#include "support/archive_builder.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

void Ok(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

void Commit(const std::string& dir, uint64_t sets, uint64_t seed) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  Ok(n.status(), "open");
  engine::WorkloadOptions w;
  w.write_sets = sets;
  w.records_per_set = 1;
  w.body_bytes = 10;
  w.seed = seed;
  Ok(engine::RunWorkload(**n, w).status(), "workload");
  Ok((*n)->Close(), "close");
}

void Checkpoint(const std::string& dir) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  Ok(n.status(), "open");
  Ok((*n)->Checkpoint().status(), "checkpoint");
}

std::string Export(const std::string& dir, const std::string& out, bool zstd) {
  repl::ExportOptions o;
  o.data_dir = dir;
  o.output = out;
  o.zstd = zstd;
  Ok(repl::ExportSnapshot(PosixFs(), o, nullptr), "export");
  return ReadFile(out);
}

// Rewrites member `path` of `entries` and the manifest entry that lists it,
// so that only the reader's content checks can object.
void Relist(std::vector<TarEntry>* entries, const std::string& path, const std::string& data) {
  auto m = snapshot::DecodeManifest((*entries)[0].data);
  Ok(m.status(), "manifest");
  for (size_t i = 1; i < entries->size(); ++i) {
    if ((*entries)[i].path != path) continue;
    (*entries)[i].data = data;
    m->members[i - 1].size = data.size();
    if (m->members[i - 1].sha256) m->members[i - 1].sha256 = Sha256::Of(data);  // SNAP-15
  }
  (*entries)[0].data = snapshot::EncodeManifest(*m);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::filesystem::create_directories(out);
  auto put = [&](const std::string& name, const std::string& bytes) {
    WriteFile(JoinPath(out, name), bytes);
    std::printf("%-36s %6zu bytes\n", name.c_str(), bytes.size());
  };
  TempDir t;

  // A node without a base snapshot: manifest, documents.dat, wal.log.
  const std::string a = t / "a";
  Ok(node::Node::Init(PosixFs(), a), "init");
  Commit(a, 2, 1);
  const std::string plain = Export(a, t / "a.tar", false);
  put("valid_plain_nobase.tar", plain);

  // A node with a base snapshot and a schema, and a WAL tail after it.
  const std::string b = t / "b";
  Ok(node::Node::Init(PosixFs(), b), "init");
  Commit(b, 1, 2);
  WriteFile(b / "metadata/schemas/s.json", "{}\n");
  Checkpoint(b);
  Commit(b, 1, 3);
  const std::string base_plain = Export(b, t / "b.tar", false);
  put("valid_plain_base.tar", base_plain);
  const std::string base_zstd = Export(b, t / "b.tar.zst", true);
  put("valid_zstd_base.tar.zst", base_zstd);

  // A schema name ustar cannot split: a pax extended header with a path record.
  const std::string c = t / "c";
  Ok(node::Node::Init(PosixFs(), c), "init");
  Commit(c, 1, 4);
  WriteFile(c / "metadata/schemas" / (std::string(150, 'n') + ".json"), "{}\n");
  put("valid_plain_pax_path.tar", Export(c, t / "c.tar", false));

  const std::vector<TarEntry> entries = ReadTar(t / "a.tar");

  // Cut short: in transit.
  put("cut_plain_mid_member.tar", plain.substr(0, plain.size() * 3 / 5));
  put("cut_plain_mid_header.tar", plain.substr(0, 1536 + 100));
  put("cut_zstd.tar.zst", base_zstd.substr(0, base_zstd.size() / 2));
  put("empty", "");
  WriteTar(t / "prefix.tar", {entries[0], entries[1]}, false);
  const std::string prefix = ReadFile(t / "prefix.tar");
  put("cut_plain_member_boundary.tar", prefix.substr(0, prefix.size() - 1024));

  // Damaged: one bit, or content the manifest lists honestly.
  std::string flipped = plain;
  const std::string& wal = entries.back().data;
  flipped[plain.rfind(wal) + wal.size() / 2] ^= 0x04;  // inside wal/wal.log
  put("flip_plain_wal.tar", flipped);
  std::string zflipped = base_zstd;
  zflipped[base_zstd.size() / 2] ^= 0x10;
  put("flip_zstd.tar.zst", zflipped);
  const std::vector<TarEntry> based = ReadTar(t / "b.tar");
  {
    auto v = based;
    std::string manifest;
    for (const TarEntry& e : v) {
      if (e.path.find("/manifest.json") != std::string::npos) manifest = e.data;
    }
    const size_t at = manifest.find("\"commit_boundary\": ");
    if (at == std::string::npos) return 1;
    manifest.insert(at + 19, "\"");
    manifest.insert(manifest.find_first_not_of("0123456789", at + 20), "\"");
    for (const TarEntry& e : v) {
      if (e.path.find("/manifest.json") != std::string::npos) Relist(&v, e.path, manifest);
    }
    WriteTar(t / "d.tar", v, false);
    put("aerodb_manifest_boundary_string.tar", ReadFile(t / "d.tar"));
  }
  {
    auto v = based;  // a schema byte changed: only its SHA-256 can tell
    for (TarEntry& e : v) {
      if (e.path == "metadata/schemas/s.json") e.data = "{]\n";
    }
    WriteTar(t / "f.tar", v, false);
    put("schema_changed_unlisted.tar", ReadFile(t / "f.tar"));
  }
  {
    auto v = entries;
    Relist(&v, "wal/wal.log", v.back().data + "x");  // a torn tail, listed
    WriteTar(t / "e.tar", v, false);
    put("wal_tail_listed.tar", ReadFile(t / "e.tar"));
  }

  // Hostile members (SNAP-8).
  auto hostile = [&](const std::string& name, size_t at, TarEntry e) {
    auto v = entries;
    v.insert(v.begin() + static_cast<long>(at), e);
    WriteTar(t / "h.tar", v, false);
    put(name, ReadFile(t / "h.tar"));
  };
  hostile("hostile_symlink.tar", 1, {"data/link", "", TarEntry::kSymlink, "/etc/passwd"});
  hostile("hostile_dotdot.tar", 1, {"data/../../escape", "x"});
  hostile("hostile_hardlink.tar", 1, {"data/hard", "", TarEntry::kHardlink, "data/documents.dat"});
  hostile("hostile_unlisted.tar", entries.size(), {"wal/zzz", "x"});
  {
    auto v = entries;
    v[1].size = static_cast<long long>(v[1].data.size()) + 512;
    v[1].data.resize(v[1].data.size() + 512, 'x');
    WriteTar(t / "s.tar", v, false);
    put("size_not_the_manifests.tar", ReadFile(t / "s.tar"));
  }
  put("not_an_archive", std::string(700, 'A'));

  // The valid ones must be valid, or the replay's count would mislead.
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    StringFile f(ReadFile(e.path().string()));
    const snapshot::ArchiveState state = snapshot::ReadArchive(f).state;
    if ((state == snapshot::ArchiveState::kValid) != (name.rfind("valid_", 0) == 0)) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), snapshot::ArchiveStateName(state));
      return 1;
    }
  }
  return 0;
}
