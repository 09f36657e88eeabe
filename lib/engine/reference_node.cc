#include "engine/reference_node.h"

#include "node/layout.h"
#include "node/permit.h"
#include "node/storage_record.h"
#include "wal/record.h"
#include "wal/record_format.h"

namespace aero::engine {

namespace {

constexpr std::string_view kSchemaVersion = "v1";

}  // namespace

Result<std::unique_ptr<ReferenceNode>> ReferenceNode::Open(Fs& fs, const std::string& dir,
                                                          node::Access access) {
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n,
                        OpenAs(fs, dir, access, [](Fs& f, const std::string& d, node::Access a) {
                          return std::unique_ptr<node::Node>(new ReferenceNode(f, d, a));
                        }));
  return std::unique_ptr<ReferenceNode>(static_cast<ReferenceNode*>(n.release()));
}

Status ReferenceNode::LoadLiveKeys() {
  const uint64_t applied = state().applied_commit;
  if (live_ && live_at_ == applied) return Status::Ok();
  live_.reset();
  AERO_ASSIGN_OR_RETURN(Documents docs, ReadAt(applied));
  live_.emplace();
  live_at_ = applied;
  for (auto& [key, doc] : docs) (*live_)[key] = true;
  return Status::Ok();
}

bool ReferenceNode::Exists(const DocumentKey& key) {
  if (!LoadLiveKeys().ok()) return false;
  return live_->count(key) > 0;
}

Result<uint64_t> ReferenceNode::Commit(const std::vector<Op>& ops) {
  AERO_RETURN_IF_ERROR(CheckWritable());  // MODEL-2
  AERO_RETURN_IF_ERROR(LoadLiveKeys());
  std::map<DocumentKey, bool> changed;  // live after this write set?
  auto live = [&](const DocumentKey& k) {
    auto it = changed.find(k);
    return it != changed.end() ? it->second : live_->count(k) > 0;
  };
  std::string bytes;
  uint64_t seq = state().next_sequence;
  for (const Op& op : ops) {
    if (op.collection.empty() || op.collection.find(':') != std::string::npos ||
        op.id.empty()) {
      return Status(Code::kUsage, Problem("invalid document name",
                                          op.collection + "/" + op.id,
                                          "collection and id must be non-empty; the "
                                          "collection must not contain ':'"));
    }
    DocumentKey key{op.collection, op.id};
    wal::RecordType type;
    if (op.kind == Op::Kind::kDelete) {
      if (!live(key)) {
        return Status(Code::kNotFound, Problem("no such document", op.collection + "/" + op.id),
                      "nothing was written");
      }
      type = wal::RecordType::kDelete;
      changed[key] = false;
    } else {
      type = live(key) ? wal::RecordType::kUpdate : wal::RecordType::kInsert;
      changed[key] = true;
    }
    wal::DataPayload p{op.collection, op.id, op.collection, kSchemaVersion,
                       op.kind == Op::Kind::kDelete ? std::string_view() : op.body};
    const std::string payload = wal::EncodeDataPayload(p);
    if (payload.size() > wal::kMaxRecordBytes - wal::kFramingBytes) {  // REC-2: every reader would refuse it
      return Status(Code::kUsage,
                    Problem("document too large", op.collection + "/" + op.id,
                            "its WAL record would be " + std::to_string(payload.size() + wal::kFramingBytes) +
                                " bytes, more than the " + std::to_string(wal::kMaxRecordBytes) +
                                " a record may hold (REC-2)"),
                    "store a smaller document; nothing was written");
    }
    wal::AppendRecord(&bytes, static_cast<uint8_t>(type), seq++, payload);
  }
  const uint64_t commit = state().applied_commit + 1;
  if (commit > wal::kMaxCommitId || seq > wal::kMaxSequence) {  // REC-8, REC-9: no reader would take it
    return Status(Code::kRefused,
                  Problem("refusing to commit", dir(), "the largest CommitId or sequence (2^64-2) is reached"),
                  "nothing was written; this history cannot grow");
  }
  wal::AppendRecord(&bytes, static_cast<uint8_t>(wal::RecordType::kMvccCommit), seq++,
                    wal::EncodeCommitPayload(commit));
  AERO_RETURN_IF_ERROR(AppendOwnWriteSet(bytes, seq));
  for (auto& [key, is_live] : changed) {
    if (is_live) {
      (*live_)[key] = true;
    } else {
      live_->erase(key);
    }
  }
  live_at_ = commit;
  return commit;
}

Result<uint64_t> ReferenceNode::ReadPoint(std::optional<uint64_t> at,
                                          std::optional<uint64_t> min_commit) const {
  AERO_RETURN_IF_ERROR(CheckReadable());  // READ-4
  const uint64_t applied = state().applied_commit;
  if (min_commit && applied < *min_commit) {  // READ-5
    return Status(Code::kGap,
                  Problem("not yet applied", dir(),
                          "this node has applied through " + std::to_string(applied) + ", the read needs " +
                              std::to_string(*min_commit)),
                  "read from a node that has applied it, or retry once this one has");
  }
  const uint64_t r = at.value_or(applied);
  AERO_RETURN_IF_ERROR(CheckReadBounds(r));  // READ-3, READ-7
  return r;
}

Result<Documents> ReferenceNode::ReadAt(uint64_t commit) const {
  AERO_RETURN_IF_ERROR(CheckReadBounds(commit));
  Documents docs;
  if (std::optional<std::string> path = BaseStoragePath()) {
    AERO_ASSIGN_OR_RETURN(auto file, fs().OpenRead(*path));
    node::StorageReader reader(file.get());
    node::StorageRecord rec;
    while (reader.Next(&rec)) {
      size_t colon = rec.document_id.find(':');
      if (colon == std::string_view::npos) {
        return Status(Code::kDamage, Problem("invalid document id in snapshot", *path,
                                             std::string(rec.document_id)));
      }
      DocumentKey key{std::string(rec.document_id.substr(0, colon)),
                      std::string(rec.document_id.substr(colon + 1))};
      if (rec.tombstone) {
        docs.erase(key);
      } else {
        docs[key] = Document{std::string(rec.schema_id), std::string(rec.schema_version),
                             std::string(rec.body)};
      }
    }
    AERO_RETURN_IF_ERROR(reader.status());
  }
  struct Pending {
    uint8_t type;
    DocumentKey key;
    Document doc;
  };
  std::vector<Pending> pending;
  AERO_RETURN_IF_ERROR(ScanLogTo(
      commit,
      [&](const wal::Record& rec) {
        if (rec.type > 2) return;
        wal::DataPayload p;
        if (!wal::DecodeDataPayload(rec.payload(), &p)) return;
        pending.push_back({rec.type,
                           {std::string(p.collection), std::string(p.document_id)},
                           {std::string(p.schema_id), std::string(p.schema_version),
                            std::string(p.body)}});
      },
      [&](const wal::WriteSet&) {
        for (Pending& op : pending) {
          if (op.type == static_cast<uint8_t>(wal::RecordType::kDelete)) {
            docs.erase(op.key);
          } else {
            docs[op.key] = std::move(op.doc);
          }
        }
        pending.clear();
      }));
  return docs;
}

Result<std::string> ReferenceNode::Checkpoint() {
  return CheckpointWith([this](uint64_t boundary) -> Result<std::string> {
    AERO_ASSIGN_OR_RETURN(Documents docs, ReadAt(boundary));
    std::string storage;
    for (const auto& [key, doc] : docs) {
      node::AppendStorageRecord(&storage, key.first + ":" + key.second, doc.schema_id,
                                doc.schema_version, false, doc.body);
    }
    return storage;
  });
}

}  // namespace aero::engine
