// SIG-20..SIG-22, OBJ-20: snapshot archives, their location and signature.
#include "repl/snapshot_sign.h"

#include "archive/open_archive.h"
#include "s3/s3_url.h"

namespace aero::repl {

Result<ArchiveObject> OpenArchiveObject(Fs& fs, const std::string& path) {
  ArchiveObject out;
  if (!archive::IsObjectStore(path)) {
    out.archive = std::make_unique<archive::PosixArchive>(fs, DirName(path));
    out.name = BaseName(path);
    return out;
  }
  // OBJ-20: the last segment of the URL is the archive's name; a URL that
  // ends with '/' names a prefix, not an object (ParseS3Url drops the slash).
  AERO_ASSIGN_OR_RETURN(s3::S3Url url, s3::ParseS3Url(path));
  if (url.prefix.empty() || path.back() == '/') {
    return Status(Code::kUsage, Problem("no archive name", path, "the URL names a bucket, not an object"),
                  "name the archive object, e.g. s3://BUCKET/PREFIX/snapshot.tar.zst");
  }
  const size_t slash = url.prefix.rfind('/');
  out.name = slash == std::string::npos ? url.prefix : url.prefix.substr(slash + 1);
  url.prefix = slash == std::string::npos ? "" : url.prefix.substr(0, slash);
  AERO_ASSIGN_OR_RETURN(out.archive, archive::OpenArchive(fs, url.Location()));
  return out;
}

sign::Statement SnapshotFacts(const std::string& name, uint64_t size, const Sha256Digest& sha,
                              const snapshot::Manifest& m) {
  sign::Statement s;
  s.kind = sign::Kind::kSnapshot;  // SIG-1
  s.name = name;
  s.size = size;
  s.sha256 = sha;
  s.chain = m.boundary_digest;
  s.epoch = m.epoch;
  return s;
}

Result<size_t> HashingReadable::Read(char* buf, size_t n) {
  AERO_ASSIGN_OR_RETURN(size_t got, inner_.Read(buf, n));
  sha_.Update(std::string_view(buf, got));
  done_ += got;
  return got;
}

Status HashingReadable::Seek(uint64_t offset) {
  if (offset == done_) return inner_.Seek(offset);
  return Status(Code::kInternal, "a hashed archive is read in order");
}

Status HashingReadable::Drain() {
  std::string buf(1 << 20, '\0');
  for (;;) {
    AERO_ASSIGN_OR_RETURN(size_t n, Read(buf.data(), buf.size()));
    if (n == 0) return Status::Ok();
  }
}

sign::Judgement JudgeSnapshotSidecar(archive::Archive& a, const std::string& name,
                                     const sign::TrustSet& trust) {
  return sign::JudgeSidecar(a, name, sign::Kind::kSnapshot, trust);  // SIG-21, SIG-6..SIG-8
}

sign::Judgement CompareSnapshot(sign::Judgement j, HashingReadable& read, const snapshot::Manifest& m) {
  if (!j.ok()) return j;
  if (Status d = read.Drain(); !d.ok()) {
    j.outcome = sign::Outcome::kIoError;
    j.io = d;
    return j;
  }
  const uint64_t size = read.bytes();
  // SIG-21, SIG-7: the statement against the archive as it was read.
  return sign::CompareWithFile(j, SnapshotFacts(j.name, size, read.Finish(), m));
}

}  // namespace aero::repl
