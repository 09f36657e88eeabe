// The reader's view of AeroDB's own files equals the ground truth, record for
// record (fixtures/aerodb-upstream/README.md).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "node/storage_record.h"
#include "engine/reference_node.h"
#include "node/store.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/verify.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "support/archive_builder.h"
#include "snapshot/manifest.h"
#include "support/shared_fixtures.h"
#include "support/test_util.h"
#include "upstream/upstream_util.h"
#include "wal/record.h"
#include "wal/wal_scan.h"

using namespace aero;
using namespace aero::testing;
using nlohmann::json;

namespace {

void CheckStorage(const std::string& path, const std::string& expected_path, size_t limit) {
  std::vector<json> expected = Lines(expected_path);
  if (expected.size() > limit) expected.resize(limit);
  auto file = PosixFs().OpenRead(path);
  REQUIRE(file.ok());
  node::StorageReader reader(file->get());
  node::StorageRecord rec;
  size_t i = 0;
  while (reader.Next(&rec)) {
    REQUIRE(i < expected.size());
    const json& e = expected[i];
    CAPTURE(i);
    CHECK(rec.offset == e["offset"].get<uint64_t>());
    CHECK(rec.document_id == e["document_id"].get<std::string>());
    CHECK(rec.schema_id == e["schema_id"].get<std::string>());
    CHECK(rec.schema_version == e["schema_version"].get<std::string>());
    CHECK(rec.tombstone == e["tombstone"].get<bool>());
    CHECK(rec.body.size() == e["body_len"].get<uint64_t>());
    CHECK(Crc32(rec.body) == e["body_crc32"].get<uint32_t>());
    ++i;
  }
  CHECK(reader.status().ok());
  CHECK(i == expected.size());
}

std::map<std::string, std::string> StorageState(const std::string& path) {
  auto file = PosixFs().OpenRead(path);
  node::StorageReader reader(file->get());
  node::StorageRecord rec;
  std::map<std::string, std::string> docs;
  while (reader.Next(&rec)) {
    if (rec.tombstone) docs.erase(std::string(rec.document_id));
    else docs[std::string(rec.document_id)] = std::string(rec.body);
  }
  return docs;
}

const std::string kDir = UpstreamFixtures();

}  // namespace

TEST_CASE("upstream phase1 WAL: 2000 records equal the ground truth") {
  CheckWal(kDir + "/phase1/wal/wal.log", kDir + "/phase1/expected.jsonl", false);
}

TEST_CASE("upstream mvcc WAL: 2010 records, commits 1..500, write sets as ground truth") {
  CheckWal(kDir + "/mvcc/wal/wal.log", kDir + "/mvcc/expected.jsonl", true);
  CheckWal(kDir + "/mvcc/wal-full.log", kDir + "/mvcc/expected.jsonl", true);
}

TEST_CASE("upstream storage files equal the ground truth") {
  CheckStorage(kDir + "/phase1/data/documents.dat", kDir + "/phase1/expected_storage.jsonl", 1u << 30);
  CheckStorage(kDir + "/mvcc/data/documents.dat", kDir + "/mvcc/expected_storage.jsonl", 1u << 30);
  CheckStorage(kDir + "/mvcc/snapshots/20261125T194751Z/storage.dat",
               kDir + "/mvcc/expected_storage.jsonl", 895);
}

TEST_CASE("upstream torn files: each classified as its ground truth says") {
  for (const json& e : Lines(kDir + "/torn/expected.jsonl")) {
    const std::string name = e["file"].get<std::string>();
    CAPTURE(name);
    auto file = PosixFs().OpenRead(kDir + "/torn/" + name);
    REQUIRE(file.ok());
    wal::RecordReader reader(file->get());
    wal::Record rec;
    uint64_t n = 0;
    while (reader.Next(&rec)) ++n;
    const json& own = e["own_parser"];
    CHECK(n == own["records_read"].get<uint64_t>());
    CHECK(reader.stop().offset == own["stop_offset"].get<uint64_t>());
    CHECK(reader.stop().offset == e["damaged_record"]["offset"].get<uint64_t>());
    CHECK(reader.stop().index == e["damaged_record"]["index"].get<uint64_t>());
    CHECK(reader.stop().detail == own["stop_reason"].get<std::string>());
    if (e["damage"] == "truncated") {
      CHECK(reader.stop().kind == wal::StopKind::kTornTail);  // REC-3
    } else {
      CHECK(reader.stop().kind == wal::StopKind::kCorrupt);  // REC-5
      CHECK(reader.stop().stored_crc == e["damaged_record"]["stored_crc32"].get<uint32_t>());
      CHECK(reader.stop().computed_crc ==
            e["damaged_record"]["crc32_of_damaged_bytes"].get<uint32_t>());
    }
  }
}

TEST_CASE("upstream mvcc snapshot: storage.dat is the WAL's state at commit_boundary 300") {
  CHECK(StorageState(kDir + "/mvcc/snapshots/20261125T194751Z/storage.dat") ==
        Replay(kDir + "/mvcc/wal/wal.log", 300));
  CHECK(StorageState(kDir + "/mvcc/data/documents.dat") == Replay(kDir + "/mvcc/wal/wal.log", 500));
}

TEST_CASE("upstream directories: verify agrees, and a node refuses to open one") {
  auto r = repl::Verify(PosixFs(), kDir + "/mvcc", {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kOk);
  CHECK(r->wal->write_sets == 500);
  CHECK(r->wal->digest_from_zero_system_id);
  // HIST-4 worked example: H(500) from the all-zero system id, independently computed.
  CHECK(history::DigestToHex(*r->wal->digest) ==
        "e1c81d17c8d4731c3912d4673857f788ec006d06f52efc488f5799e52f37df7a");
  auto bitflip = repl::Verify(PosixFs(), kDir + "/torn/wal_bitflip_seq1000.log", {});
  CHECK(bitflip->outcome() == Code::kDamage);
  CHECK(engine::ReferenceNode::Open(PosixFs(), kDir + "/mvcc", node::Access::kRead).status().code() ==
        Code::kNotFound);
}

TEST_CASE("upstream SEG worked example: write set 1 of the mvcc WAL as a segment") {
  TempDir t;
  auto wal = PosixFs().OpenRead(kDir + "/mvcc/wal/wal.log");
  REQUIRE(wal.ok());
  segment::SegmentHeader h;
  h.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  h.epoch = 1;
  h.first_commit = h.last_commit = 1;
  h.first_sequence = 1;
  h.last_sequence = 3;
  h.record_count = 3;
  h.digest_before = history::SeedDigest(h.system_id);
  h.digest_after = *history::ParseDigest(
      "81e5741c6bcf6fd8a6e8dccd37c164ec256b3452222e6a37779e8c40c4342c51");  // HIST-2 example
  const std::string path = t / "00000001-0000000000000001-0000000000000001.seg";
  auto sha = segment::WriteSegment(PosixFs(), path, h, **wal, 0, 443, false);
  REQUIRE(sha.ok());
  const std::string bytes = ReadFile(path);
  CHECK(bytes.size() == 675);
  CHECK(DecodeFixed32(bytes.data() + 188) == 0x87177770u);
  // SEG-7: the seal is SHA-256 of the 192 header bytes.
  CHECK(ToHex(sha->seal) ==
        "8ae13e26660d2b435102871231dab3400aa79c1d856ab79aedcd309dbd7d652d");
  CHECK(ToHex(sha->seal) == ToHex(Sha256::Of(bytes.substr(0, 192))));
  CHECK(ToHex(Sha256::Of(bytes)) ==
        "f434a3929c56857e7833646a64cd1baf18d8ee8afae37b34446cfa6a8f0c913a");
  CHECK(sha->bytes == bytes.size());
  auto f = PosixFs().OpenRead(path);
  auto name = segment::ParseSegmentName(BaseName(path));
  CHECK(segment::VerifySegment(**f, &*name).state == segment::SegmentState::kValid);
}

TEST_CASE("upstream SNAP-12: AeroDB's mvcc directory exports, verifies and installs") {
  TempDir t;
  repl::ExportOptions o;
  o.data_dir = kDir + "/mvcc";
  o.output = t / "mvcc.tar.zst";
  repl::ExportReport rep;
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, &rep).ok());
  CHECK(rep.base_commit == 300);  // AeroDB's own snapshot
  CHECK(rep.boundary_commit == 500);
  CHECK(rep.boundary_digest == "e1c81d17c8d4731c3912d4673857f788ec006d06f52efc488f5799e52f37df7a");
  auto v = repl::Verify(PosixFs(), o.output, {});
  CHECK(v->outcome() == Code::kOk);
  repl::InstallOptions io{t / "r", o.output, false};
  REQUIRE(repl::InstallSnapshot(PosixFs(), io, nullptr).ok());
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "r", node::Access::kRead);
  REQUIRE(n.ok());
  CHECK((*n)->state().base_commit == 300);
  CHECK((*n)->state().applied_commit == 500);
  // The replica's documents at 300 and 500 equal the WAL replay of AeroDB's log.
  for (uint64_t c : {uint64_t{300}, uint64_t{500}}) {
    auto docs = (*n)->ReadAt(c);
    REQUIRE(docs.ok());
    std::map<std::string, std::string> flat;
    for (auto& [k, d] : *docs) flat[k.first + ":" + k.second] = d.body;
    CHECK(flat == Replay(kDir + "/mvcc/wal/wal.log", c));
  }
}

TEST_CASE("upstream SNAP-6 SNAP-14 export refuses what install refuses: AeroDB's own checksums and schemas") {
  TempDir t;
  namespace fsys = std::filesystem;
  auto copy_of = [&](const std::string& name) {
    const std::string d = t / name;
    fsys::copy(kDir + "/mvcc", d, fsys::copy_options::recursive);
    for (const auto& e : fsys::recursive_directory_iterator(d)) {
      fsys::permissions(e.path(), fsys::perms::owner_write, fsys::perm_options::add);
    }
    return d;
  };
  auto snapshot_dir = [&](const std::string& d) {
    return fsys::directory_iterator(d + "/snapshots")->path().string();
  };
  auto export_of = [&](const std::string& d, const std::string& out, bool zstd = true) {
    repl::ExportOptions o;
    o.data_dir = d;
    o.output = out;
    o.zstd = zstd;
    return repl::ExportSnapshot(PosixFs(), o, nullptr);
  };
  // storage.dat's checksum in AeroDB's manifest is not the file's.
  const std::string m = copy_of("m");
  const std::string mpath = snapshot_dir(m) + "/manifest.json";
  nlohmann::json mj = nlohmann::json::parse(ReadFile(mpath));
  mj["storage_checksum"] = "crc32:00000000";
  WriteFile(mpath, mj.dump());
  Status s = export_of(m, t / "m.tar.zst");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("storage.dat: CRC-32 differs from AeroDB's manifest") != std::string::npos);
  CHECK_FALSE(FileExists(t / "m.tar.zst"));
  // A schema AeroDB recorded is gone.
  const std::string n = copy_of("n");
  const std::string schemas = snapshot_dir(n) + "/schemas";
  const std::string gone = fsys::directory_iterator(schemas)->path().filename().string();
  fsys::remove(schemas + "/" + gone);
  s = export_of(n, t / "n.tar.zst");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("it records schema '" + gone + "', which the archive does not hold") !=
        std::string::npos);
  CHECK_FALSE(FileExists(t / "n.tar.zst"));
  // The reader judges the same: an archive without that schema (its
  // manifest relisted) is refused by verify and install alike.
  REQUIRE(export_of(kDir + "/mvcc", t / "good.tar", false).ok());
  std::vector<TarEntry> entries = ReadTar(t / "good.tar");
  snapshot::Manifest man = *snapshot::DecodeManifest(entries[0].data);
  const auto is_gone = [&](const std::string& p) {
    return p.size() > gone.size() && p.compare(p.size() - gone.size(), gone.size(), gone) == 0 &&
           p.find("/schemas/") != std::string::npos && p.rfind("snapshots/", 0) == 0;
  };
  std::erase_if(man.members, [&](const snapshot::Member& e) { return is_gone(e.path); });
  std::erase_if(entries, [&](const TarEntry& e) { return is_gone(e.path); });
  entries[0].data = snapshot::EncodeManifest(man);
  WriteTar(t / "lacking.tar", entries, false);
  auto v = repl::Verify(PosixFs(), t / "lacking.tar", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);
  repl::InstallOptions io{t / "r", t / "lacking.tar", false};
  Status i = repl::InstallSnapshot(PosixFs(), io, nullptr);
  CHECK(i.code() == Code::kDamage);
  CHECK(i.message().find("which the archive does not hold") != std::string::npos);
  CHECK_FALSE(FileExists(t / "r"));
}

TEST_CASE("upstream SNAP-3 SNAP-15 the worked example: export writes exactly this member 0 and this archive") {
  // formats/snapshot-archive.md, "Example": write set 1 of the mvcc WAL,
  // an empty documents.dat and no schema, exported uncompressed.
  TempDir t;
  const std::string d = t / "d";
  for (const char* sub : {"", "/wal", "/data", "/metadata", "/metadata/schemas"}) {
    REQUIRE(PosixFs().MakeDir(d + sub).ok());
  }
  WriteFile(d + "/wal/wal.log", ReadFile(kDir + "/mvcc/wal/wal.log").substr(0, 443));
  WriteFile(d + "/data/documents.dat", "");
  repl::ExportOptions o;
  o.data_dir = d;
  o.output = t / "a.tar";
  o.zstd = false;
  o.system_id_hex = "00112233445566778899aabbccddeeff";
  REQUIRE(repl::ExportSnapshot(PosixFs(), o, nullptr).ok());
  const std::string archive = ReadFile(o.output);
  const std::string member0 =
      R"({"base":{"commit":0,"digest":"cfaf9cbecd789b82f6addb724868222c65ea5a07bd9cc982f24200398cf2781f","snapshot":null},"boundary":{"commit":1,"digest":"81e5741c6bcf6fd8a6e8dccd37c164ec256b3452222e6a37779e8c40c4342c51","next_sequence":4,"wal_offset":443},"epoch":1,"format":2,"lineage":[],"manifest_sha256":"0025ef93bf2379856d3df335dbc8056e238556b211d964be33e2ee5e82bfb31d","member_count":2,"members":[{"path":"data/documents.dat","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"type":"file"},{"path":"wal/wal.log","sha256":null,"size":443,"type":"file"}],"system_id":"00112233445566778899aabbccddeeff","total_bytes":443})"
      "\n";
  REQUIRE(member0.size() == 653);
  REQUIRE(archive.size() == 4096);
  // Member 0's data follows its 512-byte header (a pax header would come first
  // only for long names or sizes; this one has none).
  CHECK(archive.substr(512, member0.size()) == member0);
  CHECK(ToHex(Sha256::Of(archive)) ==
        "b1c9d7544724e5a4f9f8dac332a22c2d2e68ff6be594290dd068005028b28e22");
}
