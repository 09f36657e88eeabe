// One S3 endpoint over libcurl: signs each request (OBJ-4), retries what may
// succeed on a second try (OBJ-6), and describes failures without secrets
// (OBJ-3). Thread-safe: requests are serialized on one connection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "s3/s3_config.h"

namespace aero::s3 {

struct S3Request {
  std::string method = "GET";
  std::string key;  // object key; empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed and sent
  // The body: `body`, or bytes [file_offset, file_offset + file_length) of
  // the local file `file_path` (streamed, read again on a retry).
  std::string body;
  std::string file_path;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  std::string payload_sha256_hex;  // empty: computed from the body
  size_t expect_body = 0;          // bytes to reserve for the answer's body (a ranged GET)
};

struct S3Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case
  // An attempt before the last one may have taken effect (its answer was
  // lost, or was a 5xx): OBJ-5 resolves a 412 then by the claim token.
  bool earlier_attempt_uncertain = false;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string ErrorCode() const;  // <Code> of an S3 error body, or ""
};

struct CurlApi;  // s3/libcurl_loader.h

class S3Client {
 public:
  S3Client(S3Config config, std::string bucket);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // OBJ-6: the answer of the first attempt that is not retried; kIo when the
  // last attempt failed in transport or with a retried status.
  Result<S3Response> Perform(const S3Request& req);
  // "s3://BUCKET/KEY" for messages.
  std::string Url(const std::string& key) const { return "s3://" + bucket_ + (key.empty() ? "" : "/" + key); }
  // OBJ-3: "METHOD s3://BUCKET/KEY: HTTP STATUS CODE" (no header, no secret).
  std::string Describe(const S3Request& req, const S3Response& resp) const;
  // kIo with a hint for an answer the caller did not expect.
  Status Unexpected(const S3Request& req, const S3Response& resp) const;
  const S3Config& config() const { return config_; }

 private:
  struct Attempt;
  Result<S3Response> Once(const S3Request& req, const std::string& payload_hash, std::string* transport_error);

  S3Config config_;
  std::string bucket_;
  std::string base_url_;  // scheme://host[:port]
  std::string host_;      // Host header
  std::string path_base_; // "/BUCKET" (path style) or ""
  std::mutex mu_;
  const CurlApi* api_ = nullptr;  // libcurl, loaded on first use (s3/libcurl_loader.h)
  void* curl_ = nullptr;  // CURL*
};

// 32 random hex characters (common/random.h): a claim token, a probe name.
std::string RandomToken();

}  // namespace aero::s3
