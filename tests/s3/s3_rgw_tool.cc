// A helper for tests/cli/cli_s3_rgw.sh and tests/bench/s3.sh, through the
// library's own S3 client (credentials and endpoint from the environment,
// OBJ-2):
//   s3_rgw_tool mkbucket s3://BUCKET           create the bucket (ok if it is there)
//   s3_rgw_tool race s3://BUCKET/PREFIX NAME N N writers publish NAME exclusively at
//                                              once, each its own bytes; prints
//                                              "winners=W refused=R errors=E stored=K"
//                                              (K: the index of the writer whose bytes
//                                              are stored, or -1)
//   s3_rgw_tool probe s3://BUCKET/PREFIX       prints "conditional=1" or "conditional=0"
//   s3_rgw_tool put s3://BUCKET/PREFIX FILE NAME   an unconditional PUT of FILE as NAME
//   s3_rgw_tool begin-upload s3://BUCKET/PREFIX NAME  starts a multipart upload of NAME, never completed
//   s3_rgw_tool uploads s3://BUCKET/PREFIX     prints "uploads=N" (multipart uploads under PREFIX)
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "archive/s3_archive.h"
#include "s3/s3_config.h"
#include "s3/s3_url.h"

using namespace aero;

namespace {
int Fail(const Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 10;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: s3_rgw_tool mkbucket|race|probe s3://BUCKET[/PREFIX] [NAME N]\n");
    return 2;
  }
  const std::string cmd = argv[1];
  Result<s3::S3Url> url = s3::ParseS3Url(argv[2]);
  if (!url.ok()) return Fail(url.status());
  Result<s3::S3Config> config = s3::LoadS3Config();
  if (!config.ok()) return Fail(config.status());
  if (cmd == "mkbucket") {
    s3::S3Client c(*config, url->bucket);
    s3::S3Request r;
    r.method = "PUT";
    Result<s3::S3Response> resp = c.Perform(r);
    if (!resp.ok()) return Fail(resp.status());
    if (resp->status != 200 && resp->ErrorCode() != "BucketAlreadyOwnedByYou") return Fail(c.Unexpected(r, *resp));
    return 0;
  }
  if (cmd == "put" && argc == 5) {  // put s3://BUCKET/PREFIX FILE NAME: an unconditional PUT
    auto a = archive::S3Archive::Open(PosixFs(), *url, *config);
    if (!a.ok()) return Fail(a.status());
    const std::string temp = (*a)->TempPath(".put.tmp");
    std::ifstream in(argv[3], std::ios::binary);
    std::ofstream(temp, std::ios::binary) << in.rdbuf();
    Status s = (*a)->Replace(temp, argv[4]);
    if (!s.ok()) return Fail(s);
    return 0;
  }
  if (cmd == "begin-upload" && argc == 4) {  // OBJ-14: an abandoned upload, as a crashed writer leaves
    s3::S3Client c(*config, url->bucket);
    s3::S3Request r;
    r.method = "POST";
    r.key = url->Key(argv[3]);
    r.query = {{"uploads", ""}};
    Result<s3::S3Response> resp = c.Perform(r);
    if (!resp.ok()) return Fail(resp.status());
    if (resp->status != 200) return Fail(c.Unexpected(r, *resp));
    return 0;
  }
  if (cmd == "uploads") {
    auto a = archive::S3Archive::Open(PosixFs(), *url, *config);
    if (!a.ok()) return Fail(a.status());
    auto l = (*a)->ListUploadsDated();
    if (!l.ok()) return Fail(l.status());
    std::printf("uploads=%zu\n", l->uploads.size());
    return 0;
  }
  if (cmd == "probe") {
    auto a = archive::S3Archive::Open(PosixFs(), *url, *config);
    if (!a.ok()) return Fail(a.status());
    Result<bool> ok = (*a)->HonoursConditionalCreate();
    if (!ok.ok()) return Fail(ok.status());
    std::printf("conditional=%d\n", *ok ? 1 : 0);
    return 0;
  }
  if (cmd == "race" && argc == 5) {
    const std::string name = argv[3];
    const int n = std::stoi(argv[4]);
    std::vector<std::unique_ptr<archive::S3Archive>> writers;
    for (int i = 0; i < n; ++i) {
      auto a = archive::S3Archive::Open(PosixFs(), *url, *config);
      if (!a.ok()) return Fail(a.status());
      Result<bool> probed = (*a)->HonoursConditionalCreate();  // before the race
      if (!probed.ok()) return Fail(probed.status());
      writers.push_back(std::move(a).value());
    }
    std::vector<std::string> temps;
    for (int i = 0; i < n; ++i) {
      temps.push_back(writers[i]->TempPath("." + name + ".tmp"));
      std::ofstream(temps.back(), std::ios::binary) << "writer " << i << "\n";
    }
    std::atomic<int> winners{0}, refused{0}, errors{0}, go{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < n; ++i) {
      ts.emplace_back([&, i] {
        go.fetch_add(1);
        while (go.load() < n) std::this_thread::yield();
        Status s = writers[i]->PublishExclusive(temps[i], name);
        if (s.ok()) winners.fetch_add(1);
        else if (s.code() == Code::kRefused) refused.fetch_add(1);
        else {
          errors.fetch_add(1);
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
        }
      });
    }
    for (auto& t : ts) t.join();
    int stored = -1;
    auto f = writers[0]->OpenRead(name);
    if (f.ok()) {
      char buf[64];
      Result<size_t> got = (*f)->Read(buf, sizeof buf);
      if (got.ok()) {
        std::string body(buf, *got);
        if (body.rfind("writer ", 0) == 0) stored = std::stoi(body.substr(7));
      }
    }
    std::printf("winners=%d refused=%d errors=%d stored=%d\n", winners.load(), refused.load(), errors.load(), stored);
    return 0;
  }
  std::fprintf(stderr, "usage: s3_rgw_tool mkbucket|race|probe s3://BUCKET[/PREFIX] [NAME N]\n");
  return 2;
}
