// AWS Signature Version 4 (specs/REPLICATION_OBJECT_STORE.md OBJ-4), over
// OpenSSL's HMAC-SHA256: the canonical request, the string to sign, the
// derived key and the Authorization header. No I/O; checked byte for byte
// against botocore's signatures (tests/s3/sigv4_test.cc).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aero::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none
};

struct SignInput {
  std::string method;  // "GET", "PUT", ...
  std::string host;    // as sent in the Host header (with ":port" when not default)
  std::string path;    // already URI-encoded, starts with '/'
  // Query parameters, not encoded (the signer encodes and sorts them).
  std::vector<std::pair<std::string, std::string>> query;
  // Extra headers to sign and send (names any case): x-amz-meta-*, if-none-match, range...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256_hex;  // x-amz-content-sha256
  std::string amz_date;            // YYYYMMDDTHHMMSSZ
  std::string region;
  std::string service = "s3";
};

struct Signed {
  // Every header to send, the signed extra ones included, in signing order:
  // name (lower case) and value. Host is in it; curl must not add another.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string canonical_request;  // for tests
  std::string string_to_sign;     // for tests
  std::string authorization;      // the Authorization header's value (a secret: never log it)
};

// RFC 3986 encoding as SigV4 wants it: unreserved A-Za-z0-9-_.~ kept, the
// rest %XX upper-case; '/' kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);
// The query string as sent and signed: encoded, sorted by name then value.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

Signed SignV4(const SignInput& in, const Credentials& creds);

}  // namespace aero::s3
