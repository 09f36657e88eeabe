// Ed25519 over OpenSSL 3 EVP (SIG-1, SIG-3, SIG-12).
#include "sign/ed25519.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/fs.h"
#include "common/sha256.h"
#include "sign/signature_format.h"

namespace aero::sign {

struct KeyHandle {
  EVP_PKEY* pkey = nullptr;
  ~KeyHandle() { EVP_PKEY_free(pkey); }
};

namespace {

std::shared_ptr<KeyHandle> Wrap(EVP_PKEY* p) {
  auto h = std::make_shared<KeyHandle>();
  h->pkey = p;
  return h;
}

bool IsEd25519(EVP_PKEY* p) { return p && EVP_PKEY_get_id(p) == EVP_PKEY_ED25519; }

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

std::string DerOf(EVP_PKEY* p) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(p, &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string KeyIdOf(EVP_PKEY* p) {
  return ToHex(Sha256::Of(DerOf(p))).substr(0, kKeyIdHexDigits);
}

}  // namespace

Result<PublicKey> PublicKey::FromPem(std::string_view pem, const std::string& subject) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Status(Code::kIo, Problem("out of memory reading key", subject));
  EVP_PKEY* p = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) {
    return Status(Code::kUsage, Problem("not a public key", subject, "no PEM PUBLIC KEY block"),
                  "give a public key as 'openssl pkey -in KEY.pem -pubout' writes it");
  }
  if (!IsEd25519(p)) {
    EVP_PKEY_free(p);
    return Status(Code::kUsage, Problem("not an Ed25519 key", subject),
                  "make keys with 'openssl genpkey -algorithm ed25519'");
  }
  PublicKey k;
  k.key_ = Wrap(p);
  k.key_id_ = KeyIdOf(p);
  return k;
}

Result<PublicKey> PublicKey::FromRaw(const RawKey& raw) {
  EVP_PKEY* p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (!p) return Status(Code::kUsage, "not an Ed25519 public key");
  PublicKey k;
  k.key_ = Wrap(p);
  k.key_id_ = KeyIdOf(p);
  return k;
}

std::string PublicKey::Der() const { return key_ ? DerOf(key_->pkey) : std::string(); }

std::string PublicKey::Pem() const {
  const std::string der = Der();
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
  b64.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END PUBLIC KEY-----\n";
}

bool PublicKey::Verify(std::string_view message, const Signature& sig) const {
  if (!key_) return false;
  MdCtx md;
  if (!md.ctx) return false;
  // NULL digest: pure Ed25519, one shot (OpenSSL 3 has no streaming Ed25519).
  if (EVP_DigestVerifyInit(md.ctx, nullptr, nullptr, nullptr, key_->pkey) != 1) return false;
  return EVP_DigestVerify(md.ctx, sig.data(), sig.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem, const std::string& subject) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Status(Code::kIo, Problem("out of memory reading key", subject));
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) {
    return Status(Code::kUsage, Problem("not a private key", subject, "no PEM PRIVATE KEY block"),
                  "make one with 'openssl genpkey -algorithm ed25519 -out FILE'");
  }
  if (!IsEd25519(p)) {
    EVP_PKEY_free(p);
    return Status(Code::kUsage, Problem("not an Ed25519 key", subject),
                  "make one with 'openssl genpkey -algorithm ed25519 -out FILE'");
  }
  RawKey pub{};
  size_t n = pub.size();
  if (EVP_PKEY_get_raw_public_key(p, pub.data(), &n) != 1 || n != pub.size()) {
    EVP_PKEY_free(p);
    return Status(Code::kUsage, Problem("not an Ed25519 key", subject));
  }
  AERO_ASSIGN_OR_RETURN(PublicKey pk, PublicKey::FromRaw(pub));
  SigningKey k;
  k.key_ = Wrap(p);
  k.public_ = std::move(pk);
  return k;
}

Result<SigningKey> SigningKey::FromSeed(const RawKey& seed) {
  EVP_PKEY* p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (!p) return Status(Code::kUsage, "not an Ed25519 private key");
  RawKey pub{};
  size_t n = pub.size();
  if (EVP_PKEY_get_raw_public_key(p, pub.data(), &n) != 1) {
    EVP_PKEY_free(p);
    return Status(Code::kInternal, "no public key of an Ed25519 private key");
  }
  AERO_ASSIGN_OR_RETURN(PublicKey pk, PublicKey::FromRaw(pub));
  SigningKey k;
  k.key_ = Wrap(p);
  k.public_ = std::move(pk);
  return k;
}

Result<Signature> SigningKey::Sign(std::string_view message) const {
  MdCtx md;
  Signature sig{};
  size_t len = sig.size();
  if (!md.ctx || EVP_DigestSignInit(md.ctx, nullptr, nullptr, nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(md.ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      len != sig.size()) {
    return Status(Code::kInternal, "Ed25519 signing failed in OpenSSL");
  }
  return sig;
}

Result<SigningKey> LoadSigningKey(const std::string& path) {
  // O_NONBLOCK: a FIFO in the key's place is refused below, never waited on.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    // FM-137, FM-139: only a name that is missing or a link is the key's
    // fault; EACCES, EIO, EMFILE, ENOSPC and the rest are the environment's.
    if (err != ENOENT && err != ENOTDIR && err != ELOOP && err != ENAMETOOLONG) {
      return Status(Code::kIo, Problem("cannot read signing key", path, std::strerror(err)), IoHint(err));
    }
    return Status(err == ELOOP || err == ENAMETOOLONG ? Code::kUsage : Code::kNotFound,
                  Problem("cannot read signing key", path, std::strerror(err)),
                  "give the private key file made by 'openssl genpkey -algorithm ed25519'");
  }
  struct stat st {};
  std::string pem;
  Status s;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    s = Status(Code::kIo, Problem("cannot stat signing key", path, std::strerror(err)), IoHint(err));
  } else if (!S_ISREG(st.st_mode)) {
    s = Status(Code::kUsage, Problem("signing key is not a regular file", path),
               "give the private key file made by 'openssl genpkey -algorithm ed25519'");
  } else if ((st.st_mode & 077) != 0) {  // SIG-12
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    s = Status(Code::kUsage,
               Problem("unprotected signing key", path,
                       std::string("mode ") + mode + ": readable or writable by group or others"),
               "chmod 600 " + path);
  } else if (st.st_size > 64 * 1024) {
    s = Status(Code::kUsage, Problem("not a private key", path, "larger than 64 KiB"));
  } else {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        s = Status(Code::kIo, Problem("cannot read signing key", path, std::strerror(err)), IoHint(err));
        break;
      }
      if (n == 0) break;
      pem.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!s.ok()) return s;
  Result<SigningKey> k = SigningKey::FromPem(pem, path);
  OPENSSL_cleanse(pem.data(), pem.size());
  return k;
}

}  // namespace aero::sign
