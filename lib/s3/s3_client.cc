#include "s3/s3_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/random.h"
#include "common/sha256.h"
#include "s3/libcurl_loader.h"
#include "s3/s3_clock.h"
#include "s3/sigv4.h"

namespace aero::s3 {
namespace {

std::string LowerHeaderName(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Upload {
  const S3Request* req = nullptr;
  int fd = -1;
  uint64_t sent = 0;
  uint64_t total = 0;
  bool failed = false;
};

size_t ReadBody(char* out, size_t size, size_t nitems, void* userdata) {
  auto* u = static_cast<Upload*>(userdata);
  const uint64_t want = std::min<uint64_t>(size * nitems, u->total - u->sent);
  if (want == 0) return 0;
  if (u->fd < 0) {
    std::memcpy(out, u->req->body.data() + u->sent, want);
    u->sent += want;
    return want;
  }
  const ssize_t n = pread(u->fd, out, want, static_cast<off_t>(u->req->file_offset + u->sent));
  if (n <= 0) {
    u->failed = true;
    return CURL_READFUNC_ABORT;
  }
  u->sent += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

// The answer's body, bounded (OBJ-9): a ranged GET's range plus room for an
// error document, else kMaxAnswerBytes; an endpoint that streams for ever
// (a web server, a proxy) ends the transfer instead of filling memory.
constexpr size_t kMaxAnswerBytes = 16u << 20;
constexpr size_t kErrorRoomBytes = 64u << 10;
struct BodySink {
  std::string* body;
  size_t limit;
  bool over = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<BodySink*>(userdata);
  if (sink->body->size() + size * nmemb > sink->limit) {
    sink->over = true;
    return 0;  // curl ends the transfer
  }
  sink->body->append(data, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* h = static_cast<std::map<std::string, std::string>*>(userdata);
  std::string line(data, size * nitems);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string v = line.substr(colon + 1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    (*h)[LowerHeaderName(line.substr(0, colon))] = v;
  }
  return size * nitems;
}

bool Retried(long status) {
  return status == 409 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

Result<std::string> FileSha256(const S3Request& req) {
  const int fd = open(req.file_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIo, Problem("cannot open", req.file_path, std::strerror(errno)));
  Sha256 h;
  std::string buf(1 << 20, '\0');
  uint64_t done = 0;
  while (done < req.file_length) {
    const ssize_t n = pread(fd, buf.data(), std::min<uint64_t>(buf.size(), req.file_length - done),
                            static_cast<off_t>(req.file_offset + done));
    if (n <= 0) {
      close(fd);
      return Status(Code::kIo, Problem("cannot read", req.file_path, n < 0 ? std::strerror(errno) : "file ended early"));
    }
    h.Update(buf.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  close(fd);
  return ToHex(h.Finish());
}

}  // namespace

std::string RandomToken() {
  uint8_t b[16];
  if (!RandomBytes(b, sizeof b, "an object store token").ok()) std::abort();  // getrandom fails only without a kernel that has it
  return ToHex(b, sizeof b);
}

std::string S3Response::ErrorCode() const {
  const size_t b = body.find("<Code>");
  const size_t e = body.find("</Code>");
  if (b == std::string::npos || e == std::string::npos || e < b) return {};
  return body.substr(b + 6, e - b - 6);
}

S3Client::S3Client(S3Config config, std::string bucket) : config_(std::move(config)), bucket_(std::move(bucket)) {
  Result<const CurlApi*> api = LoadLibcurl();  // S3Archive::Open reports a failure first
  if (api.ok()) {
    api_ = *api;
    curl_ = api_->easy_init();
  }
  std::string ep = config_.endpoint;
  if (ep.empty()) {
    ep = "https://s3." + config_.region + ".amazonaws.com";
    if (!config_.path_style) ep = "https://" + bucket_ + ".s3." + config_.region + ".amazonaws.com";
  } else if (!config_.path_style) {
    const size_t p = ep.find("://");
    if (p != std::string::npos) ep = ep.substr(0, p + 3) + bucket_ + "." + ep.substr(p + 3);
  }
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  base_url_ = ep;
  const size_t p = ep.find("://");
  host_ = p == std::string::npos ? ep : ep.substr(p + 3);
  path_base_ = config_.path_style ? "/" + bucket_ : "";
}

S3Client::~S3Client() {
  if (curl_) api_->easy_cleanup(static_cast<CURL*>(curl_));
}

std::string S3Client::Describe(const S3Request& req, const S3Response& resp) const {
  std::string d = req.method + " " + Url(req.key) + ": HTTP " + std::to_string(resp.status);
  const std::string code = resp.ErrorCode();
  if (!code.empty()) d += " " + code;
  return d;
}

Status S3Client::Unexpected(const S3Request& req, const S3Response& resp) const {
  // OBJ-10: a bucket that does not exist is not found (9) whatever the
  // request that met it (a listing, export's or promote's probe, a GET).
  if (resp.status == 404 && resp.ErrorCode() == "NoSuchBucket") {
    return Status(Code::kNotFound, Problem("no such bucket", Url(""), Describe(req, resp)),
                  "create the bucket, or check the location");
  }
  std::string hint = "check the endpoint, the bucket and the store's health";
  if (resp.status == 403) hint = "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the region and this host's clock";
  if (resp.status == 404) hint = "check that the bucket exists";
  return Status(Code::kIo, Problem("object store error", Url(req.key), Describe(req, resp)), hint);
}

// OBJ-6: retry 409/429/5xx and transport failures, 5 attempts, 50 ms doubling.
Result<S3Response> S3Client::Perform(const S3Request& req) {
  std::string hash = req.payload_sha256_hex;
  if (hash.empty()) {
    if (!req.file_path.empty()) {
      AERO_ASSIGN_OR_RETURN(hash, FileSha256(req));
    } else {
      hash = ToHex(Sha256::Of(req.body));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  bool uncertain = false;
  std::string last;
  int wait = config_.first_wait_ms;
  for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
    if (attempt > 1) {
      WaitBeforeRetry(wait);
      wait *= 2;
    }
    std::string transport_error;
    Result<S3Response> r = Once(req, hash, &transport_error);
    if (!r.ok()) return r.status();
    S3Response resp = std::move(r).value();
    if (!transport_error.empty()) {
      uncertain = true;
      last = req.method + " " + Url(req.key) + ": " + transport_error;
      continue;
    }
    if (Retried(resp.status)) {
      if (resp.status != 409 && resp.status != 429) uncertain = true;
      last = Describe(req, resp);
      continue;
    }
    // OBJ-12: every success on an object (HEAD, GET, PUT) carries its ETag;
    // one without is not the store's answer (a web page behind the
    // endpoint), never an object that exists, an archive that ends early
    // or a write that was taken.
    const bool object = !req.key.empty() && (req.method == "HEAD" || req.method == "GET" || req.method == "PUT");
    if (object && (resp.status == 200 || resp.status == 206) && resp.Header("etag").empty()) {
      return Status(Code::kIo,
                    Problem("object store error", Url(req.key),
                            req.method + " answered " + std::to_string(resp.status) +
                                " without an ETag: not an S3 answer"),
                    "check the endpoint: it must be the store's S3 API (not a web console or a proxy's page)");
    }
    resp.earlier_attempt_uncertain = uncertain;
    return resp;
  }
  return Status(Code::kIo,
                Problem("object store unavailable", Url(req.key),
                        last + " (after " + std::to_string(config_.max_attempts) + " attempts)"),
                "check the endpoint (--s3-endpoint or AERODB_S3_ENDPOINT) and the store's health, then run again");
}

Result<S3Response> S3Client::Once(const S3Request& req, const std::string& payload_hash,
                                  std::string* transport_error) {
  if (curl_ == nullptr) {
    AERO_RETURN_IF_ERROR(LoadLibcurl().status());
    return Status(Code::kIo, Problem("object store unavailable", Url(req.key), "curl_easy_init failed"),
                  "check the system's memory, then run again");
  }
  const CurlApi& api = *api_;
  CURL* c = static_cast<CURL*>(curl_);
  api.easy_reset(c);
  std::string path = path_base_ + "/" + UriEncode(req.key, true);
  if (req.key.empty()) path = path_base_.empty() ? "/" : path_base_;
  SignInput in;
  in.method = req.method;
  in.host = host_;
  in.path = path;
  in.query = req.query;
  in.headers = req.headers;
  in.payload_sha256_hex = payload_hash;
  in.amz_date = AmzDateNow();
  in.region = config_.region;
  const Signed s = SignV4(in, config_.creds);
  const std::string q = CanonicalQuery(req.query);
  const std::string url = base_url_ + path + (q.empty() ? "" : "?" + q);

  curl_slist* hl = nullptr;
  for (const auto& [k, v] : s.headers) hl = api.slist_append(hl, (k + ": " + v).c_str());
  hl = api.slist_append(hl, ("Authorization: " + s.authorization).c_str());
  hl = api.slist_append(hl, "Expect:");
  hl = api.slist_append(hl, "Content-Type:");
  hl = api.slist_append(hl, "Accept:");

  S3Response resp;
  resp.body.reserve(req.expect_body);
  Upload up;
  up.req = &req;
  const bool has_file = !req.file_path.empty();
  up.total = has_file ? req.file_length : req.body.size();
  if (has_file) {
    up.fd = open(req.file_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (up.fd < 0) {
      api.slist_free_all(hl);
      return Status(Code::kIo, Problem("cannot open", req.file_path, std::strerror(errno)));
    }
  }
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // OBJ-6: 30 s without a byte is a transport failure
  api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
  BodySink sink{&resp.body, req.expect_body > 0 ? req.expect_body + kErrorRoomBytes : kMaxAnswerBytes};
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
  if (req.method == "PUT") {
    api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
    api.easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    api.easy_setopt(c, CURLOPT_READDATA, &up);
    api.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(up.total));
  } else if (req.method == "POST") {
    api.easy_setopt(c, CURLOPT_POST, 1L);
    api.easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    api.easy_setopt(c, CURLOPT_READDATA, &up);
    api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(up.total));
  } else if (req.method == "HEAD") {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  const CURLcode rc = api.easy_perform(c);
  api.slist_free_all(hl);
  if (up.fd >= 0) close(up.fd);
  if (up.failed) return Status(Code::kIo, Problem("cannot read", req.file_path, "the file changed while it was sent"));
  if (sink.over) {
    return Status(Code::kIo,
                  Problem("object store error", base_url_ + path,
                          "its answer is over " + std::to_string(sink.limit) + " bytes: not an S3 answer"),
                  "check the endpoint: it must be the store's S3 API (not a web console or a proxy's page)");
  }
  if (rc != CURLE_OK) {
    *transport_error = api.easy_strerror(rc);
    return resp;
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

}  // namespace aero::s3
