// SIG-4 the trust directory, SIG-11 retirement.
#include "sign/trust.h"

#include <algorithm>
#include <set>
#include <vector>

#include "common/file_util.h"
#include "sign/signature_format.h"

namespace aero::sign {

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status Malformed(const std::string& path, const std::string& detail, const std::string& hint) {
  return Status(Code::kUsage, Problem("invalid trust directory entry", path, detail), hint);
}

}  // namespace

const TrustedKey* TrustSet::Find(const std::string& key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

void TrustSet::Add(TrustedKey k) {
  const std::string id = k.key.key_id();
  auto it = keys_.find(id);
  if (it == keys_.end()) {
    keys_.emplace(id, std::move(k));
    return;
  }
  if (k.retired_from && (!it->second.retired_from || *k.retired_from < *it->second.retired_from)) {
    it->second.retired_from = k.retired_from;
  }
}

void TrustSet::Merge(const TrustSet& other) {
  for (const auto& [id, k] : other.keys_) Add(k);
}

std::vector<std::string> TrustSet::KeyIds() const {
  std::vector<std::string> out;
  for (const auto& [id, k] : keys_) out.push_back(id);
  return out;
}

Result<TrustSet> LoadTrustDir(Fs& fs, const std::string& dir) {
  AERO_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs.ListDir(dir));
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  TrustSet set;
  std::map<std::string, std::pair<uint32_t, std::string>> retired;  // key id -> epoch, path
  for (const DirEntry& e : entries) {
    if (e.name.empty() || e.name[0] == '.') continue;
    const std::string path = JoinPath(dir, e.name);
    const bool pem = EndsWith(e.name, kPublicKeySuffix);
    const bool ret = EndsWith(e.name, kRetiredSuffix);
    if (!pem && !ret) continue;  // SIG-4: other names are ignored
    if (!e.is_regular) return Malformed(path, "not a regular file", "remove it from the trust directory");
    AERO_ASSIGN_OR_RETURN(std::string bytes, ReadSmallFile(fs, path, 64 * 1024));
    if (pem) {
      Result<PublicKey> k = PublicKey::FromPem(bytes, path);
      if (!k.ok()) {
        return Malformed(path, k.status().message(),
                         "a trust directory holds public keys only ('openssl pkey -in KEY.pem -pubout')");
      }
      set.Add(TrustedKey{*k, path, std::nullopt});
      continue;
    }
    // KEYID.retired holding "R\n" (SIG-11).
    const std::string id = e.name.substr(0, e.name.size() - kRetiredSuffix.size());
    const bool id_ok = id.size() == kKeyIdHexDigits &&
                       id.find_first_not_of("0123456789abcdef") == std::string::npos;
    uint64_t epoch = 0;
    bool num_ok = bytes.size() >= 2 && bytes.size() <= 11 && bytes.back() == '\n' && bytes[0] != '0';
    for (size_t i = 0; num_ok && i + 1 < bytes.size(); ++i) {
      if (bytes[i] < '0' || bytes[i] > '9') num_ok = false;
      else epoch = epoch * 10 + static_cast<uint64_t>(bytes[i] - '0');
    }
    if (!id_ok) return Malformed(path, "the name is not KEYID.retired (16 lowercase hex)", "rename or remove it");
    if (!num_ok || epoch == 0 || epoch > UINT32_MAX) {
      return Malformed(path, "the content is not an epoch and a newline", "write the epoch the key is retired from, e.g. 'echo 3 > " + path + "'");
    }
    retired[id] = {static_cast<uint32_t>(epoch), path};
  }
  for (const auto& [id, r] : retired) {
    const TrustedKey* k = set.Find(id);
    if (!k) return Malformed(r.second, "no .pem in the directory has key id " + id, "add the key's .pem, or remove the file");
    TrustedKey copy = *k;
    copy.retired_from = r.first;
    set.Add(copy);
  }
  return set;
}

Status KeepTrustSet(Fs& fs, const std::string& data_dir, const TrustSet& keys) {
  if (keys.empty()) return Status::Ok();
  const std::string dir = JoinPath(data_dir, std::string(kNodeTrustDir));
  Result<FileInfo> info = fs.LStat(dir);
  if (!info.ok() && info.status().code() != Code::kNotFound) return info.status();
  if (!info.ok()) {
    AERO_RETURN_IF_ERROR(fs.MakeDir(dir));
    AERO_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  } else if (!info->is_dir || info->is_symlink) {
    // Its target may be the trust of other nodes too: never widened from here.
    return Status(Code::kUsage, Problem("not a directory", dir, info->is_symlink ? "a symlink" : "not a directory"),
                  "make it a directory of this node's own, holding copies of the trusted keys");
  }
  // What is there, by name: a .retired left without its key by a crash
  // between the two writes below (the retirement goes first) is finished
  // here, not refused.
  AERO_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs.ListDir(dir));
  std::set<std::string> names;
  for (const DirEntry& e : entries) names.insert(e.name);
  Result<TrustSet> own = LoadTrustDir(fs, dir);
  for (const std::string& id : keys.KeyIds()) {
    const TrustedKey* k = keys.Find(id);
    const std::string pem_name = id + std::string(kPublicKeySuffix);
    const std::string retired_name = id + std::string(kRetiredSuffix);
    const TrustedKey* there = own.ok() ? own->Find(id) : nullptr;
    // Never a later retirement over an earlier one it could not read.
    const bool unknown = !own.ok() && names.count(retired_name) > 0;
    const bool retire = k->retired_from && !unknown &&
                        (there == nullptr || !there->retired_from || *there->retired_from > *k->retired_from);
    if (retire) {  // SIG-11 first: a crash now leaves the key untrusted, never trusted when retired
      AERO_RETURN_IF_ERROR(WriteFileAtomically(fs, JoinPath(dir, retired_name),
                                                std::to_string(*k->retired_from) + "\n"));
    }
    if (names.count(pem_name) == 0 && there == nullptr) {  // the key as parsed, never the file's other bytes
      AERO_RETURN_IF_ERROR(WriteFileAtomically(fs, JoinPath(dir, pem_name), k->key.Pem()));
    }
  }
  return Status::Ok();
}

Result<TrustSet> LoadTrustSet(Fs& fs, const std::string& flag_dir, const std::string& data_dir) {
  TrustSet set;
  if (!flag_dir.empty()) {
    Result<TrustSet> flag = LoadTrustDir(fs, flag_dir);
    if (!flag.ok()) {
      if (flag.status().code() == Code::kNotFound) {
        return Status(Code::kUsage, Problem("trust directory not found", flag_dir, "no such directory"),
                      "give the directory that holds the trusted public keys (*.pem)");
      }
      return flag.status();
    }
    if (flag->empty()) {
      return Status(Code::kUsage, Problem("no trusted keys", flag_dir, "no *.pem file"),
                    "put the writers' public keys there ('openssl pkey -in KEY.pem -pubout')");
    }
    set.Merge(*flag);
  }
  if (!data_dir.empty()) {
    Result<TrustSet> own = LoadTrustDir(fs, JoinPath(data_dir, std::string(kNodeTrustDir)));
    if (own.ok()) set.Merge(*own);
    else if (own.status().code() != Code::kNotFound) return own.status();
  }
  return set;
}

}  // namespace aero::sign
