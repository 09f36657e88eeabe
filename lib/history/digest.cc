#include "history/digest.h"

namespace aero::history {

Digest SeedDigest(const SystemId& id) {
  Sha256 sha;
  sha.Update(kDigestSeedLabel);
  sha.Update(id.bytes.data(), id.bytes.size());
  return sha.Finish();
}

Digest EnrolledBaseDigest(const SystemId& id, uint64_t base_commit, const Digest& storage_sha256) {
  static_assert(kEnrolSeedLabel.size() == 20);
  Sha256 sha;
  sha.Update(kEnrolSeedLabel);
  sha.Update(id.bytes.data(), id.bytes.size());
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>((base_commit >> (8 * i)) & 0xff);
  sha.Update(std::string_view(le, sizeof le));
  sha.Update(storage_sha256.data(), storage_sha256.size());
  return sha.Finish();
}

void DigestChain::Begin(const Digest& previous) {
  sha_.Reset();
  sha_.Update(previous.data(), previous.size());
}

std::string DigestToHex(const Digest& d) { return ToHex(d); }

Result<Digest> ParseDigest(std::string_view hex) {
  Digest d{};
  if (!FromHex(hex, d.data(), d.size())) {
    return Status(Code::kDamage,
                  Problem("invalid history digest", hex, "expected 64 lowercase hexadecimal digits"));
  }
  return d;
}

}  // namespace aero::history
