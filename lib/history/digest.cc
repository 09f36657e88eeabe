#include "history/digest.h"

namespace aero::history {

Digest SeedDigest(const SystemId& id) {
  Sha256 sha;
  sha.Update(kDigestSeedLabel);
  sha.Update(id.bytes.data(), id.bytes.size());
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
                  Problem("invalid history digest", hex, "expected 64 hexadecimal digits"));
  }
  return d;
}

}  // namespace aero::history
