#include "repl/ship.h"

#include <algorithm>
#include <deque>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include "archive/segment_catalog.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "history/async_chain.h"
#include "node/layout.h"
#include "node/shipped_position.h"
#include "node/store.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "wal/wal_scan.h"

namespace aero::repl {

namespace {

using history::Digest;

using Position = node::ShippedPosition;

// SHA-256 of wal bytes [from, to), read in chunks.
Result<Digest> HashRange(Fs& fs, const std::string& wal_path, uint64_t from, uint64_t to) {
  AERO_ASSIGN_OR_RETURN(auto f, fs.OpenRead(wal_path));
  Sha256 sha;
  std::string buf(1 << 20, '\0');
  for (uint64_t at = from; at < to;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - at));
    AERO_RETURN_IF_ERROR(ReadExactlyAt(*f, at, buf.data(), n));
    sha.Update(std::string_view(buf.data(), n));
    at += n;
  }
  return sha.Finish();  // history::Digest is a Sha256Digest
}

// One segment being cut: whole write sets [first, last] at WAL bytes [start, end).
struct Cut {
  segment::SegmentHeader header;
  uint64_t start = 0, end = 0;
  uint64_t last_start = 0;  // where its last write set starts
  bool empty() const { return header.first_commit == 0; }
};

}  // namespace

Status ShipWal(Fs& fs, const ShipOptions& o, ShipReport* report) {
  ShipReport scratch;
  ShipReport& rep = report ? *report : scratch;
  AERO_ASSIGN_OR_RETURN(auto node, node::Node::Open(fs, o.data_dir, node::Access::kWrite));
  rep.truncated_tail_bytes = node->open_report().truncated_bytes;
  const node::NodeState state = node->state();
  const history::SystemId system_id = node->identity().system_id;
  // MODEL-9: halted (6) first, then fenced/promoting/role (5).
  AERO_RETURN_IF_ERROR(node::Permit(node->authority(), node::Operation::kShip, o.data_dir));
  Result<FileInfo> tinfo = fs.Stat(o.target);
  if (!tinfo.ok() || !tinfo->is_dir) {
    return Status(Code::kNotFound, Problem("target not found", o.target, "no such directory"),
                  "create the outbox or archive directory first");
  }
  AERO_ASSIGN_OR_RETURN(rep.target, RealPath(o.target));

  // What the target already holds: a newer epoch fences us (LOG-17); a
  // segment of another database means the wrong target (exit 5).
  // ARC-3: the target as every reader lists it.
  archive::PosixArchive target(fs, o.target);
  AERO_ASSIGN_OR_RETURN(archive::Catalog listed, archive::SegmentCatalog(target).List());
  std::optional<segment::SegmentNameInfo> newest;
  std::string newest_name;
  std::optional<uint64_t> fence_first;
  uint32_t fence_epoch = 0;
  for (const archive::CatalogSegment& e : listed.segments) {
    const std::optional<segment::SegmentNameInfo> info = e.info;
    if (info->epoch > state.epoch) {
      // Only a complete segment of this database with a valid header counts:
      // a stray or half-copied file must not fence a primary for good.
      Result<std::unique_ptr<ReadableFile>> f = fs.OpenRead(JoinPath(o.target, e.name));
      if (!f.ok()) continue;
      segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &*info);
      if (c.state != segment::SegmentState::kValid || !(c.header.system_id == system_id)) {
        continue;
      }
      if (info->epoch > fence_epoch) {
        fence_epoch = info->epoch;
        fence_first.reset();
      }
      if (info->epoch == fence_epoch) {
        fence_first = std::min(fence_first.value_or(UINT64_MAX), info->first_commit);
      }
    }
    if (!newest || info->first_commit > newest->first_commit) {
      newest = info;
      newest_name = e.name;
    }
  }
  if (fence_epoch > 0) {
    node::NodeState fenced = state;
    nlohmann::json f = {{"epoch", fence_epoch},
                        {"branch_commit", *fence_first - 1},
                        {"seen_in", rep.target}};
    fenced.fenced_json = f.dump();
    AERO_RETURN_IF_ERROR(node::SaveState(fs, o.data_dir, fenced));  // MODEL-7: before refusing
    return Status(Code::kRefused,
                  Problem("node is fenced", o.data_dir,
                          "epoch " + std::to_string(fence_epoch) + " began at commit " +
                              std::to_string(*fence_first - 1) + " in '" + rep.target +
                              "'; this primary is superseded"),
                  "stop writing to this node and rebuild it as a replica of the new primary in "
                  "a new directory");
  }
  if (newest) {
    const std::string path = JoinPath(o.target, newest_name);
    Result<std::unique_ptr<ReadableFile>> f = fs.OpenRead(path);
    if (f.ok()) {
      segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &*newest);
      if (c.state != segment::SegmentState::kCorrupt && c.expected_size > 0 &&
          !(c.header.system_id == system_id)) {
        return Status(Code::kRefused,
                      Problem("foreign file", path,
                              "system id " + c.header.system_id.ToHex() + ", this node is " +
                                  system_id.ToHex()),
                      "this target belongs to another database; ship to the right directory");
      }
    }
  }

  // LOG-2: where this target stands.
  const std::string pos_path = node::ShippedPositionPath(o.data_dir, rep.target);
  AERO_ASSIGN_OR_RETURN(std::optional<Position> saved, node::LoadShippedPosition(fs, pos_path));
  Position pos;
  if (saved) {
    pos = *saved;
  } else {
    pos.commit = state.base_commit;
    pos.digest = state.base_digest;
    pos.base = state.base_commit;
  }
  if (pos.commit < state.base_commit) {  // LOG-23
    if (!o.restart_at_base) {
      return Status(Code::kGap,
                    Problem("gap before commit " + std::to_string(state.base_commit + 1) + " in",
                            rep.target,
                            "commits " + std::to_string(pos.commit + 1) + ".." +
                                std::to_string(state.base_commit) +
                                " were checkpointed before being shipped"),
                    "replicas behind commit " + std::to_string(state.base_commit) +
                        " need 'snapshot install'; continue with --restart-at-base");
    }
    pos = Position{rep.target, state.epoch, state.base_commit, state.base_digest,
                   state.base_commit, 0, std::nullopt, std::nullopt};
    AERO_RETURN_IF_ERROR(node::SaveShippedPosition(fs, o.data_dir, pos_path, pos));
  }
  if (pos.commit > state.applied_commit) {
    return Status(Code::kDiverged,
                  Problem("shipped position ahead of this node", pos_path,
                          "it records commit " + std::to_string(pos.commit) +
                              ", this node holds " + std::to_string(state.applied_commit)),
                  "the directory was restored from an older copy: compare it with the target "
                  "('aerodb-repl verify TARGET' shows its last commit and digest) before "
                  "shipping from it");
  }
  rep.from_commit = rep.shipped_commit = pos.commit;
  if (pos.commit == state.applied_commit) return Status::Ok();  // nothing new

  // Cut (LOG-1): whole write sets from the shipped position to applied.
  const std::string wal_path = JoinPath(o.data_dir, node::kWalFile);
  AERO_ASSIGN_OR_RETURN(auto scan_file, fs.OpenRead(wal_path));
  wal::ScanOptions opt;
  // A position without `last_set` (written before LOG-24) is not resumed
  // at its offset: the scan starts at the base and checks the position's
  // digest as it passes it (FM-12), once; the position saved after it has
  // `last_set`.
  const bool resume = pos.base == state.base_commit && pos.wal_offset > 0 &&
                      pos.wal_offset <= state.applied_wal_offset && pos.last_set_offset &&
                      pos.last_set_sha;
  if (resume) {
    // LOG-24: the resume trusts `pos.digest` without hashing the log from
    // base; the last shipped write set's bytes must still be this log's.
    AERO_ASSIGN_OR_RETURN(Digest here,
                          HashRange(fs, wal_path, *pos.last_set_offset, pos.wal_offset));
    if (here != *pos.last_set_sha) {
      return Status(Code::kDiverged,
                    Problem("shipped position disagrees with the log", pos_path,
                            "the write set of commit " + std::to_string(pos.commit) +
                                " (bytes " + std::to_string(*pos.last_set_offset) + ".." +
                                std::to_string(pos.wal_offset) +
                                " of wal/wal.log) is not the one shipped"),
                    "the position comes from another copy of this database: ship this node "
                    "to a target of its own, or remove the position once you know the target "
                    "holds this node's history");
    }
  }
  opt.start_offset = resume ? pos.wal_offset : 0;
  opt.base_commit = resume ? pos.commit : state.base_commit;
  opt.base_digest = resume ? pos.digest : state.base_digest;

  // HIST-2 runs on a worker thread beside the scan (CRCs, REC rules); each
  // WAL byte is read once by the scan, hashed once, and copied into its
  // segment inside the kernel.
  history::AsyncDigestChain chain(*opt.base_digest);
  opt.chain = &chain;
  bool check_pos = false;  // the scan passes pos.commit, so its digest is checked
  Status failure;
  Cut cut;
  std::optional<Position> unsaved;  // published, not yet recorded
  uint64_t unsaved_bytes = 0;
  auto save_position = [&]() -> Status {
    if (!unsaved) return Status::Ok();
    if (unsaved->last_set_offset) {  // LOG-24: one write set, read back from the page cache
      AERO_ASSIGN_OR_RETURN(unsaved->last_set_sha, HashRange(fs, wal_path, *unsaved->last_set_offset,
                                                             unsaved->wal_offset));
    }
    AERO_RETURN_IF_ERROR(node::SaveShippedPosition(fs, o.data_dir, pos_path, *unsaved));
    unsaved.reset();
    unsaved_bytes = 0;
    return Status::Ok();
  };
  auto digest_at = [&](uint64_t commit) -> Result<Digest> {
    if (commit == opt.base_commit) return *opt.base_digest;
    std::optional<Digest> d = chain.Get(commit);
    if (!d) return Status(Code::kInternal, Problem("no history digest at commit", wal_path,
                                                   std::to_string(commit)));
    return *d;
  };
  // Publishing is two steps. Writing the temp file (copy, fsync) may run
  // for two segments at once, so that the disk writes segment k+1 while
  // segment k's fsync commits; the renames and the position stay strictly in
  // CommitId order (LOG-3): each segment is renamed only after the one
  // before it was published.
  struct Written {
    std::string name, final_path, tmp;
    segment::WrittenSegment seg;
  };
  auto write_temp = [&](Cut& c) -> Result<Written> {
    if (c.header.first_commit == pos.commit + 1) {
      if (check_pos) {
        AERO_ASSIGN_OR_RETURN(Digest at_pos, digest_at(pos.commit));
        if (at_pos != pos.digest) {
          return Status(Code::kDiverged,
                        Problem("shipped position disagrees with the log", pos_path,
                                "digest at commit " + std::to_string(pos.commit) + " differs"),
                        "the target holds another history than this node's log: ship this node "
                        "to a target of its own ('aerodb-repl verify TARGET' shows what it holds)");
        }
      }
      c.header.digest_before = pos.digest;
    } else {
      AERO_ASSIGN_OR_RETURN(c.header.digest_before, digest_at(c.header.first_commit - 1));
    }
    AERO_ASSIGN_OR_RETURN(c.header.digest_after, digest_at(c.header.last_commit));
    Written w;
    w.name = segment::SegmentName(c.header.epoch, c.header.first_commit, c.header.last_commit);
    w.final_path = JoinPath(o.target, w.name);
    w.tmp = JoinPath(o.target, HiddenName(w.name, ".tmp"));
    // Its own reader: two segments may be copied at once.
    AERO_ASSIGN_OR_RETURN(auto copy_file, fs.OpenRead(wal_path));
    AERO_ASSIGN_OR_RETURN(w.seg, segment::WriteSegment(fs, w.tmp, c.header, *copy_file, c.start,
                                                       c.end, o.zstd));
    return w;
  };
  auto publish_written = [&](const Cut& c, const Written& w) -> Status {
    ShippedSegment out;
    out.name = w.name;
    out.first_commit = c.header.first_commit;
    out.last_commit = c.header.last_commit;
    out.sha256 = ToHex(w.seg.seal);
    const std::string& final_path = w.final_path;
    Status renamed = target.PublishExclusive(w.tmp, w.name);  // LOG-3, ARC-1
    if (renamed.code() == Code::kRefused) {
      // LOG-4: a valid segment of the same history under the name is a
      // re-ship; anything else is refused, and neither file is touched.
      (void)fs.Remove(w.tmp);
      Result<std::unique_ptr<ReadableFile>> f = target.OpenRead(w.name);
      if (!f.ok()) return f.status();
      segment::SegmentNameInfo ni{c.header.epoch, c.header.first_commit, c.header.last_commit};
      segment::SegmentCheck existing = segment::VerifySegment(**f, &ni);
      switch (existing.state) {
        case segment::SegmentState::kIoError: return existing.io;
        case segment::SegmentState::kInTransit:
          return Status(Code::kInTransit,
                        Problem("segment in transit", final_path,
                                "another copy is being written under this name: " +
                                    existing.detail),
                        "re-run ship-wal once that copy has finished");
        case segment::SegmentState::kCorrupt:
          return Status(Code::kDamage,
                        Problem("corrupt segment", final_path,
                                existing.detail + "; this node's segment is not published"),
                        "move the damaged file aside, then re-run ship-wal");
        case segment::SegmentState::kValid: break;
      }
      const segment::SegmentHeader& eh = existing.header;
      if (!(eh.system_id == c.header.system_id) || eh.digest_before != c.header.digest_before ||
          eh.digest_after != c.header.digest_after) {
        return Status(Code::kDiverged,
                      Problem("diverged", final_path,
                              "a different file with this name exists (its sha256 " +
                                  ToHex(existing.trailer_sha) + ", this node's " + out.sha256 +
                                  ")"),
                      "the target holds another history under this name: compare both "
                      "('aerodb-repl verify FILE') before removing either file");
      }
      out.already_there = true;
      out.sha256 = ToHex(existing.trailer_sha);
      out.bytes = existing.size;
      // The crashed run that renamed it may not have fsynced the directory:
      // make the entry durable before the position says it was shipped (LOG-3).
      AERO_RETURN_IF_ERROR(target.MakeDurable());
    } else {
      AERO_RETURN_IF_ERROR(renamed);
      AERO_RETURN_IF_ERROR(target.MakeDurable());
      out.bytes = w.seg.bytes;
    }
    // LOG-3: the position follows the published segments, saved every
    // position_every_bytes and at the end of the run (save_position below): a
    // crash in between re-ships at most that much, which LOG-4 recognises.
    unsaved = Position{rep.target, state.epoch, c.header.last_commit, c.header.digest_after,
                       state.base_commit, c.end, std::nullopt, std::nullopt};
    unsaved->last_set_offset = c.last_start;
    unsaved_bytes += out.bytes;
    rep.segments.push_back(out);
    rep.shipped_commit = unsaved->commit;
    if (unsaved_bytes >= o.position_every_bytes) return save_position();
    return Status::Ok();
  };
  auto publish = [&](Cut c) -> Status {
    AERO_ASSIGN_OR_RETURN(Written w, write_temp(c));
    return publish_written(c, w);
  };

  // Segments are published on other threads while the scan goes on: at most
  // kPublishDepth in flight, each renamed only once the one before it is
  // published; a failure stops every later one before its rename.
  constexpr size_t kPublishDepth = 2;
  std::deque<std::shared_future<Status>> inflight;
  auto wait_oldest = [&]() -> Status {
    Status s = inflight.front().get();
    inflight.pop_front();
    return s;
  };
  auto wait_inflight = [&]() -> Status {
    Status first;
    while (!inflight.empty()) {
      Status s = wait_oldest();
      if (first.ok()) first = s;
    }
    return first;
  };
  auto launch = [&](Cut c) -> Status {
    if (inflight.size() >= kPublishDepth) AERO_RETURN_IF_ERROR(wait_oldest());
    std::shared_future<Status> before =
        inflight.empty() ? std::shared_future<Status>() : inflight.back();
    inflight.push_back(
        std::async(std::launch::async, [&write_temp, &publish_written, &fs, c, before]() mutable {
          Result<Written> w = write_temp(c);
          Status prior = before.valid() ? before.get() : Status::Ok();
          if (!prior.ok()) {
            if (w.ok()) (void)fs.Remove(w->tmp);  // never published after a failure
            return prior;
          }
          if (!w.ok()) return w.status();
          return publish_written(c, *w);
        }).share());
    return Status::Ok();
  };
  // Ship publishes nothing apply would refuse: each write set must follow
  // the one before it (REC-8 sequences, REC-9 CommitIds) before any segment
  // holds it; the first that does not stops the scan, and only the segments
  // of write sets before it are published.
  std::optional<uint64_t> prev_commit, prev_sequence;
  std::string wal_damage;
  wal::ScanResult r = wal::WalScanner(scan_file.get(), opt).Run({}, [&](const wal::WriteSet& ws) {
    if (prev_commit && ws.commit_id != *prev_commit + 1) {
      wal_damage = "commit-order: commit " + std::to_string(ws.commit_id) + " follows commit " +
                   std::to_string(*prev_commit) + " at offset " + std::to_string(ws.start_offset);
      return false;
    }
    if (prev_sequence && ws.first_sequence != *prev_sequence + 1) {
      wal_damage = "sequence: " + std::to_string(ws.first_sequence) + " follows " +
                   std::to_string(*prev_sequence) + " at offset " +
                   std::to_string(ws.start_offset);
      return false;
    }
    prev_commit = ws.commit_id;
    prev_sequence = ws.last_sequence;
    if (ws.commit_id <= pos.commit) {  // already shipped (a resume after a checkpoint)
      if (ws.commit_id == pos.commit) {
        chain.Keep(pos.commit);
        check_pos = true;
      }
      return ws.commit_id < state.applied_commit;
    }
    if (!cut.empty() && ws.end_offset - cut.start > o.max_segment_bytes) {
      chain.Keep(cut.header.last_commit);  // the write set before this one
      failure = launch(cut);
      if (!failure.ok()) return false;
      cut = Cut{};
    }
    if (cut.empty()) {
      cut.header.system_id = system_id;
      cut.header.epoch = state.epoch;
      cut.header.first_commit = ws.commit_id;
      cut.header.first_sequence = ws.first_sequence;
      cut.start = ws.start_offset;
    }
    cut.header.last_commit = ws.commit_id;
    cut.header.last_sequence = ws.last_sequence;
    cut.header.record_count += ws.records;
    cut.end = ws.end_offset;
    cut.last_start = ws.start_offset;
    return ws.commit_id < state.applied_commit;
  });
  if (!cut.empty()) chain.Keep(cut.header.last_commit);
  Status published = wait_inflight();
  Status position_saved = save_position();  // what was published, even before a failure
  AERO_RETURN_IF_ERROR(failure);
  AERO_RETURN_IF_ERROR(published);
  AERO_RETURN_IF_ERROR(position_saved);
  auto order = std::find_if(r.findings.begin(), r.findings.end(),
                            [](const wal::ScanFinding& f) { return f.kind == "commit-order"; });
  // The last segment holds the applied commit: its digest must be the one
  // state.json acknowledged before the segment is written.
  if (wal_damage.empty() && !cut.empty() && cut.header.last_commit == state.applied_commit) {
    const std::optional<Digest> at_applied = chain.Get(state.applied_commit);
    if (at_applied && *at_applied != state.applied_digest) {
      wal_damage = "the history digest at commit " + std::to_string(state.applied_commit) +
                   " is not the one state.json acknowledged";
    }
  }
  if (!wal_damage.empty() || r.last_commit != state.applied_commit ||
      order != r.findings.end()) {
    // LOG-22: the acknowledged WAL is damaged; stop accepting writes.
    std::string detail = !wal_damage.empty()       ? wal_damage
                         : order != r.findings.end() ? order->detail
                                                     : r.stop.detail;
    if (wal_damage.empty() && r.stop.kind == wal::StopKind::kIoError) return r.stop.io;
    const uint64_t at = !wal_damage.empty() && prev_commit ? *prev_commit + 1
                                                           : r.last_commit.value_or(pos.commit) + 1;
    node::HaltReason h{"corrupt", wal_path, detail, at};
    AERO_RETURN_IF_ERROR(node->Halt(h));
    return Status(Code::kDamage,
                  Problem("wal cannot be trusted", wal_path,
                          detail + " before commit " + std::to_string(state.applied_commit) +
                              " that this primary acknowledged"),
                  "this primary is halted; restore it from a healthy copy");
  }
  if (!cut.empty()) AERO_RETURN_IF_ERROR(publish(cut));
  return save_position();
}

}  // namespace aero::repl
