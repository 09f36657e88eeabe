#include "archive/s3_archive.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <set>
#include <system_error>

#include "common/log.h"
#include "history/history_file.h"
#include "s3/libcurl_loader.h"

namespace aero::archive {
namespace {

constexpr const char* kClaimHeader = "x-amz-meta-aerodb-claim";

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      const long cp = ent.size() > 1 && ent[1] == 'x' ? std::strtol(std::string(ent.substr(2)).c_str(), nullptr, 16)
                                                     : std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10);
      if (cp > 0 && cp < 0x80) out.push_back(static_cast<char>(cp));
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

// Every text of <tag>...</tag> inside `xml`, in order.
std::vector<std::string> XmlAll(std::string_view xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const size_t b = pos + open.size();
    const size_t e = xml.find(close, b);
    if (e == std::string_view::npos) break;
    out.push_back(XmlUnescape(xml.substr(b, e - b)));
    pos = e + close.size();
  }
  return out;
}

std::string XmlFirst(std::string_view xml, const std::string& tag) {
  std::vector<std::string> all = XmlAll(xml, tag);
  return all.empty() ? std::string() : all.front();
}

// Blocks of <tag>...</tag> (raw), to read fields of one entry together.
std::vector<std::string> XmlBlocks(std::string_view xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const size_t e = xml.find(close, pos);
    if (e == std::string_view::npos) break;
    out.emplace_back(xml.substr(pos + open.size(), e - pos - open.size()));
    pos = e + close.size();
  }
  return out;
}

bool IsClaimName(const std::string& name) {
  return name == history::kClaimArchiveMarker || history::ParseHistoryFileName(name).has_value();
}

// OBJ-9: a ranged, streaming reader of one object version (its ETag).
// Ranges of range_ bytes. A read that continues the previous read of the
// current range starts the read-ahead of the next range on a worker, so that
// the store sends it while the reader works on this one: at most two ranges
// are in memory. A read of the object's last kS3TailBytes (a trailer, a
// final chunk; min(kS3TailBytes, range_)) is kept in a range of its own and
// leaves the current one in place, so that a header, a trailer and then the body fetch each
// byte once.
constexpr uint64_t kS3TailBytes = 256 * 1024;

class S3ReadableFile final : public PositionalReadableFile {
 public:
  S3ReadableFile(s3::S3Client& c, std::string key, uint64_t size, std::string etag)
      : c_(c), key_(std::move(key)), path_(c.Url(key_)), size_(size), etag_(std::move(etag)),
        range_(c.config().range_bytes), read_ahead_(c.config().read_ahead) {}
  ~S3ReadableFile() override { DropReadAhead(); }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= size_ || n == 0) return size_t{0};
    S3Range* r = main_.Holds(offset) ? &main_ : tail_.Holds(offset) ? &tail_ : nullptr;
    if (r == nullptr) {
      AERO_ASSIGN_OR_RETURN(r, Load(offset));
    }
    const size_t take = std::min<uint64_t>(n, r->start + r->bytes.size() - offset);
    std::memcpy(buf, r->bytes.data() + (offset - r->start), take);
    if (r == &main_) {
      const bool continues = offset == main_next_;
      main_next_ = offset + take;
      if (continues) StartReadAhead();
    }
    return take;
  }
  Result<uint64_t> Size() override { return size_; }
  Result<FileInfo> Info() override {
    FileInfo i;
    i.is_regular = true;
    i.size = size_;
    i.inode = std::hash<std::string>()(etag_);
    return i;
  }
  Status Sync() override { return Status(); }
  const std::string& path() const override { return path_; }

 private:
  struct S3Range {
    uint64_t start = 0;
    std::string bytes;
    bool Holds(uint64_t offset) const { return offset >= start && offset - start < bytes.size(); }
  };

  // The range at `offset`: the read-ahead when it starts there, the tail,
  // or a new current range (the read-ahead of elsewhere dropped first: two
  // ranges at most).
  Result<S3Range*> Load(uint64_t offset) {
    if (ahead_.valid() && ahead_start_ == offset) {
      Result<std::string> got = ahead_.get();
      main_.bytes.clear();
      if (!got.ok()) return got.status();
      main_ = {offset, std::move(got).value()};
      return &main_;
    }
    const uint64_t tail = std::min(kS3TailBytes, range_);
    if (size_ > range_ && size_ - offset <= tail) {
      const uint64_t from = size_ - tail;
      tail_.bytes.clear();
      AERO_ASSIGN_OR_RETURN(std::string got, Fetch(from, size_));
      tail_ = {from, std::move(got)};
      return &tail_;
    }
    DropReadAhead();
    main_.bytes.clear();
    main_.bytes.shrink_to_fit();  // OBJ-9: never a third range
    main_next_ = UINT64_MAX;
    AERO_ASSIGN_OR_RETURN(std::string got, Fetch(offset, std::min<uint64_t>(size_, offset + range_)));
    main_ = {offset, std::move(got)};
    return &main_;
  }

  void StartReadAhead() {
    const uint64_t from = main_.start + main_.bytes.size();
    uint64_t to = std::min<uint64_t>(size_, from + range_);
    if (!tail_.bytes.empty() && tail_.start < to) to = std::max(from, tail_.start);  // the tail is here already
    if (!read_ahead_ || ahead_.valid() || from >= to) return;
    try {
      ahead_ = std::async(std::launch::async, [this, from, to] { return Fetch(from, to); });
    } catch (const std::system_error&) {
      return;  // no thread for it: no read-ahead, the reader fetches the range itself
    }
    ahead_start_ = from;
  }
  void DropReadAhead() {
    if (ahead_.valid()) (void)ahead_.get();
  }

  // OBJ-9: one ranged GET of bytes [from, to), of this ETag only. Called by
  // the reader and by the read-ahead worker (S3Client serializes them).
  Result<std::string> Fetch(uint64_t from, uint64_t to) const {
    s3::S3Request r;
    r.method = "GET";
    r.key = key_;
    r.headers = {{"range", "bytes=" + std::to_string(from) + "-" + std::to_string(to - 1)}, {"if-match", etag_}};
    r.expect_body = to - from;
    AERO_ASSIGN_OR_RETURN(s3::S3Response resp, c_.Perform(r));
    if (resp.status == 412 || resp.status == 404) {
      return Status(Code::kIo, Problem("object changed while read", path_, c_.Describe(r, resp)),
                    "the object was replaced or removed during the run; run again");
    }
    if (resp.status != 206 && !(resp.status == 200 && from == 0 && to == size_)) {
      return c_.Unexpected(r, resp);
    }
    if (resp.body.size() != to - from) {
      return Status(Code::kIo, Problem("short read", path_, "a ranged GET gave " + std::to_string(resp.body.size()) +
                                                              " bytes, asked " + std::to_string(to - from)),
                    "run again");
    }
    return std::move(resp.body);
  }

  s3::S3Client& c_;
  const std::string key_;
  const std::string path_;
  const uint64_t size_;
  const std::string etag_;
  const uint64_t range_;
  const bool read_ahead_;
  S3Range main_, tail_;
  uint64_t main_next_ = UINT64_MAX;  // where the last read of main_ ended
  std::future<Result<std::string>> ahead_;
  uint64_t ahead_start_ = 0;
};

}  // namespace

S3Archive::S3Archive(Fs& fs, s3::S3Url url, std::unique_ptr<s3::S3Client> client, std::string staging)
    : fs_(fs), url_(std::move(url)), client_(std::move(client)), staging_(std::move(staging)),
      location_(url_.Location()) {}

Result<std::unique_ptr<S3Archive>> S3Archive::Open(Fs& fs, const s3::S3Url& url, s3::S3Config config) {
  AERO_RETURN_IF_ERROR(s3::LoadLibcurl().status());  // loaded on first use, not at process start
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/aerodb-s3-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return Status(Code::kIo, Problem("cannot make a staging directory", dir, std::strerror(errno)),
                  "set TMPDIR to a writable directory");
  }
  auto client = std::make_unique<s3::S3Client>(std::move(config), url.bucket);
  return std::unique_ptr<S3Archive>(new S3Archive(fs, url, std::move(client), dir));
}

S3Archive::~S3Archive() {
  Result<std::vector<DirEntry>> left = fs_.ListDir(staging_);
  if (left.ok()) {
    for (const DirEntry& e : *left) (void)fs_.Remove(JoinPath(staging_, e.name));
  }
  (void)rmdir(staging_.c_str());
}

// OBJ-10: ListObjectsV2 page after page; names once each, sorted.
// LOG-2: AWS's own endpoint (none given) keeps the URL alone.
std::string S3Archive::KeySource() const {
  std::string endpoint = client_->config().endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();  // one store, one key
  return endpoint.empty() ? location_ : endpoint + " " + location_;
}

Result<std::vector<ArchiveEntry>> S3Archive::List() {
  const std::string prefix = url_.prefix.empty() ? "" : url_.prefix + "/";
  std::set<std::string> files, dirs, tokens;
  std::string token;
  for (int page = 0;; ++page) {
    s3::S3Request r;
    r.method = "GET";
    r.query = {{"list-type", "2"}, {"delimiter", "/"}, {"prefix", prefix}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
    if (resp.status == 404 && resp.ErrorCode() == "NoSuchBucket") {
      return Status(Code::kNotFound, Problem("no such bucket", location_, client_->Describe(r, resp)),
                    "create the bucket, or check the location");
    }
    if (resp.status != 200) return client_->Unexpected(r, resp);
    // A 200 that is not a listing (a web server or a console behind the
    // endpoint) is no answer: never an empty archive (OBJ-12).
    if (resp.body.find("<ListBucketResult") == std::string::npos) {
      return Status(Code::kIo,
                    Problem("object store error", location_, "the answer to a listing is not an S3 ListBucketResult"),
                    "check the endpoint: it must be the store's S3 API (not a web console or a proxy's page)");
    }
    for (const std::string& block : XmlBlocks(resp.body, "Contents")) {
      const std::string key = XmlFirst(block, "Key");
      if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) files.insert(key.substr(prefix.size()));
    }
    for (const std::string& block : XmlBlocks(resp.body, "CommonPrefixes")) {
      std::string p = XmlFirst(block, "Prefix");
      if (p.size() > prefix.size() + 1 && p.compare(0, prefix.size(), prefix) == 0) {
        dirs.insert(p.substr(prefix.size(), p.size() - prefix.size() - 1));
      }
    }
    const std::string truncated = XmlFirst(resp.body, "IsTruncated");
    const std::string next = XmlFirst(resp.body, "NextContinuationToken");
    if (truncated != "true") break;
    if (next.empty() || !tokens.insert(next).second) {  // a token seen before: the store loops
      return Status(Code::kIo, Problem("object store error", location_, "a truncated listing without a new continuation token"),
                    "check the store");
    }
    token = next;
  }
  std::vector<ArchiveEntry> out;
  for (const std::string& n : files) out.push_back({n, ArchiveEntry::Type::kFile});
  for (const std::string& n : dirs) {
    if (!files.count(n)) out.push_back({n, ArchiveEntry::Type::kDirectory});
  }
  std::sort(out.begin(), out.end(), [](const ArchiveEntry& a, const ArchiveEntry& b) { return a.name < b.name; });
  return out;
}

// OBJ-9: HEAD for the size and the ETag, then a ranged reader.
Result<std::unique_ptr<ReadableFile>> S3Archive::OpenRead(const std::string& name) {
  s3::S3Request r;
  r.method = "HEAD";
  r.key = url_.Key(name);
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status == 404) return Status(Code::kNotFound, Problem("not found", PathOf(name), "no such object"));
  if (resp.status != 200) return client_->Unexpected(r, resp);
  const uint64_t size = std::strtoull(resp.Header("content-length").c_str(), nullptr, 10);
  // ENC-32: the object as the command's Fs shows a file (an envelope's
  // plaintext through a DecryptingFs).
  return fs_.View(std::unique_ptr<ReadableFile>(new S3ReadableFile(*client_, r.key, size, resp.Header("etag"))));
}

Result<uint64_t> S3Archive::LocalSize(const std::string& path) {
  AERO_ASSIGN_OR_RETURN(FileInfo info, fs_.Stat(path));
  return info.size;
}

Result<bool> S3Archive::Exists(const std::string& key) {
  s3::S3Request r;
  r.method = "HEAD";
  r.key = key;
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status == 404) return false;
  if (resp.status == 200) return true;
  return client_->Unexpected(r, resp);
}

// OBJ-7: PUT a hidden probe name twice with If-None-Match: *; the second
// must be refused (412). Once per archive object (one run).
Result<bool> S3Archive::HonoursConditionalCreate() {
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (conditional_ok_) return *conditional_ok_;
  const std::string key = url_.Key(".aerodb-probe-" + s3::RandomToken());
  s3::S3Request r;
  r.method = "PUT";
  r.key = key;
  r.body = "aerodb conditional-create probe\n";
  r.headers = {{"if-none-match", "*"}};
  AERO_ASSIGN_OR_RETURN(s3::S3Response first, client_->Perform(r));
  if (first.status != 200) return client_->Unexpected(r, first);
  AERO_ASSIGN_OR_RETURN(s3::S3Response second, client_->Perform(r));
  bool ok = second.status == 412;
  if (!ok && second.status != 200) return client_->Unexpected(r, second);
  s3::S3Request d;
  d.method = "DELETE";
  d.key = key;
  (void)client_->Perform(d);
  if (!ok) {
    log::Lib().warn("store ignores If-None-Match '{}': a second conditional create of a probe name "
                    "succeeded; epoch claims are refused there", location_);
  }
  conditional_ok_ = ok;
  return ok;
}

// OBJ-5: one conditional PUT with a fresh claim token; a 412 after an
// attempt whose outcome is unknown is ours when the stored token is.
Status S3Archive::PutExclusive(const std::string& temp_path, uint64_t size, const std::string& key, bool conditional) {
  const std::string token = s3::RandomToken();
  s3::S3Request r;
  r.method = "PUT";
  r.key = key;
  r.file_path = temp_path;
  r.file_length = size;
  r.headers = {{kClaimHeader, token}};
  if (conditional) r.headers.emplace_back("if-none-match", "*");
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status == 200) return Status();
  if (resp.status == 412) {
    if (resp.earlier_attempt_uncertain) {
      s3::S3Request h;
      h.method = "HEAD";
      h.key = key;
      AERO_ASSIGN_OR_RETURN(s3::S3Response there, client_->Perform(h));
      if (there.status == 200 && there.Header(kClaimHeader) == token) return Status();  // our own first write
    }
    return Status(Code::kRefused, Problem("exists", client_->Url(key), "an object of that name is there already"));
  }
  return client_->Unexpected(r, resp);
}

// OBJ-8: a multipart upload streamed part by part, completed only when the
// name is still absent; aborted on any failure.
Status S3Archive::PutMultipart(const std::string& temp_path, uint64_t size, const std::string& key) {
  s3::S3Request init;
  init.method = "POST";
  init.key = key;
  init.query = {{"uploads", ""}};
  init.headers = {{kClaimHeader, s3::RandomToken()}};
  AERO_ASSIGN_OR_RETURN(s3::S3Response started, client_->Perform(init));
  if (started.status != 200) return client_->Unexpected(init, started);
  const std::string upload_id = XmlFirst(started.body, "UploadId");
  if (upload_id.empty()) return client_->Unexpected(init, started);
  auto abort = [&](Status s) {
    (void)AbortUpload(key, upload_id);
    return s;
  };
  const uint64_t part = client_->config().part_bytes;
  std::string complete = "<CompleteMultipartUpload>";
  int number = 0;
  for (uint64_t off = 0; off < size || number == 0; off += part) {
    ++number;
    s3::S3Request p;
    p.method = "PUT";
    p.key = key;
    p.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
    p.file_path = temp_path;
    p.file_offset = off;
    p.file_length = std::min(part, size - off);
    Result<s3::S3Response> put = client_->Perform(p);
    if (!put.ok()) return abort(put.status());
    if (put->status != 200) return abort(client_->Unexpected(p, *put));
    complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + put->Header("etag") +
                "</ETag></Part>";
    if (size == 0) break;
  }
  complete += "</CompleteMultipartUpload>";
  Result<bool> there = Exists(key);
  if (!there.ok()) return abort(there.status());
  if (*there) {
    return abort(Status(Code::kRefused, Problem("exists", client_->Url(key), "an object of that name is there already")));
  }
  s3::S3Request done;
  done.method = "POST";
  done.key = key;
  done.query = {{"uploadId", upload_id}};
  done.body = complete;
  Result<s3::S3Response> fin = client_->Perform(done);
  if (!fin.ok()) return abort(fin.status());
  // A 200 may still carry an error in its body (S3's CompleteMultipartUpload).
  if (fin->status != 200 || fin->body.find("<Error>") != std::string::npos) {
    return abort(client_->Unexpected(done, *fin));
  }
  return Status();
}

// OBJ-7: an epoch claim on a store that would let a second one overwrite it.
Status S3Archive::ClaimsAllowed() {
  AERO_ASSIGN_OR_RETURN(bool conditional, HonoursConditionalCreate());
  if (conditional) return Status::Ok();
  return Status(Code::kRefused,
                Problem("store ignores If-None-Match", location_,
                        "a conditional create of a probe name was not refused the second time, so an epoch "
                        "claim there could be overwritten by another node's"),
                "keep history files and claims in a store that honours conditional writes (AWS S3, Ceph RGW, MinIO)");
}

Status S3Archive::PublishExclusive(const std::string& temp_path, const std::string& name) {
  AERO_ASSIGN_OR_RETURN(bool conditional, HonoursConditionalCreate());
  if (!conditional && IsClaimName(name)) return ClaimsAllowed();
  AERO_ASSIGN_OR_RETURN(uint64_t size, LocalSize(temp_path));
  const std::string key = url_.Key(name);
  Status s;
  // OBJ-7: a claim (a history file, the claim marker) is one conditional
  // PUT whatever its size: a multipart upload is not exclusive.
  if (size > client_->config().multipart_threshold && !IsClaimName(name)) {
    s = PutMultipart(temp_path, size, key);
  } else {
    if (!conditional) {
      AERO_ASSIGN_OR_RETURN(bool there, Exists(key));
      if (there) return Status(Code::kRefused, Problem("exists", PathOf(name), "an object of that name is there already"));
    }
    s = PutExclusive(temp_path, size, key, conditional);
  }
  if (s.ok()) (void)fs_.Remove(temp_path);  // OBJ-11: the staging copy is consumed, as a rename would
  return s;
}

// OBJ-11: an unconditional PUT.
Status S3Archive::Replace(const std::string& temp_path, const std::string& name) {
  AERO_ASSIGN_OR_RETURN(uint64_t size, LocalSize(temp_path));
  s3::S3Request r;
  r.method = "PUT";
  r.key = url_.Key(name);
  r.file_path = temp_path;
  r.file_length = size;
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status != 200) return client_->Unexpected(r, resp);
  (void)fs_.Remove(temp_path);
  return Status();
}

// OBJ-11: HEAD (absent: kNotFound), then DELETE.
Status S3Archive::Remove(const std::string& name) {
  const std::string key = url_.Key(name);
  AERO_ASSIGN_OR_RETURN(bool there, Exists(key));
  if (!there) return Status(Code::kNotFound, Problem("not found", PathOf(name), "no such object"));
  s3::S3Request r;
  r.method = "DELETE";
  r.key = key;
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status != 204 && resp.status != 200) return client_->Unexpected(r, resp);
  return Status();
}

Result<std::vector<std::pair<std::string, std::string>>> S3Archive::ListUploads() {
  std::vector<std::pair<std::string, std::string>> out;
  s3::S3Request r;
  r.method = "GET";
  r.query = {{"uploads", ""}, {"prefix", url_.prefix.empty() ? "" : url_.prefix + "/"}};
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status != 200) return client_->Unexpected(r, resp);
  for (const std::string& block : XmlBlocks(resp.body, "Upload")) {
    out.emplace_back(XmlFirst(block, "Key"), XmlFirst(block, "UploadId"));
  }
  return out;
}

// OBJ-14: ListMultipartUploads, paginated by key and upload-id marker.
Result<S3Archive::UploadListing> S3Archive::ListUploadsDated() {
  UploadListing out;
  std::string key_marker, id_marker;
  for (int page = 0; page < 100000; ++page) {
    s3::S3Request r;
    r.method = "GET";
    r.query = {{"uploads", ""}, {"prefix", url_.prefix.empty() ? "" : url_.prefix + "/"}};
    if (!key_marker.empty()) r.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) r.query.emplace_back("upload-id-marker", id_marker);
    AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
    if (resp.status != 200) return client_->Unexpected(r, resp);
    out.date = resp.Header("date");
    for (const std::string& block : XmlBlocks(resp.body, "Upload")) {
      out.uploads.push_back({XmlFirst(block, "Key"), XmlFirst(block, "UploadId"), XmlFirst(block, "Initiated")});
    }
    if (XmlFirst(resp.body, "IsTruncated") != "true") break;
    const std::string next_key = XmlFirst(resp.body, "NextKeyMarker");
    const std::string next_id = XmlFirst(resp.body, "NextUploadIdMarker");
    if (next_key.empty() || (next_key == key_marker && next_id == id_marker)) break;  // no progress: stop
    key_marker = next_key;
    id_marker = next_id;
  }
  return out;
}

Status S3Archive::AbortUpload(const std::string& key, const std::string& upload_id) {
  s3::S3Request r;
  r.method = "DELETE";
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  AERO_ASSIGN_OR_RETURN(s3::S3Response resp, client_->Perform(r));
  if (resp.status != 204 && resp.status != 200 && resp.status != 404) return client_->Unexpected(r, resp);
  return Status();
}

}  // namespace aero::archive
