// The one place that lists a directory of segments, parses and judges its
// names, and orders the segments (formats/archive-directory.md ARC-2,
// ARC-3): apply-wal, status, verify and ship-wal read a target or an inbox
// through it, so they take the same segments and report the same skips.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/status.h"
#include "segment/segment.h"

namespace aero::archive {

// LOG-33: no copy of the name is held (an inbox's worth of them would be
// most of a listing's memory): a SEG-2 name is exactly (epoch, first,
// last), so name() derives it.
struct CatalogSegment {
  segment::SegmentNameInfo info;
  std::string name() const { return segment::SegmentName(info.epoch, info.first_commit, info.last_commit); }
};

// An entry no reader takes, and why (ARC-2).
struct CatalogSkip {
  std::string name;
  bool temp = false;  // a hidden unfinished copy, as opposed to ignored
  std::string reason;
  ArchiveEntry::Type type = ArchiveEntry::Type::kOther;  // as listed
};

struct Catalog {
  std::vector<CatalogSegment> segments;  // apply order (LOG-5)
  std::vector<CatalogSkip> skipped;      // by name
  std::vector<std::string> history_files;  // EEEEEEEE.history, by name (read as the lineage)
  bool claim_archive_marker = false;       // claim-archive.json (HFILE-5)
  // ARC-2: read by prune only (RET-1, RET-4); other readers pass them over.
  std::vector<std::string> snapshot_archives;  // *.tar, *.tar.zst, *.tzst, by name
  std::vector<std::string> registrations;      // replica-NAME.json (ARC-5), by name
  // ARC-2, SIG-2: NAME.sig of a segment, history file or snapshot archive
  // name, by name; read with NAME by readers that check signatures.
  std::vector<std::string> sidecars;
};

// The class of one entry: nullopt for a segment, else why it is skipped.
std::optional<CatalogSkip> ClassifyEntry(const ArchiveEntry& e);

class SegmentCatalog {
 public:
  explicit SegmentCatalog(Archive& archive) : archive_(archive) {}
  // Lists and classifies every entry; kNotFound when the archive is absent.
  Result<Catalog> List();

 private:
  Archive& archive_;
};

// ARC-3: an inbox (apply-wal --from, status --from) as apply-wal lists it;
// one that is not there, or not a directory, is 9 with a hint.
Result<Catalog> ListInbox(Archive& inbox);

}  // namespace aero::archive
