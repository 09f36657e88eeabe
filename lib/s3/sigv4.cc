#include "s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "common/sha256.h"

namespace aero::s3 {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string HexSha256(std::string_view s) { return ToHex(Sha256::Of(s)); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());  // OBJ-4: sorted by encoded name (then value)
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

// OBJ-4: the canonical request, string to sign and signature of SigV4.
Signed SignV4(const SignInput& in, const Credentials& creds) {
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back("host", in.host);
  h.emplace_back("x-amz-content-sha256", in.payload_sha256_hex);
  h.emplace_back("x-amz-date", in.amz_date);
  if (!creds.session_token.empty()) h.emplace_back("x-amz-security-token", creds.session_token);
  for (const auto& [k, v] : in.headers) h.emplace_back(Lower(k), Trim(v));
  std::sort(h.begin(), h.end());

  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : h) {
    canonical_headers += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += k;
  }
  Signed out;
  out.canonical_request = in.method + "\n" + in.path + "\n" + CanonicalQuery(in.query) + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + in.payload_sha256_hex;
  const std::string day = in.amz_date.substr(0, 8);
  const std::string scope = day + "/" + in.region + "/" + in.service + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + scope + "\n" + HexSha256(out.canonical_request);
  std::string k = Hmac("AWS4" + creds.secret_access_key, day);
  k = Hmac(k, in.region);
  k = Hmac(k, in.service);
  k = Hmac(k, "aws4_request");
  const std::string sig = Hmac(k, out.string_to_sign);
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers +
                      ", Signature=" + ToHex(reinterpret_cast<const uint8_t*>(sig.data()), sig.size());
  out.headers = std::move(h);
  return out;
}

}  // namespace aero::s3
