// Permissions for tests that run as root (FM-137): root passes every mode
// bit, so a directory at mode 000 or a file owned by another user is
// modelled at the Fs seam. Deny(dir) is a directory this user may not
// enter: listing it, and every call on a path below it, fails with EACCES
// as the kernel reports it; the directory itself still stats. DenyRead(file)
// is a file this user may not read or remove: it stats, but opening it and
// removing it fail.
#pragma once

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

#include "support/forwarding_fs.h"

namespace aero::testing {

class DeniedFs final : public ForwardingFs {
 public:
  void Deny(const std::string& dir) { dirs_.insert(dir); }
  void DenyRead(const std::string& file) { files_.insert(file); }
  // A file whose directory this user may list but not search: stat fails.
  void DenyStat(const std::string& file) { stats_.insert(file); }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (Below(p) || files_.count(p)) return Denied("cannot open", p);
    return real_.OpenRead(p);
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    if (Below(p) || files_.count(p)) return Denied("cannot open", p);
    return real_.OpenWrite(p, m);
  }
  Status Remove(const std::string& p) override {
    if (Below(p) || files_.count(p)) return Denied("cannot remove", p);
    return real_.Remove(p);
  }
  Status MakeDir(const std::string& p) override {
    if (Below(p)) return Denied("cannot create directory", p);
    return real_.MakeDir(p);
  }
  Result<FileInfo> Stat(const std::string& p) override {
    if (Below(p) || stats_.count(p)) return Denied("cannot stat", p);
    return real_.Stat(p);
  }
  Result<FileInfo> LStat(const std::string& p) override {
    if (Below(p)) return Denied("cannot stat", p);
    return real_.LStat(p);
  }
  Result<std::vector<DirEntry>> ListDir(const std::string& d) override {
    if (Below(d) || dirs_.count(d)) return Denied("cannot list directory", d);
    return real_.ListDir(d);
  }
  Result<std::unique_ptr<FileLock>> Lock(const std::string& p) override {
    if (Below(p)) return Denied("cannot open lock file", p);
    return real_.Lock(p);
  }

 private:
  bool Below(const std::string& p) const {
    for (const std::string& d : dirs_) {
      if (p.size() > d.size() && p.compare(0, d.size(), d) == 0 && p[d.size()] == '/') return true;
    }
    return false;
  }
  static Status Denied(std::string_view what, const std::string& p) {
    return Status(Code::kIo, Problem(what, p, std::strerror(EACCES)), IoHint(EACCES));
  }
  std::set<std::string> dirs_, files_, stats_;
};

}  // namespace aero::testing
