// Readers of the fixture corpus's ground truth, shared by the upstream
// tests (fixtures/aerodb-upstream/README.md).
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/crc32.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "wal/record.h"
#include "wal/wal_scan.h"

namespace aero::testing {

using nlohmann::json;

inline std::vector<json> Lines(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// Every record of `wal` checked against `expected` (one JSON object per record).
inline void CheckWal(const std::string& wal_path, const std::string& expected_path, bool mvcc) {
  std::vector<json> expected = Lines(expected_path);
  auto file = PosixFs().OpenRead(wal_path);
  REQUIRE(file.ok());
  size_t i = 0;
  std::vector<size_t> pending;  // indexes of records in the current write set
  std::map<size_t, uint64_t> txn;
  wal::ScanResult r = wal::WalScanner(file->get(), {}).Run(
      [&](const wal::Record& rec) {
        REQUIRE(i < expected.size());
        const json& e = expected[i];
        CAPTURE(i);
        CHECK(rec.index == e["index"].get<uint64_t>());
        CHECK(rec.offset == e["offset"].get<uint64_t>());
        CHECK(rec.bytes.size() == e["length"].get<uint64_t>());
        CHECK(rec.type == e["type"].get<int>());
        CHECK(std::string(wal::RecordTypeName(rec.type)) == e["type_name"].get<std::string>());
        CHECK(rec.sequence == e["sequence"].get<uint64_t>());
        CHECK(rec.payload().size() == e["payload_len"].get<uint64_t>());
        CHECK(Crc32(rec.bytes.substr(0, rec.bytes.size() - 4)) == e["stored_crc32"].get<uint32_t>());
        if (rec.type == 3) {
          uint64_t id = 0;
          REQUIRE(wal::DecodeCommitPayload(rec.payload(), &id));
          CHECK(id == e["commit_id"].get<uint64_t>());
          CHECK(e["collection"].is_null());
        } else {
          CHECK(e["commit_id"].is_null());
          wal::DataPayload p;
          REQUIRE(wal::DecodeDataPayload(rec.payload(), &p));
          CHECK(p.collection == e["collection"].get<std::string>());
          CHECK(p.document_id == e["document_id"].get<std::string>());
          CHECK(p.schema_id == e["schema_id"].get<std::string>());
          CHECK(p.schema_version == e["schema_version"].get<std::string>());
          CHECK(p.body.size() == e["body_len"].get<uint64_t>());
          CHECK(Crc32(p.body) == e["body_crc32"].get<uint32_t>());
          CHECK(ToHex(Sha256::Of(p.body)) == e["body_sha256"].get<std::string>());
        }
        pending.push_back(i);
        ++i;
      },
      [&](const wal::WriteSet& ws) {
        for (size_t k : pending) txn[k] = ws.commit_id;
        pending.clear();
        return true;
      });
  CHECK(i == expected.size());
  CHECK(r.stop.kind == wal::StopKind::kCleanEnd);
  CHECK(r.findings.empty());
  if (mvcc) {
    for (size_t k = 0; k < expected.size(); ++k) {
      CAPTURE(k);
      CHECK(txn[k] == expected[k]["txn_commit_id"].get<uint64_t>());
    }
  }
}

// Document state after replaying the WAL through `commit` (AeroDB semantics).
inline std::map<std::string, std::string> Replay(const std::string& wal_path, uint64_t commit) {
  auto file = PosixFs().OpenRead(wal_path);
  std::map<std::string, std::string> docs;
  std::vector<std::pair<std::string, std::optional<std::string>>> pending;
  wal::WalScanner(file->get(), {}).Run(
      [&](const wal::Record& rec) {
        wal::DataPayload p;
        if (rec.type > 2 || !wal::DecodeDataPayload(rec.payload(), &p)) return;
        std::string key = std::string(p.collection) + ":" + std::string(p.document_id);
        pending.push_back({key, rec.type == 2 ? std::nullopt
                                              : std::optional<std::string>(p.body)});
      },
      [&](const wal::WriteSet& ws) {
        if (ws.commit_id > commit) return false;
        for (auto& [k, v] : pending) {
          if (v) docs[k] = *v; else docs.erase(k);
        }
        pending.clear();
        return ws.commit_id < commit;
      });
  return docs;
}


}  // namespace aero::testing
