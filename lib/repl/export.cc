#include "repl/export.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/open_archive.h"
#include "common/crc32.h"
#include "common/escape.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "crypto/encrypted_file.h"
#include "node/layout.h"
#include "node/own_folder.h"
#include "node/store.h"
#include "repl/snapshot_sign.h"
#include "sign/publish.h"
#include "sign/statement.h"
#include "snapshot/archive_format.h"
#include "snapshot/archive_reader.h"
#include "snapshot/archive_writer.h"
#include "snapshot/libarchive_loader.h"
#include "snapshot/manifest.h"
#include "wal/wal_scan.h"

namespace aero::repl {

namespace {

// FM-53, SIG-9: the sidecar this run published, removed when its archive
// is not published (or not durable).
void DropSidecar(archive::Archive& a, const std::string& name, bool written) {
  if (written) (void)a.Remove(sign::SidecarName(name));
}

// One archive member and where its bytes come from.
struct Source {
  std::string member;
  std::string file;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Status AddFiles(Fs& fs, const std::string& dir, const std::string& member_dir,
                std::vector<Source>* out) {
  Result<std::vector<DirEntry>> entries = fs.ListDir(dir);
  if (!entries.ok()) {
    return entries.status().code() == Code::kNotFound ? Status::Ok() : entries.status();
  }
  for (const DirEntry& e : *entries) {
    if (!e.is_regular || e.name.empty() || e.name[0] == '.') continue;  // temp names
    const std::string path = JoinPath(dir, e.name);
    AERO_ASSIGN_OR_RETURN(FileInfo fi, fs.Stat(path));
    out->push_back({member_dir + e.name, path, 0, fi.size});
  }
  return Status::Ok();
}

Status AddFile(Fs& fs, const std::string& path, const std::string& member,
               std::vector<Source>* out) {
  AERO_ASSIGN_OR_RETURN(FileInfo fi, fs.Stat(path));
  out->push_back({member, path, 0, fi.size});
  return Status::Ok();
}

// Streams [offset, offset+size) of a file to `fn`.
Status ForEachChunk(Fs& fs, const Source& s, const std::function<Status(std::string_view)>& fn) {
  AERO_ASSIGN_OR_RETURN(auto f, fs.OpenRead(s.file));
  AERO_RETURN_IF_ERROR(f->Seek(s.offset));
  std::string buf(1 << 20, '\0');
  for (uint64_t left = s.size; left > 0;) {
    AERO_ASSIGN_OR_RETURN(size_t n, f->Read(buf.data(), std::min<uint64_t>(left, buf.size())));
    if (n == 0) {
      return Status(Code::kDamage, Problem("file shorter than expected", s.file),
                    "the node changed while exporting; re-run");
    }
    AERO_RETURN_IF_ERROR(fn(std::string_view(buf.data(), n)));
    left -= n;
  }
  return Status::Ok();
}

// [offset, offset+size) of a source as a ReadableFile for the WAL and
// storage scanners; every byte read is hashed for the manifest when `sha`
// is given (one read, one SHA-256 per byte; the WAL member has none,
// SNAP-15).
class HashedSource final : public ReadableFile {
 public:
  HashedSource(std::unique_ptr<ReadableFile> f, const Source& s, Sha256* sha)
      : f_(std::move(f)), s_(s), sha_(sha) {}
  Result<size_t> Read(char* buf, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, s_.size - done_));
    if (n == 0) return size_t{0};
    AERO_ASSIGN_OR_RETURN(size_t got, f_->Read(buf, n));
    if (got == 0) {
      return Status(Code::kDamage, Problem("file shorter than expected", s_.file),
                    "the node changed while exporting; re-run");
    }
    if (sha_) sha_->Update(std::string_view(buf, got));
    crc_ = Crc32(std::string_view(buf, got), crc_);
    done_ += got;
    return got;
  }
  uint32_t crc() const { return crc_; }
  Status Seek(uint64_t off) override {
    return off == done_ ? Status::Ok() : Status(Code::kInternal, "cannot seek in an export source");
  }
  Result<uint64_t> Size() override { return s_.size; }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.size = s_.size;
    return i;
  }
  const std::string& path() const override { return s_.file; }
  Status Drain() {
    std::string buf(1 << 20, '\0');
    for (;;) {
      AERO_ASSIGN_OR_RETURN(size_t n, Read(buf.data(), buf.size()));
      if (n == 0) return Status::Ok();
    }
  }

 private:
  std::unique_ptr<ReadableFile> f_;
  const Source& s_;
  Sha256* sha_;
  uint32_t crc_ = 0;  // SNAP-6: for AeroDB's own checksums
  uint64_t done_ = 0;
};

// An AeroDB directory as AeroDB lays it out (no replication/): base = its
// newest MVCC snapshot, boundary = the last commit of its WAL.
Status PlanUpstream(Fs& fs, const ExportOptions& o, snapshot::Manifest* m,
                    std::vector<Source>* sources) {
  history::SystemId id;
  if (o.system_id_hex) {
    AERO_ASSIGN_OR_RETURN(id, history::ParseSystemId(*o.system_id_hex));
  }
  m->system_id = id;
  m->epoch = 1;
  std::optional<uint64_t> base;
  std::string base_dir;
  const std::string snapshots = JoinPath(o.data_dir, node::kSnapshotsDir);
  Result<std::vector<DirEntry>> entries = fs.ListDir(snapshots);
  // FM-139: a listing or a manifest that fails is that fault, never a
  // shorter tree (an archive "at base 0" with half the members went out).
  if (!entries.ok() && entries.status().code() != Code::kNotFound) return entries.status();
  if (entries.ok()) {
    for (const DirEntry& e : *entries) {
      if (!e.is_dir || e.name[0] == '.') continue;
      Result<std::string> text =
          ReadSmallFile(fs, JoinPath(JoinPath(snapshots, e.name), node::kSnapshotManifest),
                        node::kMaxSnapshotManifestBytes);
      if (!text.ok() && text.status().code() != Code::kNotFound) return text.status();
      if (!text.ok()) continue;
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      // Typed reads only: a hostile manifest.json ("format_version": "2", a
      // string commit_boundary) is not a snapshot of ours, never an exception.
      const auto version = j.is_object() ? j.find("format_version") : j.end();
      const auto boundary = j.is_object() ? j.find("commit_boundary") : j.end();
      if (version == j.end() || !version->is_number_unsigned() || version->get<uint64_t>() != 2 ||
          boundary == j.end() || !boundary->is_number_unsigned()) {
        continue;
      }
      const uint64_t b = boundary->get<uint64_t>();
      if (!base || b > *base) {
        base = b;
        base_dir = JoinPath(snapshots, e.name);
      }
    }
  }
  const std::string wal_path = JoinPath(o.data_dir, node::kWalFile);
  AERO_ASSIGN_OR_RETURN(auto wal, fs.OpenRead(wal_path));
  wal::ScanOptions opt;
  opt.base_commit = 0;
  opt.base_digest = history::SeedDigest(id);
  uint64_t base_end = 0;
  std::optional<history::Digest> base_digest = opt.base_digest;
  uint64_t last_seq = 0;
  wal::ScanResult r = wal::WalScanner(wal.get(), opt).Run({}, [&](const wal::WriteSet& ws) {
    if (base && ws.commit_id == *base) {
      base_end = ws.end_offset;
      base_digest = ws.digest_after;
    }
    last_seq = ws.last_sequence;
    return true;
  });
  // SNAP-5: a log that AeroDB's checkpoint restarted (it starts past commit
  // 1, or holds none beside a snapshot) is not damage: the commits before
  // it are only in the snapshot, whose H(B) only an enrolment names (HIST-5).
  const bool restarted = (r.first_commit && *r.first_commit > 1) || (base && r.write_sets == 0);
  if (restarted && r.stop.kind != wal::StopKind::kCorrupt &&
      r.stop.kind != wal::StopKind::kUnsupportedType) {
    const uint64_t from = r.first_commit.value_or(base.value_or(0) + 1);
    return Status(Code::kGap,
                  Problem("gap before commit " + std::to_string(from) + " in", wal_path,
                          r.write_sets == 0 ? "the log holds no commit, and a snapshot is at commit " +
                                                  std::to_string(base.value_or(0))
                                            : "the log starts at commit " + std::to_string(from) +
                                                  ": AeroDB's checkpoint restarted it"),
                  "enrol the directory with 'aerodb-repl init -D " + o.data_dir +
                      "' (it follows AeroDB's checkpoint), then export it");
  }
  if (r.stop.kind == wal::StopKind::kCorrupt || r.stop.kind == wal::StopKind::kUnsupportedType ||
      !r.findings.empty() || !r.position.digest) {
    return Status(Code::kDamage,
                  Problem("cannot prove the history", wal_path,
                          r.findings.empty() ? r.stop.detail : r.findings.front().detail),
                  "the log must start at commit 1 and verify; run 'aerodb-repl verify'");
  }
  if (base && (base_end == 0 || *base > r.position.commit)) {
    return Status(Code::kDamage, Problem("snapshot not in the log", base_dir,
                                         "its commit_boundary " + std::to_string(*base) +
                                             " is not a commit of wal/wal.log"));
  }
  m->base_commit = base.value_or(0);
  m->base_digest = *base_digest;
  m->boundary_commit = r.position.commit;
  m->boundary_digest = *r.position.digest;
  m->boundary_wal_offset = r.committed_end - base_end;
  m->next_sequence = last_seq + 1;
  if (base) {
    m->base_snapshot = node::Node::SnapshotId(*base);
    const std::string to = "snapshots/" + *m->base_snapshot + "/";
    AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(base_dir, node::kSnapshotManifest), to + "manifest.json", sources));
    AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(base_dir, node::kSnapshotStorage), to + "storage.dat", sources));
    AERO_RETURN_IF_ERROR(AddFiles(fs, JoinPath(base_dir, node::kSnapshotSchemas), to + "schemas/", sources));
  }
  sources->push_back({"wal/wal.log", wal_path, base_end, m->boundary_wal_offset});
  return Status::Ok();
}

}  // namespace

namespace {

// ENC-20: the plaintext archive staged in a hidden local file, then read
// back in order and encrypted into the envelope `raw` (whose header needs
// the plaintext's size): the node is read once.
Status ExportEncryptStaged(Fs& fs, const std::string& plain, uint64_t size,
                           std::unique_ptr<WritableFile> raw, const crypto::EncryptionKey& key) {
  AERO_ASSIGN_OR_RETURN(auto in, fs.OpenRead(plain));
  AERO_ASSIGN_OR_RETURN(auto out, crypto::OpenEncrypting(std::move(raw), key, size));
  AERO_RETURN_IF_ERROR(out->AppendFrom(*in, 0, size));
  AERO_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

}  // namespace

Status ExportSnapshot(Fs& fs, const ExportOptions& o, ExportReport* report,
                      const std::function<void(uint64_t, uint64_t)>& progress) {
  ExportReport scratch;
  ExportReport& rep = report ? *report : scratch;
  if (o.output.empty()) {
    return Status(Code::kUsage, Problem("invalid value", "--output", "an empty path"),
                  "give the archive's file name, for example snapshot.tar.zst");
  }
  snapshot::Manifest m;
  std::vector<Source> sources;
  std::unique_ptr<node::Node> node;  // holds the lock for the whole export (SNAP-5)
  // OBJ-20: the archive that receives the file (a directory, or an object
  // store) and the file's name there.
  AERO_ASSIGN_OR_RETURN(ArchiveObject target, OpenArchiveObject(fs, o.output));
  const std::string& name = target.name;
  if (o.signing && !sign::IsStatementName(name)) {  // SIG-20: a name no reader would take
    return Status(Code::kUsage,
                  Problem("cannot sign", o.output,
                          "a signed archive's name is printable ASCII without '/' or space (SIG-1)"),
                  "give the archive a name of letters, digits and punctuation, e.g. snapshot-1.tar.zst; "
                  "nothing was read or written");
  }
  // The output is checked before the node is read (SNAP-13): reading and
  // writing a large node takes seconds, and a name that is taken or a
  // parent that is missing would only be found at the end. The final
  // publish still refuses a name taken meanwhile.
  if (archive::IsObjectStore(o.output)) {
    Result<std::unique_ptr<ReadableFile>> there = target.archive->OpenRead(name);  // OBJ-20: a HEAD
    if (there.ok()) {
      return Status(Code::kRefused, Problem("refusing to overwrite", o.output, "the object exists"),
                    "give a new name, or remove the old archive first");
    }
    if (there.status().code() != Code::kNotFound) return there.status();
  } else if (Result<FileInfo> out = fs.LStat(o.output); out.ok()) {
    if (out->is_dir) {
      return Status(Code::kRefused, Problem("refusing to write", o.output, "a directory"),
                    "give the archive's file name, for example " +
                        JoinPath(o.output, "snapshot.tar.zst"));
    }
    return Status(Code::kRefused, Problem("refusing to overwrite", o.output, "the file exists"),
                  "give a new name, or remove the old archive first");
  } else if (out.status().code() != Code::kNotFound) {
    return out.status();
  }
  if (!archive::IsObjectStore(o.output)) {
    AERO_RETURN_IF_ERROR(CheckParentDir(
        fs, o.output,
        "create the directory first, or write the archive elsewhere; nothing was read or written"));
    AERO_RETURN_IF_ERROR(node::RefuseInsideOwnFolder(o.data_dir, DirName(o.output), "--output", o.output));  // NODE-13
  }
  AERO_ASSIGN_OR_RETURN(const bool is_node, node::HasIdentity(fs, o.data_dir));  // FM-137
  if (is_node) {
    AERO_ASSIGN_OR_RETURN(node, node::Node::Open(fs, o.data_dir, node::Access::kWrite));
    const node::NodeState& s = node->state();
    // SNAP-13, MODEL-9: halted 6, fenced or promoting 5.
    AERO_RETURN_IF_ERROR(node::Permit(node->authority(), node::Operation::kExport, o.data_dir));
    m.system_id = node->identity().system_id;
    m.epoch = s.epoch;
    m.base_commit = s.base_commit;
    m.base_digest = s.base_digest;
    // COMPAT-11: an archive names its base snapshot by the 20-digit id,
    // whatever the source calls it (AeroDB's YYYYMMDDTHHMMSSZ).
    if (s.base_snapshot) m.base_snapshot = node::Node::SnapshotId(s.base_commit);
    m.boundary_commit = s.applied_commit;
    m.boundary_digest = s.applied_digest;
    m.boundary_wal_offset = s.applied_wal_offset;
    m.next_sequence = s.next_sequence;
    if (s.base_snapshot) {
      const std::string dir = JoinPath(JoinPath(o.data_dir, node::kSnapshotsDir), *s.base_snapshot);
      const std::string to = "snapshots/" + *m.base_snapshot + "/";
      AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(dir, node::kSnapshotManifest), to + "manifest.json", &sources));
      AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(dir, node::kSnapshotStorage), to + "storage.dat", &sources));
      AERO_RETURN_IF_ERROR(AddFiles(fs, JoinPath(dir, node::kSnapshotSchemas), to + "schemas/", &sources));
    }
    sources.push_back({"wal/wal.log", JoinPath(o.data_dir, node::kWalFile), 0, s.applied_wal_offset});
    // SNAP-16: the epochs travel with the archive.
    if (s.epoch >= 2) {
      m.lineage = node->history().LineageThrough(s.epoch);
      for (uint32_t e = 2; e <= s.epoch; ++e) {
        const std::string name = history::HistoryFileName(e);
        AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(JoinPath(o.data_dir, node::kHistoryDir), name),
                                     std::string(snapshot::kHistoryMemberDir) + name, &sources));
      }
    }
  } else {
    AERO_ASSIGN_OR_RETURN(const std::optional<FileInfo> wal,
                          StatIfThere(fs, JoinPath(o.data_dir, node::kWalFile)));  // FM-139
    if (!wal) {
      return Status(Code::kNotFound, Problem("not an aerodb node", o.data_dir, "no wal/wal.log"),
                    "give a node's data directory");
    }
    AERO_RETURN_IF_ERROR(PlanUpstream(fs, o, &m, &sources));
  }
  AERO_RETURN_IF_ERROR(AddFile(fs, JoinPath(o.data_dir, node::kDocumentsFile), "data/documents.dat", &sources));
  AERO_RETURN_IF_ERROR(AddFiles(fs, JoinPath(o.data_dir, node::kSchemasDir), "metadata/schemas/", &sources));
  std::sort(sources.begin(), sources.end(),
            [](const Source& a, const Source& b) { return a.member < b.member; });
  // SNAP-9: nor one over the reader's bounds (an archive of more members
  // went out with 0, and its own verify and install refused it).
  uint64_t tree_bytes = 0;
  for (const Source& s : sources) tree_bytes += s.size;
  if (sources.size() > o.max_members || tree_bytes > snapshot::kMaxTotalBytes) {
    return Status(Code::kDamage,
                  Problem("cannot export", o.data_dir,
                          std::to_string(sources.size()) + " files of " + std::to_string(tree_bytes) +
                              " bytes: an archive holds at most " + std::to_string(o.max_members) +
                              " files and " + std::to_string(snapshot::kMaxTotalBytes) + " bytes (SNAP-9)"),
                  "nothing was written: no archive can hold this tree; move files out of metadata/schemas");
  }
  // SNAP-8: export writes no archive the reader refuses; said before
  // anything is written, with the file that cannot go in.
  for (const Source& s : sources) {
    if (std::string why; !snapshot::IsSafeMemberPath(s.member, &why) ||
                         (!snapshot::Utf8LocaleAvailable() &&
                          std::any_of(s.member.begin(), s.member.end(),
                                      [&why](char c) {
                                        why = "a byte beyond ASCII, and no C.UTF-8 locale to write it";
                                        return static_cast<unsigned char>(c) >= 0x80;
                                      }))) {
      return Status(Code::kDamage,
                    Problem("cannot export", s.file,
                            "its member path '" + Escaped(s.member) + "' is not allowed in an archive (" + why + ")"),
                    "nothing was written; rename the file (member paths are UTF-8 text without "
                    "control characters) or move it out of the node's directory, then re-run");
    }
  }

  // Pass 1: sizes and SHA-256 for the manifest, and the content checks
  // (SNAP-14). The lock keeps the files still.
  uint64_t total = 0;
  snapshot::AeroDbManifestCheck aerodb(m);  // SNAP-6: what install will check, before it is written
  std::vector<std::string> member_paths;
  for (const Source& s : sources) member_paths.push_back(s.member);
  for (const Source& s : sources) {
    // SNAP-15: the WAL member is bound by the chain its content check
    // computes; every other member by its SHA-256.
    const bool chained = s.member == snapshot::kWalMember;
    Sha256 sha;
    AERO_ASSIGN_OR_RETURN(auto f, fs.OpenRead(s.file));
    AERO_RETURN_IF_ERROR(f->Seek(s.offset));
    HashedSource in(std::move(f), s, chained ? nullptr : &sha);
    // SNAP-14: the content checks verify and install will run (SNAP-6),
    // in the same read that hashes the member.
    Status content = s.member == "wal/wal.log"      ? snapshot::CheckWalMember(&in, s.size, m)
                     : snapshot::IsStorageMember(s.member, m) ? snapshot::CheckStorageMember(&in)
                                                              : Status::Ok();
    if (content.ok() && aerodb.IsManifest(s.member)) {
      std::string text(static_cast<size_t>(std::min<uint64_t>(s.size, node::kMaxSnapshotManifestBytes)), '\0');
      size_t got = 0;
      while (content.ok() && got < text.size()) {
        Result<size_t> n = in.Read(text.data() + got, text.size() - got);
        if (!n.ok()) content = n.status();
        else if (*n == 0) break;
        else got += *n;
      }
      text.resize(got);
      if (content.ok()) content = aerodb.Read(text, member_paths);
    }
    if (content.ok()) content = in.Drain();
    if (content.ok()) content = aerodb.CheckCrc(s.member, in.crc());
    if (content.code() == Code::kDamage) {
      // CheckWalMember's and AeroDbManifestCheck's details name the member already.
      const std::string detail = content.message().rfind(s.member, 0) == 0
                                     ? content.message()
                                     : s.member + ": " + content.message();
      if (node && s.member == "wal/wal.log") {
        // LOG-22, as ship-wal: the acknowledged WAL is damaged; the node
        // stops accepting writes until an operator looks.
        AERO_RETURN_IF_ERROR(
            node->Halt({"corrupt", s.file, detail, node->state().applied_commit}));
        return Status(Code::kDamage, Problem("wal cannot be trusted", s.file, detail),
                      "this node is halted and no archive was written; restore it from a "
                      "healthy copy");
      }
      return Status(Code::kDamage, Problem("cannot export", s.file, detail),
                    "no archive was written; the node's files are damaged");
    }
    AERO_RETURN_IF_ERROR(content);
    m.members.push_back({s.member, s.size,
                         chained ? std::nullopt : std::optional<Sha256Digest>(sha.Finish())});
    total += s.size;
  }
  const std::string manifest = snapshot::EncodeManifest(m);

  // Pass 2: the archive, to a temp name beside the output (or in an object
  // store's staging directory), then published under its name.
  // A name of this run's own: two exports to one output never write one
  // temp file (the one that published reported the other's archive).
  AERO_ASSIGN_OR_RETURN(const std::string tag, OwnTempTag("the temp name of snapshot export"));
  const std::string run = "." + tag;
  const std::string tmp = target.archive->TempPath(HiddenName(name, run + ".tmp"));
  // ENC-20: with encryption, the plaintext goes to a staging file first:
  // in the node's replication/ directory (the node's own plaintext, under
  // its lock), else where the output's temp goes.
  const std::string plain =
      !o.encryption ? std::string()
      : node        ? JoinPath(JoinPath(o.data_dir, node::kReplicationDir), ".export.plain.tmp")
                    : target.archive->TempPath(HiddenName(name, run + ".plain.tmp"));
  uint64_t archive_bytes = 0;
  Sha256Digest archive_sha{};
  Status written = [&]() -> Status {
    AERO_ASSIGN_OR_RETURN(auto out, fs.OpenWrite(o.encryption ? plain : tmp, OpenMode::kTruncate));
    // SIG-20: the plaintext archive's size and SHA-256, as it is written.
    HashingWritable hashed(*out);
    AERO_ASSIGN_OR_RETURN(auto w, snapshot::ArchiveWriter::Open(&hashed, o.zstd, o.level));
    AERO_RETURN_IF_ERROR(w->BeginFile(std::string(snapshot::kManifestMember), manifest.size()));
    AERO_RETURN_IF_ERROR(w->Data(manifest));
    uint64_t done = 0;
    for (const Source& s : sources) {
      AERO_RETURN_IF_ERROR(w->BeginFile(s.member, s.size));
      AERO_RETURN_IF_ERROR(ForEachChunk(fs, s, [&](std::string_view b) {
        done += b.size();
        if (progress) progress(done, total);
        return w->Data(b);
      }));
    }
    AERO_RETURN_IF_ERROR(w->Finish());
    AERO_RETURN_IF_ERROR(hashed.Sync());
    AERO_RETURN_IF_ERROR(hashed.Close());
    archive_bytes = hashed.bytes();
    archive_sha = hashed.Finish();
    if (!o.encryption) return Status::Ok();
    AERO_ASSIGN_OR_RETURN(auto raw, fs.OpenWrite(tmp, OpenMode::kTruncate));
    return ExportEncryptStaged(fs, plain, archive_bytes, std::move(raw), *o.encryption);
  }();
  if (o.encryption) (void)fs.Remove(plain);  // ENC-20: whatever the outcome
  if (!written.ok()) {
    (void)fs.Remove(tmp);
    return written;
  }
  // SNAP-9: install refuses an archive whose members come out at more than
  // kBombRatio bytes per archive byte past kBombGraceBytes (a decompression
  // bomb); export never publishes one it would refuse (a state of one very
  // repetitive document compressed that far, and could never be installed).
  if (o.zstd && total > snapshot::kBombGraceBytes &&
      total > snapshot::kBombRatio * std::max<uint64_t>(archive_bytes, 1)) {
    (void)fs.Remove(tmp);
    return Status(Code::kUsage,
                  Problem("cannot compress", o.output,
                          std::to_string(total) + " member bytes in " + std::to_string(archive_bytes) +
                              " archive bytes, more than " + std::to_string(snapshot::kBombRatio) +
                              " per byte: install would refuse it as a decompression bomb (SNAP-9)"),
                  "nothing was written; export it with --compression none");
  }
  Result<FileInfo> tmp_info = fs.Stat(tmp);
  if (!tmp_info.ok()) {
    (void)fs.Remove(tmp);
    return tmp_info.status();
  }
  bool sidecar_written = false;
  if (o.signing) {
    // SIG-20: NAME.sig before NAME (SIG-9's order), into the same archive.
    // The sidecar's temp is the run's own too: two signed exports to one
    // output wrote one .NAME.sig.tmp, and an archive went out beside the
    // other run's signature. Exclusive, so one signature wins and only its
    // run publishes an archive (SIG-9's order).
    Status signed_ok = sign::PublishSidecar(
        fs, *target.archive, *o.signing, SnapshotFacts(name, archive_bytes, archive_sha, m), &sidecar_written,
        std::string_view(run).substr(1));
    if (!signed_ok.ok()) {
      (void)fs.Remove(tmp);
      DropSidecar(*target.archive, name, sidecar_written);  // FM-53: the run's own, not known durable
      return signed_ok;
    }
  }
  Status published = target.archive->PublishExclusive(tmp, name);
  if (!published.ok()) {
    // SIG-9: a signature of this run's is never left beside another file
    // (another run's archive under the name) or none.
    (void)fs.Remove(tmp);
    DropSidecar(*target.archive, name, sidecar_written);
    if (published.code() != Code::kRefused) return published;
    return Status(Code::kRefused, Problem("refusing to overwrite", o.output, "the file exists"),
                  "give a new name, or remove the old archive first");
  }
  if (Status durable = target.archive->MakeDurable(); !durable.ok()) {
    // FM-53: nothing says the rename is durable, so it is undone: the
    // archive (and its sidecar) removed, as the man page says of a failure,
    // and the re-run writes it again instead of meeting "the file exists".
    const bool removed = target.archive->Remove(name).ok();
    DropSidecar(*target.archive, name, sidecar_written);
    return Status(durable.code(),
                  durable.message() + (removed ? " (the archive was removed: not known to be durable)"
                                               : " (the archive is there, not known to be durable: remove it "
                                                 "before the re-run)"),
                  durable.hint());
  }
  rep.output = o.output;
  rep.base_commit = m.base_commit;
  rep.boundary_commit = m.boundary_commit;
  rep.boundary_digest = history::DigestToHex(m.boundary_digest);
  rep.members = m.members.size() + 1;
  rep.data_bytes = total;
  rep.archive_bytes = tmp_info->size;
  return Status::Ok();
}

}  // namespace aero::repl
