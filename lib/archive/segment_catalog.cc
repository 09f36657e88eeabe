#include "archive/segment_catalog.h"

#include <algorithm>
#include <cctype>

#include "archive/archive_format.h"
#include "archive/registration.h"
#include "common/escape.h"
#include "history/history_file.h"

namespace aero::archive {

namespace {

bool IsHistoryName(const std::string& n) {
  if (n.size() != 8 + 8 || n.compare(8, 8, ".history") != 0) return false;
  return std::all_of(n.begin(), n.begin() + 8, [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool EndsWith(const std::string& n, std::string_view suffix) {
  return n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ARC-2, RET-1: the names verify takes as archives. A segment name with
// more after it is the earlier rule's, reported as ignored (NAME.seg.tar).
bool IsSnapshotArchiveName(const std::string& n) {
  return !n.empty() && n[0] != '.' &&
         (EndsWith(n, ".tar") || EndsWith(n, ".tar.zst") || EndsWith(n, ".tzst")) &&
         !(n.size() > kSegmentNameBytes && segment::ParseSegmentName(n.substr(0, kSegmentNameBytes)));
}

// ARC-2, SIG-2: NAME.sig with NAME a segment, history file or snapshot archive name.
bool IsSidecarName(const std::string& n) {
  if (!EndsWith(n, ".sig")) return false;
  const std::string stem = n.substr(0, n.size() - 4);
  return segment::ParseSegmentName(stem) || IsHistoryName(stem) || IsSnapshotArchiveName(stem);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<CatalogSkip> ClassifyEntry(const ArchiveEntry& e) {
  const std::string& n = e.name;
  if (!n.empty() && n[0] == '.') return CatalogSkip{n, true, std::string(kReasonHidden)};
  if (segment::ParseSegmentName(n)) {
    switch (e.type) {
      case ArchiveEntry::Type::kFile: return std::nullopt;
      case ArchiveEntry::Type::kSymlink: return CatalogSkip{n, false, std::string(kReasonSymlink)};
      case ArchiveEntry::Type::kDirectory:
        return CatalogSkip{n, false, std::string(kReasonDirectory)};
      case ArchiveEntry::Type::kOther: return CatalogSkip{n, false, std::string(kReasonNotRegular)};
    }
  }
  if (segment::ParseSegmentName(Lower(n))) {
    return CatalogSkip{n, false, std::string(kReasonUpperCase)};
  }
  if (n.size() > kSegmentNameBytes && segment::ParseSegmentName(n.substr(0, kSegmentNameBytes))) {
    return CatalogSkip{n, false,
                       "not a segment name: '" + Escaped(n.substr(kSegmentNameBytes)) +
                           "' after a segment name"};  // OPS-4: the name's bytes, one line
  }
  if (IsHistoryName(n)) return CatalogSkip{n, false, std::string(kReasonHistory)};
  if (n == history::kClaimArchiveMarker) return CatalogSkip{n, false, std::string(kReasonMarker)};
  return CatalogSkip{n, false, std::string(kReasonOther)};
}

Result<Catalog> SegmentCatalog::List() {
  Catalog c;
  // LOG-33: each entry classified as it is read; no vector of the
  // directory's names, and a segment kept as its range alone.
  AERO_RETURN_IF_ERROR(archive_.ListEach([&c](ArchiveEntry& e) {
    // The epoch lineage's files are read by every reader (LOG-15), not
    // skipped: a history file, and the claim archive's marker.
    if (e.type == ArchiveEntry::Type::kFile && IsHistoryName(e.name)) {
      c.history_files.push_back(std::move(e.name));
    } else if (e.type == ArchiveEntry::Type::kFile && e.name == history::kClaimArchiveMarker) {
      c.claim_archive_marker = true;
    } else if (e.type == ArchiveEntry::Type::kFile && IsSnapshotArchiveName(e.name)) {
      c.snapshot_archives.push_back(std::move(e.name));
    } else if (e.type == ArchiveEntry::Type::kFile && ParseRegistrationFileName(e.name)) {
      c.registrations.push_back(std::move(e.name));
    } else if (e.type == ArchiveEntry::Type::kFile && IsSidecarName(e.name)) {  // ARC-2, SIG-2
      c.sidecars.push_back(std::move(e.name));
    } else if (std::optional<CatalogSkip> skip = ClassifyEntry(e)) {
      skip->type = e.type;
      c.skipped.push_back(std::move(*skip));
    } else {
      c.segments.push_back({*segment::ParseSegmentName(e.name)});  // LOG-33: the name is dropped
    }
    return true;
  }));
  // The lists of names keep the order by name a sorted listing gave them.
  for (std::vector<std::string>* names : {&c.history_files, &c.snapshot_archives, &c.registrations, &c.sidecars}) {
    std::sort(names->begin(), names->end());
  }
  std::sort(c.skipped.begin(), c.skipped.end(),
            [](const CatalogSkip& a, const CatalogSkip& b) { return a.name < b.name; });
  // LOG-5: CommitId order; for one first commit, the newest epoch first,
  // then the shorter range.
  std::sort(c.segments.begin(), c.segments.end(),
            [](const CatalogSegment& a, const CatalogSegment& b) {
              if (a.info.first_commit != b.info.first_commit) {
                return a.info.first_commit < b.info.first_commit;
              }
              if (a.info.epoch != b.info.epoch) return a.info.epoch > b.info.epoch;
              return a.info.last_commit < b.info.last_commit;
            });
  return c;
}

Result<Catalog> ListInbox(Archive& inbox) {
  Result<Catalog> c = SegmentCatalog(inbox).List();
  if (!c.ok() && c.status().code() == Code::kNotFound) {
    return Status(Code::kNotFound, Problem("inbox not found", inbox.location(), "no such directory"),
                  "give the directory the transport delivers segments into");
  }
  return c;
}

}  // namespace aero::archive
