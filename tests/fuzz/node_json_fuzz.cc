// libFuzzer target for the node's small JSON files (formats/node-layout.md
// "JSON conventions", NODE-2, NODE-3, NODE-9, LOG-2/LOG-24, LOG-28). The
// first input byte picks the file, the rest is its content, read through
// the real loader from an in-memory file system:
//   0 replication/identity.json        LoadIdentity
//   1 replication/state.json           LoadState (identity 0011..eeff)
//   2 replication/halt.json            LoadHalt
//   3 replication/shipped/<key>.json   LoadShippedPosition
//   4 replication/inbox/<key>.json     LoadInboxMemo (inbox /srv/inbox)
// Any content ends in a value or a refusal, never a crash, a hang or an
// exception; a refusal is damage (1) with a message (the memo, a cache, is
// there or not). What a loader accepts round-trips: its writer's bytes load
// to the same value. identity, state and shipped positions follow the JSON
// conventions (every key known and of its type, hex in lower case), so the
// file they accepted is, as JSON, the file their writer writes for the
// value: nothing was ignored. A state it accepts keeps NODE-3's invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "history/digest.h"
#include "history/system_id.h"
#include "node/layout.h"
#include "node/shipped_position.h"
#include "node/state.h"
#include "repl/inbox_memo.h"
#include "support/memory_fs.h"

namespace {

using aero::Code;
using aero::testing::MemoryFs;

uint64_t valid_inputs = 0;

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr const char* kDir = "/n";
constexpr const char* kInbox = "/srv/inbox";
const aero::node::Identity kIdentity{
    *aero::history::ParseSystemId("00112233445566778899aabbccddeeff")};

std::string Path(std::string_view rel) { return aero::JoinPath(kDir, rel); }

void CheckRefusal(const aero::Status& s) {
  Check(s.code() == Code::kDamage && !s.message().empty());
}

// The JSON conventions: the accepted file and the writer's file are the
// same JSON (key order and whitespace aside).
void CheckSameJson(const std::string& read, const std::string& written) {
  const nlohmann::json a = nlohmann::json::parse(read, nullptr, false);
  const nlohmann::json b = nlohmann::json::parse(written, nullptr, false);
  Check(!a.is_discarded() && !b.is_discarded() && a == b);
}

bool Identity(const std::string& text) {
  MemoryFs fs;
  fs.Put(Path(aero::node::kIdentityFile), text);
  aero::Result<aero::node::Identity> id = aero::node::LoadIdentity(fs, kDir);
  if (!id.ok()) {
    CheckRefusal(id.status());
    return false;
  }
  MemoryFs out;
  Check(aero::node::SaveIdentity(out, kDir, *id).ok());
  const std::string& written = *out.Get(Path(aero::node::kIdentityFile));
  aero::Result<aero::node::Identity> again = aero::node::LoadIdentity(out, kDir);
  Check(again.ok() && again->system_id.bytes == id->system_id.bytes);
  CheckSameJson(text, written);
  return true;
}

bool SameState(const aero::node::NodeState& a, const aero::node::NodeState& b) {
  return a.role == b.role && a.epoch == b.epoch && a.base_commit == b.base_commit &&
         a.base_digest == b.base_digest && a.base_snapshot == b.base_snapshot &&
         a.applied_commit == b.applied_commit && a.applied_digest == b.applied_digest &&
         a.applied_wal_offset == b.applied_wal_offset && a.next_sequence == b.next_sequence &&
         a.fenced == b.fenced && a.promoting == b.promoting;
}

bool State(const std::string& text) {
  using aero::node::NodeState;
  MemoryFs fs;
  fs.Put(Path(aero::node::kStateFile), text);
  aero::Result<NodeState> s = aero::node::LoadState(fs, kDir, kIdentity);
  if (!s.ok()) {
    CheckRefusal(s.status());
    return false;
  }
  // NODE-3's invariants.
  Check(s->epoch >= 1 && s->applied_commit >= s->base_commit && s->next_sequence >= 1);
  Check((s->applied_commit == s->base_commit) == (s->applied_wal_offset == 0));
  Check(s->applied_wal_offset == 0 || s->applied_wal_offset >= 25);
  Check(s->base_snapshot || (s->base_commit == 0 &&
                             s->base_digest == aero::history::SeedDigest(kIdentity.system_id)));
  Check(!s->fenced || s->role == aero::node::Role::kPrimary);
  Check(!s->promoting || (s->role == aero::node::Role::kReplica &&
                          s->promoting->epoch == s->epoch + 1 &&
                          s->promoting->branch_commit == s->applied_commit));
  MemoryFs out;
  Check(aero::node::SaveState(out, kDir, *s).ok());
  const std::string& written = *out.Get(Path(aero::node::kStateFile));
  Check(written == aero::node::StateToJson(*s));
  aero::Result<NodeState> again = aero::node::LoadState(out, kDir, kIdentity);
  Check(again.ok() && SameState(*s, *again));
  CheckSameJson(text, written);
  return true;
}

bool Halt(const std::string& text) {
  MemoryFs fs;
  fs.Put(Path(aero::node::kHaltFile), text);
  auto h = aero::node::LoadHalt(fs, kDir);
  if (!h.ok()) {
    CheckRefusal(h.status());
    return false;
  }
  Check(h->has_value() && !(*h)->code.empty());  // the file is there: halted (NODE-9)
  MemoryFs out;
  Check(aero::node::SaveHalt(out, kDir, **h).ok());
  auto again = aero::node::LoadHalt(out, kDir);
  Check(again.ok() && again->has_value());
  const aero::node::HaltReason& a = **h;
  const aero::node::HaltReason& b = **again;
  Check(a.code == b.code && a.subject == b.subject && a.detail == b.detail && a.commit == b.commit);
  return true;
}

bool Shipped(const std::string& text) {
  MemoryFs fs;
  const std::string path = aero::node::ShippedPositionPath(kDir, "/srv/target");
  fs.Put(path, text);
  auto p = aero::node::LoadShippedPosition(fs, path);
  if (!p.ok()) {
    CheckRefusal(p.status());
    return false;
  }
  Check(p->has_value());
  const aero::node::ShippedPosition& a = **p;
  Check(a.epoch >= 1 && a.commit >= a.base && !a.target.empty());
  Check(a.last_set_offset.has_value() == a.last_set_sha.has_value());
  Check(!a.last_set_offset || *a.last_set_offset < a.wal_offset);
  MemoryFs out;
  Check(aero::node::SaveShippedPosition(out, kDir, path, a).ok());
  const std::string& written = *out.Get(path);
  auto again = aero::node::LoadShippedPosition(out, path);
  Check(again.ok() && again->has_value());
  const aero::node::ShippedPosition& b = **again;
  Check(a.target == b.target && a.epoch == b.epoch && a.commit == b.commit &&
        a.digest == b.digest && a.base == b.base && a.wal_offset == b.wal_offset &&
        a.last_set_offset == b.last_set_offset && a.last_set_sha == b.last_set_sha);
  CheckSameJson(text, written);
  return true;
}

bool Memo(const std::string& text) {
  MemoryFs fs;
  const std::string path = aero::repl::InboxMemoPath(kDir, kInbox);
  fs.Put(path, text);
  const std::optional<aero::repl::InboxMemo> m = aero::repl::LoadInboxMemo(fs, path, kInbox);
  if (!m) return false;
  Check(!aero::repl::LoadInboxMemo(fs, path, "/srv/other"));  // another inbox's memo
  MemoryFs out;
  Check(aero::repl::SaveInboxMemo(out, kDir, path, kInbox, *m).ok());
  Check(aero::repl::LoadInboxMemo(out, path, kInbox) == m);
  return true;
}

}  // namespace

// For the corpus replay (replay_main.cc): how many inputs were valid.
extern "C" uint64_t FuzzReplayValidInputs() { return valid_inputs; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool valid = false;
  switch (data[0] % 5) {
    case 0: valid = Identity(text); break;
    case 1: valid = State(text); break;
    case 2: valid = Halt(text); break;
    case 3: valid = Shipped(text); break;
    case 4: valid = Memo(text); break;
  }
  if (valid) ++valid_inputs;
  return 0;
}
