#include "crypto/key_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "common/sha256.h"

namespace aero::crypto {

MasterKey::~MasterKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

KeyId KeyIdOf(const std::array<uint8_t, kKeyBytes>& key) {  // ENC-2
  Sha256 h;
  h.Update(kKeyIdLabel);
  h.Update(key.data(), key.size());
  Sha256Digest d = h.Finish();
  KeyId id{};
  std::memcpy(id.data(), d.data(), id.size());
  return id;
}

std::string KeyIdHex(const KeyId& id) { return ToHex(id); }

Result<MasterKey> LoadKeyFile(const std::string& path) {
  // ENC-10: the operator's file, a symlink followed (secret volumes); a FIFO
  // is opened without waiting for a writer, then refused as not regular.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status(Code::kNotFound, Problem("no key file", path, std::strerror(err)),
                    "give the path of a 32-byte key file");
    }
    return Status(Code::kIo, Problem("cannot open key file", path, std::strerror(err)),
                  IoHint(err));
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {  // FM-139: a fault, never "not a key file" (its hint overwrites the key)
    const int err = errno;
    ::close(fd);
    return Status(Code::kIo, Problem("cannot stat key file", path, std::strerror(err)), IoHint(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Code::kUsage, Problem("not a key file", path, "not a regular file"),
                  "a key file holds 32 random bytes: head -c 32 /dev/urandom > FILE");
  }
  if ((st.st_mode & 077) != 0) {  // ENC-10
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status(Code::kRefused,
                  Problem("key file readable by others", path, std::string("mode ") + mode),
                  "chmod 600 '" + path + "'");
  }
  if (st.st_size != static_cast<off_t>(kKeyBytes)) {  // ENC-10
    ::close(fd);
    return Status(Code::kUsage,
                  Problem("not a key file", path,
                          std::to_string(st.st_size) + " bytes, a key file holds exactly 32"),
                  "a key file holds 32 random bytes: head -c 32 /dev/urandom > FILE");
  }
  MasterKey k;
  size_t got = 0;
  while (got < kKeyBytes) {
    const ssize_t n = ::read(fd, k.bytes.data() + got, kKeyBytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      return Status(Code::kIo, Problem("cannot read key file", path, std::strerror(err)),
                    IoHint(err));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  k.id = KeyIdOf(k.bytes);
  k.path = path;
  return k;
}

Result<KeyStore> KeyStore::LoadDir(const std::string& dir) {
  KeyStore ks;
  ks.where_ = dir;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    if (err == ENOENT) {
      return Status(Code::kNotFound, Problem("no key directory", dir, std::strerror(err)),
                    "give the directory holding the *.key files");
    }
    struct stat st {};
    if (err == ENOTDIR && ::stat(dir.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {  // a key file, not its directory
      return Status(Code::kUsage, Problem("not a key directory", dir, "a file, not a directory"),
                    "give the directory holding the *.key files (--encryption-key takes one key file)");
    }
    return Status(Code::kIo, Problem("cannot read key directory", dir, std::strerror(err)),
                  IoHint(err));
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;  // FM-139: NULL with errno set is a failed listing, not its end
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".key") == 0 && name[0] != '.') {
      names.push_back(name);
    }
  }
  const int listed = errno;
  ::closedir(d);
  if (listed != 0) {
    return Status(Code::kIo, Problem("cannot read key directory", dir, std::strerror(listed)), IoHint(listed));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    AERO_ASSIGN_OR_RETURN(MasterKey k, LoadKeyFile(JoinPath(dir, name)));
    ks.Add(k);
  }
  return ks;
}

void KeyStore::Add(const MasterKey& key) {
  if (Find(key.id) == nullptr) keys_.push_back(key);
  if (where_.empty()) where_ = key.path;
}

const MasterKey* KeyStore::Find(const KeyId& id) const {  // ENC-11
  for (const MasterKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

}  // namespace aero::crypto
