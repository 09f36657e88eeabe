// The S3 archive (specs/REPLICATION_OBJECT_STORE.md) against the in-repo
// mock (tests/support/s3_mock.py), which checks every signature and payload
// hash and injects the faults a real store will not make on demand.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "archive/open_archive.h"
#include "archive/s3_archive.h"
#include "archive/segment_catalog.h"
#include "node/layout.h"
#include "repl/promote.h"
#include "s3/s3_config.h"
#include "s3/s3_url.h"
#include "support/repl_fixture.h"
#include "support/s3_mock.h"
#include "support/test_util.h"

using namespace aero;
namespace fs = std::filesystem;

namespace {

// Sets environment variables for one scope, and restores them.
class ScopedEnv {
 public:
  void Set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
      else unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::unique_ptr<archive::S3Archive> Open(const s3::S3Config& c, const std::string& loc = "s3://bucket/arch") {
  Result<s3::S3Url> u = s3::ParseS3Url(loc);
  REQUIRE(u.ok());
  auto a = archive::S3Archive::Open(PosixFs(), *u, c);
  REQUIRE(a.ok());
  return std::move(a).value();
}

// Writes `bytes` to the archive's staging path for `name` and returns it.
std::string Stage(archive::Archive& a, const std::string& name, const std::string& bytes) {
  const std::string p = a.TempPath("." + name + ".tmp");
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::string ReadAll(archive::Archive& a, const std::string& name) {
  auto f = a.OpenRead(name);
  REQUIRE(f.ok());
  std::string out;
  char buf[777];
  for (;;) {
    Result<size_t> n = (*f)->Read(buf, sizeof buf);
    REQUIRE(n.ok());
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

#define REQUIRE_MOCK(m)                                                   \
  if (!(m).started()) {                                                   \
    MESSAGE("SKIP: the S3 mock did not start (/usr/bin/python3 absent)"); \
    return;                                                               \
  }

const std::string kSeg = "00000001-0000000000000001-0000000000000009.seg";

}  // namespace

TEST_CASE("OBJ-1 s3 URLs parse, malformed ones are usage errors") {
  auto u = s3::ParseS3Url("s3://my-bucket.1/a/b/");
  REQUIRE(u.ok());
  CHECK(u->bucket == "my-bucket.1");
  CHECK(u->prefix == "a/b");
  CHECK(u->Key("x.seg") == "a/b/x.seg");
  CHECK(u->Location() == "s3://my-bucket.1/a/b");
  auto root = s3::ParseS3Url("s3://bucket");
  REQUIRE(root.ok());
  CHECK(root->Key("x") == "x");
  for (const char* bad : {"s3:/bucket", "s3://", "s3://ab", "s3://Bucket/x", "s3://bucket//x", "s3://bucket/a/../b",
                          "s3://bucket/./b", "s3://b_u/x"}) {
    CAPTURE(bad);
    auto r = s3::ParseS3Url(bad);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message().find(bad) != std::string::npos);
  }
  CHECK(archive::IsObjectStore("s3://bucket/x"));
  CHECK(!archive::IsObjectStore("/srv/archive"));
  auto opened = archive::OpenArchive(PosixFs(), "s3:/bucket");
  REQUIRE(!opened.ok());
  CHECK(opened.status().code() == Code::kUsage);
  CHECK(archive::RefuseObjectStore("s3://bucket/x", "prune").code() == Code::kUsage);
  CHECK(archive::RefuseObjectStore("/srv/x", "prune").ok());
}

TEST_CASE("OBJ-1 an upper-case S3:// names an object store and is 2 with a hint to write s3://") {
  // Before: a local path, and ship-wal wrote to ./S3:/bucket/x.
  for (const char* loc : {"S3://bucket/x", "S3:/bucket", "S3:bucket"}) {
    CAPTURE(loc);
    CHECK(archive::IsObjectStore(loc));
    auto opened = archive::OpenArchive(PosixFs(), loc);
    REQUIRE(!opened.ok());
    CHECK(opened.status().code() == Code::kUsage);
    CHECK(opened.status().message().find("invalid s3 location '" + std::string(loc) + "'") == 0);
    CHECK(opened.status().ToString().find("hint: write s3://BUCKET/PREFIX") != std::string::npos);
  }
  auto r = s3::ParseS3Url("S3://bucket/x");
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("in lower case") != std::string::npos);
  CHECK(archive::RefuseObjectStore("S3://bucket/x", "prune").code() == Code::kUsage);
  CHECK(!archive::IsObjectStore("s4://bucket/x"));
  CHECK(!archive::IsObjectStore("./S3://bucket/x"));
}

TEST_CASE("OBJ-2 credentials and settings come from the environment or the config file") {
  ScopedEnv env;
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AERODB_S3_CONFIG",
                        "AERODB_S3_ENDPOINT", "AERODB_S3_REGION", "AERODB_S3_PATH_STYLE", "AERODB_S3_PART_BYTES"}) {
    env.Set(v, nullptr);
  }
  auto none = s3::LoadS3Config();
  REQUIRE(!none.ok());
  CHECK(none.status().code() == Code::kUsage);
  CHECK(none.status().hint().find("AWS_ACCESS_KEY_ID") != std::string::npos);

  const fs::path dir = fs::temp_directory_path() / ("aerodb-s3cfg-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "c.json") << R"({"access_key_id":"AKF","secret_access_key":"SF","endpoint":"http://127.0.0.1:9","region":"eu-1"})";
  env.Set("AERODB_S3_CONFIG", (dir / "c.json").c_str());
  auto file = s3::LoadS3Config();
  REQUIRE(file.ok());
  CHECK(file->creds.access_key_id == "AKF");
  CHECK(file->creds.secret_access_key == "SF");
  CHECK(file->endpoint == "http://127.0.0.1:9");
  CHECK(file->region == "eu-1");
  CHECK(file->path_style);  // an endpoint given: path style by default
  // Every refusal of the file names its shape (a trial saw no hint), and
  // an unknown key is unknown whatever its value's type.
  for (const auto& [text, detail] : std::vector<std::pair<std::string, std::string>>{
           {R"({"bogus":"1"})", "unknown key 'bogus'"},
           {R"({"bogus":1})", "unknown key 'bogus'"},
           {R"({"path_style":"yes"})", "'path_style' is not a boolean"},
           {R"({"region":7})", "'region' is not a string"},
           {R"({"region":)", "not a JSON object"}}) {
    CAPTURE(text);
    std::ofstream(dir / "bad.json") << text;
    env.Set("AERODB_S3_CONFIG", (dir / "bad.json").c_str());
    auto bad = s3::LoadS3Config();
    REQUIRE(!bad.ok());
    CHECK(bad.status().code() == Code::kUsage);
    CHECK(bad.status().message().find(detail) != std::string::npos);
    CHECK(bad.status().hint().find("AERODB_S3_CONFIG names a JSON object") == 0);
  }
  env.Set("AERODB_S3_CONFIG", (dir / "c.json").c_str());

  env.Set("AWS_ACCESS_KEY_ID", "AKE");
  env.Set("AWS_SECRET_ACCESS_KEY", "SE");
  env.Set("AWS_SESSION_TOKEN", "TOK");
  env.Set("AERODB_S3_REGION", "us-west-2");
  env.Set("AERODB_S3_PATH_STYLE", "0");
  auto e = s3::LoadS3Config();
  REQUIRE(e.ok());
  CHECK(e->creds.access_key_id == "AKE");
  CHECK(e->creds.session_token == "TOK");
  CHECK(e->region == "us-west-2");
  CHECK(!e->path_style);

  std::ofstream(dir / "c.json") << R"({"access_key_id":"AKF","secret":"x"})";
  auto unknown = s3::LoadS3Config();
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().code() == Code::kUsage);
  CHECK(unknown.status().message().find("'secret'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("OBJ-3 no message carries the secret or the signature") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  s3::S3Config c = m.Config();
  c.creds.secret_access_key = "the-wrong-secret-XYZ";
  c.creds.session_token = "session-token-QQQ";
  auto a = Open(c);
  auto listed = a->List();
  REQUIRE(!listed.ok());
  CHECK(listed.status().code() == Code::kIo);
  const std::string text = listed.status().ToString();
  CAPTURE(text);
  CHECK(text.find("403") != std::string::npos);
  CHECK(text.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(text.find("the-wrong-secret-XYZ") == std::string::npos);
  CHECK(text.find("session-token-QQQ") == std::string::npos);
  CHECK(text.find("Signature=") == std::string::npos);
  CHECK(text.find("Credential=") == std::string::npos);
  CHECK(listed.status().hint().find("AWS_SECRET_ACCESS_KEY") != std::string::npos);
  CHECK(m.Stats()["bad_signature"].get<int>() >= 1);  // the mock checked the signature strictly
}

TEST_CASE("OBJ-5 a lost response after a successful exclusive PUT is resolved by the claim token") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  const std::string body(3000, 's');
  REQUIRE(a->HonoursConditionalCreate().value());
  m.Control({{"lose_puts", 1}});
  Status s = a->PublishExclusive(Stage(*a, kSeg, body), kSeg);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(ReadAll(*a, kSeg) == body);
  CHECK(m.Stats()["status"]["412"].get<int>() >= 2);  // the probe's and the retry's
}

TEST_CASE("OBJ-5 an existing name is refused, whoever wrote it") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  auto b = Open(m.Config());
  REQUIRE(a->PublishExclusive(Stage(*a, "00000002.history", "mine\n"), "00000002.history").ok());
  Status again = b->PublishExclusive(Stage(*b, "00000002.history", "theirs\n"), "00000002.history");
  CHECK(again.code() == Code::kRefused);
  // A 500 whose PUT may have happened, then 412: the stored token is the
  // other writer's, so this is refused, not taken for our own.
  m.Control({{"fail", {500}}});
  Status after_fault = b->PublishExclusive(Stage(*b, "00000002.history", "theirs\n"), "00000002.history");
  CHECK(after_fault.code() == Code::kRefused);
  CHECK(ReadAll(*a, "00000002.history") == "mine\n");
}

TEST_CASE("OBJ-6 409, 500 and 503 are retried, a slow answer waited for, a lasting 503 is 10 with a hint") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  REQUIRE(a->HonoursConditionalCreate().value());
  m.Control({{"fail", {409, 500, 503}}});
  Status s = a->PublishExclusive(Stage(*a, kSeg, "abc"), kSeg);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(ReadAll(*a, kSeg) == "abc");
  m.Control({{"slow_ms", 300}});
  auto listed = a->List();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
  m.Control({{"slow_ms", 0}, {"fail", {503, 503, 503, 503, 503}}});
  auto down = a->List();
  REQUIRE(!down.ok());
  CHECK(down.status().code() == Code::kIo);
  CHECK(down.status().message().find("503") != std::string::npos);
  CHECK(down.status().message().find("5 attempts") != std::string::npos);
  CHECK(!down.status().hint().empty());
  m.Control({{"fail", {403}}});
  auto denied = a->List();  // not retried
  REQUIRE(!denied.ok());
  CHECK(denied.status().code() == Code::kIo);
  CHECK(a->List().ok());
}

TEST_CASE("OBJ-7 a store that ignores If-None-Match is found, claims are refused there, segments still go") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  m.Control({{"ignore_if_none_match", true}});
  auto a = Open(m.Config());
  Status claim = a->PublishExclusive(Stage(*a, "00000002.history", "h\n"), "00000002.history");
  CHECK(claim.code() == Code::kRefused);
  CHECK(claim.message().find("store ignores If-None-Match") != std::string::npos);
  CHECK(!claim.hint().empty());
  Status seg = a->PublishExclusive(Stage(*a, kSeg, "seg"), kSeg);
  CHECK_MESSAGE(seg.ok(), seg.ToString());
  Status seg2 = a->PublishExclusive(Stage(*a, kSeg, "other"), kSeg);
  CHECK(seg2.code() == Code::kRefused);  // a HEAD first finds it
  CHECK(ReadAll(*a, kSeg) == "seg");
  auto names = a->List();
  REQUIRE(names.ok());
  CHECK(names->size() == 1);  // the probe name was removed

  testing::S3Mock honest;
  REQUIRE_MOCK(honest);
  auto b = Open(honest.Config());
  CHECK(b->HonoursConditionalCreate().value());
}

TEST_CASE("OBJ-8 a large file goes up in parts, completes whole, and a stale upload can be aborted") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  s3::S3Config c = m.Config();
  c.part_bytes = 1000;
  c.multipart_threshold = 2500;
  auto a = Open(c);
  std::string body;
  for (int i = 0; i < 3500; ++i) body.push_back(static_cast<char>('a' + i % 26));
  Status s = a->PublishExclusive(Stage(*a, kSeg, body), kSeg);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(ReadAll(*a, kSeg) == body);
  nlohmann::json st = m.Stats();
  CHECK(st["parts"].get<int>() == 4);
  CHECK(st["max_part"].get<int>() == 1000);
  // A second upload of the name is refused and leaves no upload behind.
  Status again = a->PublishExclusive(Stage(*a, kSeg, body + "x"), kSeg);
  CHECK(again.code() == Code::kRefused);
  auto ups = a->ListUploads();
  REQUIRE(ups.ok());
  CHECK(ups->empty());
  // A part that fails for good aborts the upload: no object, no upload.
  const std::string other = "00000001-0000000000000010-0000000000000019.seg";
  m.Control({{"fail", {500, 500, 500, 500, 500, 500, 500, 500, 500, 500}}});
  Status failed = a->PublishExclusive(Stage(*a, other, body), other);
  CHECK(failed.code() == Code::kIo);
  m.Control({{"fail", nlohmann::json::array()}});
  CHECK(a->OpenRead(other).status().code() == Code::kNotFound);
}

TEST_CASE("OBJ-9 a read streams in ranged GETs and sees the whole object") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  s3::S3Config c = m.Config();
  c.range_bytes = 1000;
  auto a = Open(c);
  std::string body;
  for (int i = 0; i < 10500; ++i) body.push_back(static_cast<char>(i * 7));
  REQUIRE(a->PublishExclusive(Stage(*a, kSeg, body), kSeg).ok());
  CHECK(ReadAll(*a, kSeg) == body);
  CHECK(m.Stats()["ranges"].get<int>() == 11);
  auto f = a->OpenRead(kSeg);
  REQUIRE(f.ok());
  CHECK((*f)->Size().value() == body.size());
  REQUIRE((*f)->Seek(10499).ok());
  char two[2];
  REQUIRE((*f)->Read(two, 2).value() == 1);  // the object's last byte, then its end
  CHECK(two[0] == body[10499]);
  CHECK((*f)->Read(two, 2).value() == 0);
  CHECK(a->OpenRead("absent.seg").status().code() == Code::kNotFound);
}

TEST_CASE("OBJ-9 a header, the trailer, then the body: each byte fetched once, the next range read ahead") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  s3::S3Config c = m.Config();
  c.range_bytes = 1000;
  auto a = Open(c);
  std::string body;
  for (int i = 0; i < 10500; ++i) body.push_back(static_cast<char>(i * 13));
  REQUIRE(a->PublishExclusive(Stage(*a, kSeg, body), kSeg).ok());
  const int before = m.Stats().value("ranges", 0);
  {
    // A segment reader's order: the header, the trailer, then the body in
    // order. The trailer is a range of its own (the last 1000 bytes), the
    // first range stays, and the body's ranges are read ahead up to the
    // trailer's: 1 + 1 + 9 ranges, each byte once (without the tail range:
    // 13, the first range and the trailer's fetched twice).
    auto f = a->OpenRead(kSeg);
    REQUIRE(f.ok());
    std::string got(10500, '\0');
    REQUIRE(ReadExactlyAt(**f, 0, got.data(), 100).ok());
    REQUIRE(ReadExactlyAt(**f, 10460, got.data() + 10460, 40).ok());
    REQUIRE((*f)->Seek(100).ok());
    size_t at = 100;
    while (at < 10460) {
      Result<size_t> n = (*f)->Read(got.data() + at, std::min<size_t>(333, 10460 - at));
      REQUIRE(n.ok());
      REQUIRE(*n > 0);
      at += *n;
    }
    CHECK(got == body);
  }
  CHECK(m.Stats()["ranges"].get<int>() - before == 11);
  {
    // A header and a trailer only (a duplicate judged): no read-ahead.
    auto f = a->OpenRead(kSeg);
    REQUIRE(f.ok());
    char buf[100];
    REQUIRE(ReadExactlyAt(**f, 0, buf, 100).ok());
    REQUIRE(ReadExactlyAt(**f, 10460, buf, 40).ok());
  }  // the file waits for any read-ahead when it goes
  CHECK(m.Stats()["ranges"].get<int>() - before == 13);
  {
    // A read that continues the previous one starts the next range's GET.
    auto f = a->OpenRead(kSeg);
    REQUIRE(f.ok());
    char buf[100];
    REQUIRE((*f)->Read(buf, 100).value() == 100);
    REQUIRE((*f)->Read(buf, 100).value() == 100);
  }
  CHECK(m.Stats()["ranges"].get<int>() - before == 15);
  c.read_ahead = false;  // AERODB_S3_READ_AHEAD=0
  auto plain = Open(c);
  {
    auto f = plain->OpenRead(kSeg);
    REQUIRE(f.ok());
    char buf[100];
    REQUIRE(f.value()->Read(buf, 100).value() == 100);
    REQUIRE(f.value()->Read(buf, 100).value() == 100);
  }
  CHECK(m.Stats()["ranges"].get<int>() - before == 16);
  CHECK(ReadAll(*plain, kSeg) == body);
}

TEST_CASE("OBJ-9 the range size and the read-ahead come from the environment") {
  ScopedEnv env;
  env.Set("AERODB_S3_CONFIG", nullptr);
  env.Set("AWS_ACCESS_KEY_ID", "AKE");
  env.Set("AWS_SECRET_ACCESS_KEY", "SE");
  env.Set("AERODB_S3_RANGE_BYTES", nullptr);
  env.Set("AERODB_S3_READ_AHEAD", nullptr);
  auto d = s3::LoadS3Config();
  REQUIRE(d.ok());
  CHECK(d->range_bytes == (1u << 20));
  CHECK(d->read_ahead);
  env.Set("AERODB_S3_RANGE_BYTES", "65536");
  env.Set("AERODB_S3_READ_AHEAD", "0");
  auto e = s3::LoadS3Config();
  REQUIRE(e.ok());
  CHECK(e->range_bytes == (64u << 10));
  CHECK(!e->read_ahead);
  for (const char* bad : {"1048577", "4194304", "65535", "1MiB"}) {
    env.Set("AERODB_S3_RANGE_BYTES", bad);
    auto r = s3::LoadS3Config();
    CHECK(r.status().code() == Code::kUsage);
    CHECK(r.status().message().find("AERODB_S3_RANGE_BYTES") != std::string::npos);
  }
  env.Set("AERODB_S3_RANGE_BYTES", nullptr);
  env.Set("AERODB_S3_READ_AHEAD", "yes");
  CHECK(s3::LoadS3Config().status().code() == Code::kUsage);
}

TEST_CASE("OBJ-10 a paginated listing that changes between pages gives each name once, sorted") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  REQUIRE(a->HonoursConditionalCreate().value());
  for (const char* n : {"b", "d", "f", "h", "j", "junk.txt"}) {
    REQUIRE(a->Replace(Stage(*a, n, n), n).ok());
  }
  auto other = Open(m.Config(), "s3://bucket/arch/sub");
  REQUIRE(other->Replace(Stage(*other, "x", "x"), "x").ok());
  auto outside = Open(m.Config(), "s3://bucket/archive2");
  REQUIRE(outside->Replace(Stage(*outside, "y", "y"), "y").ok());
  m.Control({{"page_size", 2}, {"add_after_first_page", {"arch/a", "arch/e", "arch/k"}},
             {"remove_after_first_page", {"arch/h"}}});
  auto listed = a->List();
  REQUIRE(listed.ok());
  std::vector<std::string> names;
  for (const auto& e : *listed) names.push_back(e.name);
  // "a" came before the continuation point and is not seen this time; "h"
  // went away; each name appears once, sorted, and "sub" is a directory.
  CHECK(names == std::vector<std::string>{"b", "d", "e", "f", "j", "junk.txt", "k", "sub"});
  CHECK(listed->back().type == archive::ArchiveEntry::Type::kDirectory);
  CHECK(m.Stats()["methods"]["GET"].get<int>() >= 4);
  // Names that do not parse are reported as ignored, as in a directory.
  auto cat = archive::SegmentCatalog(*a).List();
  REQUIRE(cat.ok());
  bool junk = false;
  for (const auto& s : cat->skipped) junk |= s.name == "junk.txt" && !s.temp;
  CHECK(junk);
  auto missing = Open(m.Config(), "s3://nobucket/x");
  CHECK(missing->List().status().code() == Code::kNotFound);
}

TEST_CASE("OBJ-11 replace, remove and a missing name behave as in a directory") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  const std::string p1 = Stage(*a, "replica-x.json", "one");
  REQUIRE(a->Replace(p1, "replica-x.json").ok());
  CHECK(!fs::exists(p1));  // the staging copy is consumed
  REQUIRE(a->Replace(Stage(*a, "replica-x.json", "two"), "replica-x.json").ok());
  CHECK(ReadAll(*a, "replica-x.json") == "two");
  CHECK(a->Remove("replica-x.json").ok());
  CHECK(a->Remove("replica-x.json").code() == Code::kNotFound);
  CHECK(a->MakeDurable().ok());
  CHECK(a->TempPath(".t").find("s3://") == std::string::npos);
  CHECK(a->PathOf("n") == "s3://bucket/arch/n");
}

// OBJ-7 and OBJ-12 through the commands' library: ship-wal --claim-archive,
// apply-wal and promote against the mock, honest and then ignoring.
TEST_CASE("OBJ-7 promote on a store that ignores If-None-Match is refused (5), on an honest one it claims") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  ScopedEnv env;
  env.Set("AERODB_S3_CONFIG", nullptr);
  env.Set("AWS_ACCESS_KEY_ID", testing::S3Mock::kAccess);
  env.Set("AWS_SECRET_ACCESS_KEY", testing::S3Mock::kSecret);
  env.Set("AWS_SESSION_TOKEN", nullptr);
  env.Set("AERODB_S3_ENDPOINT", m.endpoint().c_str());
  env.Set("AERODB_S3_PATH_STYLE", "1");
  env.Set("AERODB_S3_REGION", nullptr);
  env.Set("AERODB_S3_PART_BYTES", nullptr);
  testing::TempDir t;
  const std::string arch = "s3://bucket/claims";
  testing::MakePrimary(t / "p", 20);
  REQUIRE(testing::ShipInto(t / "p", arch, 3000, /*claim_archive=*/true).ok());
  REQUIRE(testing::Apply(t / "r", arch).ok());
  REQUIRE(testing::Apply(t / "r2", arch).ok());
  CHECK(testing::StateOf(t / "r").applied_commit == 20);

  m.Control({{"ignore_if_none_match", true}});
  repl::PromoteOptions o;
  o.data_dir = t / "r";
  o.archive = arch;
  Status refused = repl::Promote(PosixFs(), o, nullptr);
  CHECK(refused.code() == Code::kRefused);
  CHECK(refused.message().find("store ignores If-None-Match") != std::string::npos);
  CHECK(testing::StateOf(t / "r").role == node::Role::kReplica);
  CHECK(testing::StateOf(t / "r").epoch == 1);

  m.Control({{"ignore_if_none_match", false}});
  repl::PromoteReport rep;
  REQUIRE(repl::Promote(PosixFs(), o, &rep).ok());
  CHECK(rep.epoch == 2);
  CHECK(rep.history_file == arch + "/00000002.history");
  // MODEL-6: the second replica finds the epoch claimed (5) and stays a replica.
  o.data_dir = t / "r2";
  CHECK(repl::Promote(PosixFs(), o, nullptr).code() == Code::kRefused);
  CHECK(testing::StateOf(t / "r2").role == node::Role::kReplica);
}

TEST_CASE("OBJ-12 a 200 that is not an S3 listing, an answer over the bound and a looping listing are 10, never an empty archive") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  auto a = Open(m.Config());
  REQUIRE(a->PublishExclusive(Stage(*a, kSeg, "abc"), kSeg).ok());
  m.Control({{"html_answers", 1}});  // a web console behind the endpoint
  Result<std::vector<archive::ArchiveEntry>> listed = a->List();
  REQUIRE_FALSE(listed.ok());  // before: no entries, so "up to date", exit 0
  CHECK(listed.status().code() == Code::kIo);
  CHECK(listed.status().message().find("not an S3 ListBucketResult") != std::string::npos);
  m.Control({{"oversize_answers", 1}});  // a body that would fill memory
  listed = a->List();
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.status().code() == Code::kIo);
  CHECK(listed.status().message().find("not an S3 answer") != std::string::npos);
  m.Control({{"html_answers", 1}});  // a HEAD answered by a web page: no ETag
  Result<std::unique_ptr<ReadableFile>> opened = a->OpenRead(kSeg);
  REQUIRE_FALSE(opened.ok());  // before: an "object" of the page's size, an archive in transit (8)
  CHECK(opened.status().code() == Code::kIo);
  CHECK(opened.status().message().find("without an ETag") != std::string::npos);
  m.Control({{"loop_tokens", true}});  // continuation tokens A, B, A, ...
  listed = a->List();
  REQUIRE_FALSE(listed.ok());  // before: listed for ever
  CHECK(listed.status().code() == Code::kIo);
}

TEST_CASE("OBJ-7 OBJ-8 a claim is one conditional PUT whatever its size, and part sizes outside S3's range are 2") {
  testing::S3Mock m;
  REQUIRE_MOCK(m);
  s3::S3Config c = m.Config();
  c.multipart_threshold = 1024;  // as a huge AERODB_S3_PART_BYTES once made it (it wrapped to 0)
  auto a = Open(c);
  const std::string claim(4096, 'h');
  REQUIRE(a->PublishExclusive(Stage(*a, "00000002.history", claim), "00000002.history").ok());
  CHECK(m.Stats()["methods"].value("POST", 0) == 0);  // no multipart upload
  CHECK(a->PublishExclusive(Stage(*a, "00000002.history", claim + "x"), "00000002.history").code() ==
        Code::kRefused);
  ScopedEnv env;
  env.Set("AWS_ACCESS_KEY_ID", "a");
  env.Set("AWS_SECRET_ACCESS_KEY", "b");
  env.Set("AERODB_S3_CONFIG", nullptr);
  for (const char* v : {"4611686018427387904", "5368709121", "5242879"}) {
    CAPTURE(v);
    env.Set("AERODB_S3_PART_BYTES", v);
    Result<s3::S3Config> loaded = s3::LoadS3Config();
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().code() == Code::kUsage);
    CHECK_FALSE(loaded.status().hint().empty());
  }
}
