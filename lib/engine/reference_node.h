// The reference node's storage engine: documents, the write sets that put
// and delete them, reads at a CommitId and the checkpoint's storage file.
// It is what `aerodb` (the small reference database) adds to a node; the
// replication state machine it stands on (open-time validation, state.json,
// appends, halts, epochs, the digest index) is node::Node, which is all that
// aerodb-repl links. AeroDB's own directories have AeroDB's engine instead
// (specs/REPLICATION_COMPATIBILITY.md): aerodb-repl never needs this one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/store.h"

namespace aero::engine {

struct Document {
  std::string schema_id;
  std::string schema_version;
  std::string body;
};
// (collection, document id) -> document, the state at one CommitId.
using DocumentKey = std::pair<std::string, std::string>;
using Documents = std::map<DocumentKey, Document>;

struct Op {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string collection;
  std::string id;
  std::string body;  // kPut only: the full document (never a delta)
};

class ReferenceNode : public node::Node {
 public:
  // node::Node::Open (NODE-4) of `dir`, as a node with this engine.
  static Result<std::unique_ptr<ReferenceNode>> Open(Fs& fs, const std::string& dir,
                                                     node::Access access);

  // MODEL-2: appends one write set (Insert/Update/Delete records + MvccCommit
  // with applied+1) and fsyncs it once. Returns the new CommitId. kNotFound
  // when a delete names an absent document; nothing is written then.
  Result<uint64_t> Commit(const std::vector<Op>& ops);

  // NODE-10: documents as of `commit` (base_commit <= commit <= applied).
  Result<Documents> ReadAt(uint64_t commit) const;
  // specs/REPLICATION_READ_SEMANTICS.md: the CommitId a read is served at,
  // or its refusal, in order: READ-4 (Permit), READ-5 (`min_commit` above
  // applied: 3), READ-3 (`at` below the base: 9), READ-7 (`at` above
  // applied: 3). Without `at`, applied.commit (READ-2).
  Result<uint64_t> ReadPoint(std::optional<uint64_t> at, std::optional<uint64_t> min_commit) const;
  bool Exists(const DocumentKey& key);  // at the applied position (kWrite only)

  // NODE-5: snapshot of the state at applied into snapshots/<id>/,
  // documents.dat and checkpoint.json rewritten, WAL emptied. Returns the
  // snapshot id.
  Result<std::string> Checkpoint();

 private:
  using node::Node::Node;
  Status LoadLiveKeys();
  // Live keys at `live_at_`; reloaded when applied moved under them (an
  // apply, a checkpoint), kept up to date by Commit.
  std::optional<std::map<DocumentKey, bool>> live_;
  uint64_t live_at_ = 0;
};

}  // namespace aero::engine
