// Writes the seed corpora of segment_reader_fuzz, manifest_fuzz,
// history_file_fuzz and node_json_fuzz (tests/fuzz/README.md) into
// OUT_DIR/<target>/: small valid files made by the real writers (a primary
// of system 00112233445566778899aabbccddeeff that ships, a replica that
// applies and is promoted twice, exports, a checkpoint) and a few invalid
// ones made from them. Not a test: run it by hand to refresh the seeds.
//   fuzz_corpus OUT_DIR
// Files named valid_* must be valid (each target's replay counts them); the
// program checks that. Promote draws a random claimant, so the history
// files (and the manifest of the promoted node) differ between runs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "history/history_file.h"
#include "node/layout.h"
#include "node/shipped_position.h"
#include "node/state.h"
#include "node/store.h"
#include "engine/workload.h"
#include "repl/apply.h"
#include "repl/export.h"
#include "repl/inbox_memo.h"
#include "repl/promote.h"
#include "repl/ship.h"
#include "segment/segment_reader.h"
#include "snapshot/manifest.h"
#include "support/archive_builder.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;
namespace fs = std::filesystem;

namespace {

const history::SystemId kSystem = *history::ParseSystemId("00112233445566778899aabbccddeeff");
constexpr const char* kInbox = "/srv/inbox";  // node_json_fuzz reads memos of this inbox

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

Status Ship(const std::string& dir, const std::string& target, bool zstd, bool claim) {
  repl::ShipOptions o;
  o.data_dir = dir;
  o.target = target;
  o.max_segment_bytes = 400;
  o.zstd = zstd;
  o.claim_archive = claim;
  return repl::ShipWal(PosixFs(), o, nullptr);
}

void Apply(const std::string& dir, const std::string& inbox) {
  repl::ApplyOptions o;
  o.data_dir = dir;
  o.inbox = inbox;
  Ok(repl::ApplyWal(PosixFs(), o, nullptr), "apply-wal");
}

void Promote(const std::string& dir, const std::string& archive) {
  repl::PromoteOptions o;
  o.data_dir = dir;
  o.archive = archive;
  Ok(repl::Promote(PosixFs(), o, nullptr), "promote");
}

// Member 0 of a plain export of `dir`.
std::string ExportManifest(const std::string& dir, const std::string& out) {
  repl::ExportOptions o;
  o.data_dir = dir;
  o.output = out;
  o.zstd = false;
  Ok(repl::ExportSnapshot(PosixFs(), o, nullptr), "export");
  return ReadTar(out).at(0).data;
}

std::vector<std::string> Files(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (e.is_regular_file() && p.size() >= suffix.size() &&
        p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Flip(std::string b, size_t at, int bit) {
  b[at] = static_cast<char>(b[at] ^ (1 << bit));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  auto put = [&](const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(JoinPath(out, target));
    WriteFile(JoinPath(JoinPath(out, target), name), bytes);
    std::printf("%-15s %-36s %6zu bytes\n", target.c_str(), name.c_str(), bytes.size());
  };
  TempDir t;

  // Epoch 1: a primary of kSystem ships plain and zstd segments; a replica
  // applies them and is promoted (epoch 2) against the claim archive, writes
  // and ships; a second replica follows and is promoted (epoch 3).
  const std::string p = t / "p", arch = t / "arch", archz = t / "archz";
  Ok(node::Node::Build(PosixFs(), p, kSystem, node::Role::kPrimary, 1), "build");
  Commit(p, 6, 1);
  Ok(PosixFs().MakeDir(arch), "mkdir");
  Ok(PosixFs().MakeDir(archz), "mkdir");
  Ok(Ship(p, arch, false, true), "ship-wal");
  Ok(Ship(p, archz, true, false), "ship-wal --zstd");
  const std::string manifest_nobase = ExportManifest(p, t / "p1.tar");
  const std::string r = t / "r", r2 = t / "r2";
  Apply(r, arch);
  Promote(r, arch);
  Commit(r, 2, 5);
  Ok(Ship(r, arch, false, false), "ship-wal epoch 2");
  Apply(r2, arch);
  Apply(r2, arch);  // a node that existed before the run: its inbox memo (LOG-28)
  Promote(r2, arch);
  // The old primary checkpoints (a base snapshot), writes, exports, then
  // ships again and finds epoch 2: fenced (LOG-17).
  Commit(p, 1, 9);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), p, node::Access::kWrite);
    Ok(n.status(), "open");
    Ok((*n)->Checkpoint().status(), "checkpoint");
  }
  Commit(p, 1, 10);
  const std::string manifest_base = ExportManifest(p, t / "p2.tar");
  if (Ship(p, arch, false, false).ok()) {
    std::fprintf(stderr, "ship-wal of the old primary was not fenced\n");
    return 1;
  }

  // segment_reader: one plain segment of each epoch, one zstd, and damage.
  const std::vector<std::string> segs = Files(arch, ".seg");
  const std::vector<std::string> zsegs = Files(archz, ".seg");
  const std::string seg1 = ReadFile(segs.front());
  put("segment_reader", "valid_plain_epoch1.seg", seg1);
  put("segment_reader", "valid_plain_epoch2.seg", ReadFile(segs.back()));
  const std::string zseg = ReadFile(zsegs.front());
  put("segment_reader", "valid_zstd.seg", zseg);
  put("segment_reader", "empty", "");
  put("segment_reader", "cut_magic.seg", seg1.substr(0, 5));
  put("segment_reader", "cut_header.seg", seg1.substr(0, 100));
  put("segment_reader", "cut_body.seg", seg1.substr(0, seg1.size() - 60));
  put("segment_reader", "flip_header.seg", Flip(seg1, 40, 0));
  put("segment_reader", "flip_body.seg", Flip(seg1, 192 + 30, 3));
  put("segment_reader", "flip_zstd_frame.seg", Flip(zseg, 200, 1));
  put("segment_reader", "longer.seg", seg1 + "x");
  put("segment_reader", "not_a_segment", std::string(300, 'A'));

  // manifest: member 0 of three exports, format 1, and damage.
  const std::string manifest_epoch3 = ExportManifest(r2, t / "r2.tar");
  put("manifest", "valid_nobase.json", manifest_nobase);
  put("manifest", "valid_base.json", manifest_base);
  put("manifest", "valid_epoch3.json", manifest_epoch3);
  {
    auto m = snapshot::DecodeManifest(manifest_nobase);
    Ok(m.status(), "manifest");
    m->format = snapshot::kManifestFormatV1;  // still read: every member hashed
    for (snapshot::Member& x : m->members) {
      if (!x.sha256) x.sha256 = Sha256::Of(ReadFile(p / "wal/wal.log").substr(0, x.size));
    }
    put("manifest", "valid_format1.json", snapshot::EncodeManifest(*m));
    m->members.back().path = "wal/../../escape";  // SNAP-8
    put("manifest", "hostile_path.json", snapshot::EncodeManifest(*m));
  }
  put("manifest", "cut.json", manifest_base.substr(0, manifest_base.size() / 2));
  put("manifest", "no_newline.json", manifest_base.substr(0, manifest_base.size() - 1));
  put("manifest", "flip.json", Flip(manifest_base, 30, 1));
  put("manifest", "empty", "");

  // history_file: the history files of epochs 2 and 3, the marker, damage.
  const std::string h2 = ReadFile(arch / history::HistoryFileName(2));
  const std::string h3 = ReadFile(arch / history::HistoryFileName(3));
  put("history_file", "valid_00000002.history", h2);
  put("history_file", "valid_00000003.history", h3);
  put("history_file", "claim-archive.json", ReadFile(arch / std::string(history::kClaimArchiveMarker)));
  put("history_file", "cut.history", h3.substr(0, h3.size() / 2));
  put("history_file", "no_newline.history", h3.substr(0, h3.size() - 1));
  put("history_file", "flip.history", Flip(h3, 50, 2));
  {
    auto h = history::DecodeHistoryFile(h3, 3, kSystem, "h3");
    Ok(h.status(), "history file");
    h->system_id = *history::ParseSystemId("ffeeddccbbaa99887766554433221100");
    put("history_file", "foreign.history", history::EncodeHistoryFile(*h));
  }
  put("history_file", "empty", "");

  // node_json: byte 0 picks the file (node_json_fuzz.cc), then its bytes.
  auto node = [&](const std::string& name, char kind, const std::string& bytes) {
    put("node_json", name, std::string(1, kind) + bytes);
  };
  node("valid_identity", 0, ReadFile(p / std::string(node::kIdentityFile)));
  node("valid_state_fenced_base", 1, ReadFile(p / std::string(node::kStateFile)));
  node("valid_state_epoch3", 1, ReadFile(r2 / std::string(node::kStateFile)));
  {
    auto id = node::LoadIdentity(PosixFs(), r);
    Ok(id.status(), "identity");
    auto st = node::LoadState(PosixFs(), r, *id);
    Ok(st.status(), "state");
    st->role = node::Role::kReplica;
    Ok(PosixFs().MakeDir(t / "replication"), "mkdir");
    st->promoting = node::IntentAt(*st, history::Claimant{1, 2, 3});
    Ok(node::SaveState(PosixFs(), t.path(), *st), "save state");
    node("valid_state_promoting", 1, ReadFile(t / std::string(node::kStateFile)));
  }
  {
    Ok(node::SaveHalt(PosixFs(), t.path(),
                      {"diverged", "inbox/00000002-0000000000000001-0000000000000005.seg",
                       "digest at commit 3 differs from this node's history", 3}),
       "save halt");
    node("valid_halt", 2, ReadFile(t / std::string(node::kHaltFile)));
  }
  const std::vector<std::string> shipped = Files(p / std::string(node::kShippedDir), ".json");
  node("valid_shipped", 3, ReadFile(shipped.at(0)));
  {
    const std::vector<std::string> memos = Files(r2 / std::string(node::kInboxMemoDir), ".json");
    auto m = repl::LoadInboxMemo(PosixFs(), memos.at(0), *RealPath(arch));
    if (!m) return 1;
    const std::string path = repl::InboxMemoPath(t.path(), kInbox);
    Ok(repl::SaveInboxMemo(PosixFs(), t.path(), path, kInbox, *m), "save memo");
    node("valid_memo", 4, ReadFile(path));
  }
  node("state_cut", 1, ReadFile(p / std::string(node::kStateFile)).substr(0, 100));
  node("state_not_object", 1, "[1,2]\n");
  node("shipped_negative", 3, "{\"format\":1,\"commit\":-1}");
  node("identity_empty", 0, "");

  // The valid ones must be valid, or the replays' counts would mislead.
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    const std::string target = e.path().parent_path().filename().string();
    const std::string bytes = ReadFile(e.path().string());
    bool valid = false;
    if (target == "segment_reader") {
      StringFile f(bytes);
      valid = segment::VerifySegment(f, nullptr).state == segment::SegmentState::kValid;
    } else if (target == "manifest") {
      valid = snapshot::DecodeManifest(bytes).ok();
    } else if (target == "history_file") {
      auto epoch = history::ParseHistoryFileName(name.substr(name.find('_') + 1));
      valid = epoch && history::DecodeHistoryFile(bytes, *epoch, kSystem, name).ok();
    } else {
      continue;  // node_json: its replay counts them
    }
    if (valid != (name.rfind("valid_", 0) == 0)) {
      std::fprintf(stderr, "%s/%s: %s\n", target.c_str(), name.c_str(), valid ? "valid" : "refused");
      return 1;
    }
  }
  return 0;
}
