#include "archive/history_files.h"

#include "common/file_util.h"

namespace aero::archive {

Result<std::string> ReadArchiveFile(Archive& a, const std::string& name, size_t max_bytes) {
  AERO_ASSIGN_OR_RETURN(auto f, a.OpenRead(name));
  std::string out;
  char buf[16 * 1024];
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t n, f->Read(buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
    if (out.size() > max_bytes) {
      return Status(Code::kDamage,
                    Problem("file too large", a.PathOf(name), "more than " + std::to_string(max_bytes) + " bytes"),
                    kTooLargeHint);
    }
  }
}

Result<std::vector<history::HistoryFile>> ReadHistoryFiles(Archive& a, const history::SystemId& system) {
  AERO_ASSIGN_OR_RETURN(std::vector<ArchiveEntry> entries, a.List());
  std::vector<std::string> names;
  for (ArchiveEntry& e : entries) {
    if (e.type == ArchiveEntry::Type::kFile) names.push_back(std::move(e.name));
  }
  return ReadHistoryFiles(a, system, names);
}

Result<std::vector<history::HistoryFile>> ReadHistoryFiles(Archive& a, const history::SystemId& system,
                                                           const std::vector<std::string>& names) {
  std::vector<history::HistoryFile> out;
  for (const std::string& name : names) {
    const std::optional<uint32_t> epoch = history::ParseHistoryFileName(name);
    if (!epoch) continue;
    // One byte over the limit is enough for the reader to call it invalid.
    AERO_ASSIGN_OR_RETURN(std::string bytes, ReadArchiveFile(a, name, history::kMaxHistoryFileBytes + 1));
    AERO_ASSIGN_OR_RETURN(history::HistoryFile h, history::DecodeHistoryFile(bytes, *epoch, system, a.PathOf(name)));
    out.push_back(std::move(h));  // names are sorted: by epoch
  }
  return out;
}

std::vector<history::SourcedFile> SourcedCopies(const std::vector<history::HistoryFile>& copies,
                                                const std::string& copies_dir) {
  std::vector<history::SourcedFile> files;
  for (const history::HistoryFile& h : copies) {
    files.push_back({h, JoinPath(copies_dir, history::HistoryFileName(h.epoch))});
  }
  return files;
}

namespace {

Result<history::Lineage> LineageOf(Archive& a, std::vector<history::HistoryFile> there,
                                   const std::vector<history::HistoryFile>& copies,
                                   const std::string& copies_dir) {
  std::vector<history::SourcedFile> files = SourcedCopies(copies, copies_dir);
  for (history::HistoryFile& h : there) {
    const std::string path = a.PathOf(history::HistoryFileName(h.epoch));
    files.push_back({std::move(h), path});
  }
  return history::Lineage::Of(files);
}

}  // namespace

Result<history::Lineage> ReadLineage(Archive& a, const history::SystemId& system,
                                     const std::vector<history::HistoryFile>& copies,
                                     const std::string& copies_dir) {
  AERO_ASSIGN_OR_RETURN(std::vector<history::HistoryFile> there, ReadHistoryFiles(a, system));
  return LineageOf(a, std::move(there), copies, copies_dir);
}

Result<history::Lineage> ReadLineage(Archive& a, const history::SystemId& system,
                                     const std::vector<history::HistoryFile>& copies,
                                     const std::string& copies_dir, const std::vector<std::string>& names) {
  AERO_ASSIGN_OR_RETURN(std::vector<history::HistoryFile> there, ReadHistoryFiles(a, system, names));
  return LineageOf(a, std::move(there), copies, copies_dir);
}

Status CheckClaimArchive(Archive& a, const history::SystemId& system) {
  const std::string name(history::kClaimArchiveMarker);
  AERO_RETURN_IF_ERROR(RefuseIrregular(a, name));  // LOG-4, ARC-2: a link is no marker
  Result<std::string> bytes = ReadArchiveFile(a, name, history::kMaxMarkerBytes + 1);
  if (!bytes.ok()) {
    if (bytes.status().code() != Code::kNotFound) return bytes.status();
    return Status(Code::kNotFound,
                  Problem("not a claim archive", a.location(), "no " + name),
                  "mark the archive the primary ships into with 'aerodb-repl ship-wal "
                  "--claim-archive', or name that archive");
  }
  return history::DecodeClaimArchiveMarker(*bytes, system, a.PathOf(name));
}

Status PublishBytesExclusive(Fs& fs, Archive& a, const std::string& temp_name,
                             const std::string& name, const std::string& bytes, bool* renamed) {
  if (renamed) *renamed = false;
  const std::string temp = a.TempPath(temp_name);
  Status written = WriteDurably(fs, temp, bytes);
  if (!written.ok()) {
    (void)fs.Remove(temp);
    return written;
  }
  Status published = a.PublishExclusive(temp, name);
  if (!published.ok()) {
    (void)fs.Remove(temp);
    return published;
  }
  if (renamed) *renamed = true;
  return a.MakeDurable();
}

}  // namespace aero::archive
