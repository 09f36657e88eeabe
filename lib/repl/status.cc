#include "repl/status.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "archive/segment_catalog.h"
#include "history/lineage.h"
#include "common/file_util.h"
#include "node/layout.h"
#include "node/shipped_position.h"
#include "node/store.h"
#include "segment/segment_reader.h"
#include "sign/trust.h"

namespace aero::repl {

Code NodeStatus::outcome() const {
  // The most serious problem's own code, as the command that meets it
  // answers (one judge): a damaged shipped position 1, a rival history
  // file in the inbox 4 and another database's 5 (apply-wal's codes); then
  // a halt or a fence (6, 5: an operator must act); then an unreadable
  // trust directory 10 or a bad trust entry 2, which alone would read as
  // "retry" or "fix the command".
  static constexpr Code kOrder[] = {Code::kDamage, Code::kDiverged, Code::kRefused, Code::kOk,
                                    Code::kIo, Code::kUsage};
  for (Code c : kOrder) {
    if (c == Code::kOk) {  // the node's own health, between the two
      if (!health.ok()) return health.code();
      continue;
    }
    for (const Status& p : problems) {
      if (p.code() == c) return c;
    }
  }
  if (!problems.empty()) return problems.front().code();
  return health.code();
}

Result<NodeStatus> GetStatus(Fs& fs, const std::string& data_dir,
                             const std::optional<std::string>& inbox) {
  AERO_ASSIGN_OR_RETURN(auto n, node::Node::Open(fs, data_dir, node::Access::kRead));
  NodeStatus st;
  st.identity = n->identity();
  st.state = n->state();
  st.authority = n->authority();
  st.health = node::Permit(st.authority, node::Operation::kReport, data_dir);  // MODEL-9
  const uint64_t applied = st.state.applied_commit;
  // SIG-15: the node's own trust directory decides required mode (SIG-4, SIG-5).
  if (Result<sign::TrustSet> trust = sign::LoadTrustSet(fs, "", data_dir); trust.ok()) {
    st.signatures_required = !trust->empty();
    st.trusted_key_ids = trust->KeyIds();
  } else {
    st.problems.push_back(trust.status());
  }

  // Shipped positions (LOG-2), newest knowledge of each target; one
  // parser (ARC-4): a damaged file is reported, never an exception.
  node::ShippedPositions shipped = node::LoadShippedPositions(fs, data_dir);
  for (const node::ShippedPosition& p : shipped.positions) {
    ShippedTarget t;
    t.target = p.target;
    t.commit = p.commit;
    t.lag = applied > t.commit ? applied - t.commit : 0;
    st.shipped.push_back(t);
  }
  st.problems.insert(st.problems.end(), shipped.problems.begin(), shipped.problems.end());

  if (inbox) {
    // ARC-3: the inbox as apply-wal lists it.
    AERO_ASSIGN_OR_RETURN(std::unique_ptr<archive::Archive> opened, archive::OpenArchive(fs, *inbox));  // OBJ-12
    archive::Archive& a = *opened;
    AERO_ASSIGN_OR_RETURN(archive::Catalog catalog, archive::ListInbox(a));
    st.skipped = catalog.skipped;
    InboxLag lag;
    for (const archive::CatalogSegment& s : catalog.segments) {
      if (s.info.last_commit > applied) ++lag.pending_segments;  // OPS-10
    }
    // LOG-18 with LOG-15, LOG-20: the lineage places each segment, as for
    // apply-wal; a lineage that does not read leaves the lag unknown.
    const std::string copies_dir = JoinPath(data_dir, node::kHistoryDir);
    Result<history::Lineage> lineage =
        archive::ReadLineage(a, st.identity.system_id, n->history().files(), copies_dir, catalog.history_files);
    if (!lineage.ok() && lineage.status().code() == Code::kInTransit) {
      // LOG-18: a history file still being copied is what apply-wal waits
      // for (8), not damage: it is said, and the lag is the one the inbox
      // gives without it (the node's own copies).
      st.in_transit.push_back(lineage.status());
      lineage = history::Lineage::Of(archive::SourcedCopies(n->history().files(), copies_dir));
    }
    if (!lineage.ok()) {
      st.problems.push_back(lineage.status());
      st.inbox = lag;
      return st;
    }
    // Newest (last CommitId) first. A segment of an older epoch counts only
    // up to its epoch's branch point, so the newest name may not be the
    // newest commit: go on while a name's last commit could still beat the
    // best found (in the common case, one header is read).
    std::vector<const archive::CatalogSegment*> newest_first;
    for (const archive::CatalogSegment& s : catalog.segments) newest_first.push_back(&s);
    std::stable_sort(newest_first.begin(), newest_first.end(),
                     [](const archive::CatalogSegment* x, const archive::CatalogSegment* y) {
                       return x->info.last_commit > y->info.last_commit;
                     });
    for (const archive::CatalogSegment* s : newest_first) {
      if (lag.newest_commit && s->info.last_commit <= *lag.newest_commit) break;
      Result<std::unique_ptr<ReadableFile>> f = a.OpenRead(s->name());
      if (!f.ok()) {
        if (f.status().code() == Code::kRefused) {  // ENC-14: an envelope without its key (ENC-11)
          if (lag.encrypted_no_key++ == 0) lag.encrypted_no_key_detail = f.status().ToString();
        } else if (f.status().code() == Code::kIo) {
          st.problems.push_back(f.status());  // FM-137: what apply-wal stops at (10), never "no segment"
        }
        continue;
      }
      segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &s->info);
      if (c.state == segment::SegmentState::kIoError && c.io.code() == Code::kIo) {
        st.problems.push_back(c.io);  // FM-137
        continue;
      }
      if (c.state == segment::SegmentState::kIoError && c.io.code() == Code::kRefused) {
        // ENC-14: an envelope without its key (ENC-11), refused at its first read.
        if (lag.encrypted_no_key++ == 0) lag.encrypted_no_key_detail = c.io.ToString();
        continue;
      }
      if (c.state != segment::SegmentState::kValid ||
          !(c.header.system_id == st.identity.system_id)) {
        ++lag.incomplete_segments;
        continue;
      }
      const std::optional<uint64_t> next = lineage->Branch(c.header.epoch + 1);
      const uint64_t last = next ? std::min(c.header.last_commit, *next) : c.header.last_commit;
      if (c.header.first_commit > last) continue;  // superseded (LOG-20)
      if (lag.newest_commit && last <= *lag.newest_commit) continue;
      lag.newest_commit = last;
      lag.newest_segment = s->name();
      lag.lag = last > applied ? last - applied : 0;
    }
    st.inbox = lag;
  }
  return st;
}

}  // namespace aero::repl
