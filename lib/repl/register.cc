#include "repl/register.h"

#include <unistd.h>

#include <climits>

#include "archive/archive.h"
#include "archive/history_files.h"
#include "archive/open_archive.h"
#include "common/escape.h"
#include "common/file_util.h"
#include "node/own_folder.h"
#include "node/state.h"

namespace aero::repl {

namespace {

std::string HostName() {
  // A name of HOST_NAME_MAX bytes needs the whole buffer: its terminator
  // is the last byte (one byte less, and a 64-character name failed and
  // every such host registered as "localhost", one another's registration).
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf) != 0) return "localhost";
  buf[HOST_NAME_MAX] = '\0';
  return buf;
}

// kNotFound when the archive is not there: no directory, or no bucket
// (OBJ-31: a listing of a missing bucket is kNotFound, OBJ-10).
Status RegisterCheckArchiveThere(Fs& fs, const std::string& location, archive::Archive& a) {
  if (archive::IsObjectStore(location)) {
    Result<std::vector<archive::ArchiveEntry>> listed = a.List();
    if (listed.ok() || listed.status().code() != Code::kNotFound) return listed.status();
    return Status(Code::kNotFound, Problem("archive not found", location, "no such bucket"),
                  "give the archive that 'aerodb-repl prune' trims");
  }
  Result<FileInfo> where = fs.Stat(location);
  if (where.ok() && where->is_dir) return Status::Ok();
  if (!where.ok() && where.status().code() != Code::kNotFound) return where.status();
  return Status(Code::kNotFound, Problem("archive not found", location, "no such directory"),
                "give the archive directory that 'aerodb-repl prune' trims");
}

}  // namespace

Status RegisterReplica(Fs& fs, const RegisterOptions& o, archive::Registration* out) {
  archive::Registration r;
  r.name = o.name.empty() ? HostName() : o.name;
  if (!archive::IsRegistrationName(r.name)) {
    return Status(Code::kUsage,
                  Problem("invalid replica name", r.name,
                          std::string(archive::kRegistrationNameRule)),
                  "give one with --replica-name");
  }
  // The replica first: where there is none (a bootstrap that failed, a
  // primary), there is nothing to register, and the reason says so
  // (kNoReplica), so that a failed run stays quiet about it but not about
  // an archive that is missing.
  Result<node::Identity> id = node::LoadIdentity(fs, o.data_dir);
  if (!id.ok()) {
    return id.status().code() == Code::kNotFound ? id.status().WithReason(kNoReplica) : id.status();
  }
  Result<node::NodeState> st = node::LoadState(fs, o.data_dir, *id);
  if (!st.ok()) {
    return st.status().code() == Code::kNotFound ? st.status().WithReason(kNoReplica) : st.status();
  }
  if (st->role != node::Role::kReplica) {  // a primary needs no segment from the archive
    return Status(Code::kNotFound, Problem("no replica to register", o.data_dir, "it is a primary"),
                  "register replicas only")
        .WithReason(kNoReplica);
  }
  // OBJ-31: a directory or an s3:// archive, through the one factory.
  AERO_ASSIGN_OR_RETURN(std::unique_ptr<archive::Archive> opened, archive::OpenArchive(fs, o.archive));
  AERO_RETURN_IF_ERROR(RegisterCheckArchiveThere(fs, o.archive, *opened));
  AERO_ASSIGN_OR_RETURN(const std::string real, RealPath(o.data_dir));
  r.data_dir = Utf8Escaped(real);  // stored and compared as UTF-8, whatever the path's bytes
  r.system_id = id->system_id;
  r.host = HostName();
  r.epoch = st->epoch;
  r.applied_commit = st->applied_commit;
  r.applied_digest = st->applied_digest;

  archive::Archive& a = *opened;
  const std::string file = archive::RegistrationFileName(r.name);
  // RET-3: one name, one replica. A damaged file under the name is replaced.
  Result<std::string> old = archive::ReadArchiveFile(a, file, archive::kMaxRegistrationBytes + 1);
  if (!old.ok() && old.status().code() != Code::kNotFound) return old.status();
  if (old.ok()) {
    Result<archive::Registration> theirs = archive::DecodeRegistration(*old, r.name, a.PathOf(file));
    if (theirs.ok() && (theirs->host != r.host || theirs->data_dir != r.data_dir)) {
      return Status(Code::kRefused,
                    Problem("registration of another replica", a.PathOf(file),
                            "it is '" + theirs->host + ":" + theirs->data_dir + "', this is '" +
                                r.host + ":" + r.data_dir + "'"),
                    "give this replica its own --replica-name, or retire the other one by "
                    "deleting the file if it is gone");
    }
  }
  const std::string temp = a.TempPath(HiddenName(file, ".tmp"));
  Status written = WriteDurably(fs, temp, archive::EncodeRegistration(r));
  if (written.ok()) written = a.Replace(temp, file);  // OBJ-31: on S3 one unconditional PUT (ARC-5: one writer)
  if (!written.ok()) {
    (void)fs.Remove(temp);
    return written;
  }
  AERO_RETURN_IF_ERROR(a.MakeDurable());
  if (out) *out = r;
  return Status::Ok();
}

Status CheckReportTo(const RegisterOptions& o) {
  if (o.archive.empty() || archive::IsObjectStore(o.archive)) return Status::Ok();
  return node::RefuseInsideOwnFolder(o.data_dir, o.archive, "--report-to");
}

}  // namespace aero::repl
