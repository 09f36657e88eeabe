#include "repl/verify_encrypted.h"

#include "crypto/encrypted_file.h"

namespace aero::repl {

namespace {

std::string Describe(const crypto::Envelope& e) {
  return "key id " + crypto::KeyIdHex(e.header.key_id) + ", " +
         crypto::AlgorithmName(e.header.algorithm) + ", " +
         std::to_string(e.header.plaintext_size) + " plaintext bytes";
}

// Corrupt, in transit or unreadable: one finding. False when valid.
bool NotValid(const crypto::Envelope& e, const std::string& path, std::vector<Finding>* out) {
  switch (e.state) {
    case Verdict::kValid: return false;
    case Verdict::kCorrupt:
      out->push_back(MakeFinding(Severity::kDamage, "corrupt", path,
                          Problem("corrupt encrypted file", path, e.detail),
                          "replace the file from its source"));
      return true;
    case Verdict::kInTransit:
      out->push_back(MakeFinding(Severity::kInTransit, "in-transit", path,
                          Problem("encrypted file in transit", path, e.detail),
                          "re-run once the transfer has finished"));
      return true;
    case Verdict::kIoError:
      if (e.io.code() == Code::kRefused) {  // ENC-11: a key directory without the file's key, as apply-wal
        out->push_back(MakeFinding(Severity::kForeign, "no-key", path, e.io.message(), e.io.hint()));
        return true;
      }
      out->push_back(MakeFinding(Severity::kIo, "unreadable", path, e.io.message(), e.io.hint()));
      return true;
  }
  return false;
}

Finding NotChecked(const crypto::Envelope& e, const std::string& path) {  // ENC-9
  return MakeFinding(Severity::kNotice, "not-checked", path,
              Problem("encrypted file not checked", path,
                      Describe(e) +
                          ": framing valid; not checked: the chunks' tags and the plaintext's "
                          "own format (no key with this key id)"),
              "give --encryption-keys DIR holding that key to check everything");
}

}  // namespace

bool VerifyEnvelope(ReadableFile& file, const std::string& path, std::vector<Finding>* out) {
  std::optional<crypto::Envelope> e = crypto::CheckWhole(file);
  if (!e) return false;
  if (NotValid(*e, path, out)) return true;
  if (!e->key_known) {
    out->push_back(NotChecked(*e, path));  // ENC-9: framing only
    return true;
  }
  out->push_back(MakeFinding(Severity::kNotice, "encrypted", path,
                      Problem("encrypted file", path,
                              Describe(*e) + ": every chunk verified")));
  return false;
}

bool EnvelopeFinding(ReadableFile& file, const std::string& path, std::vector<Finding>* out,
                     std::string* state) {
  const crypto::Envelope* e = crypto::EnvelopeOf(file);
  if (e == nullptr) return false;
  if (e->state == Verdict::kIoError && e->io.code() == Code::kRefused && !e->key_known && !e->keys_given) {
    out->push_back(NotChecked(*e, path));
    *state = "not-checked";
    return true;
  }
  if (!NotValid(*e, path, out)) return false;
  *state = VerdictName(e->state);
  return true;
}

}  // namespace aero::repl
