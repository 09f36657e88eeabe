#include "support/s3_mock.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace aero::testing {
namespace {
size_t Collect(char* d, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(d, s * n);
  return s * n;
}
}  // namespace

S3Mock::S3Mock() {
  char tmpl[] = "/tmp/aerodb-s3mock-XXXXXX";
  if (!mkdtemp(tmpl)) return;
  dir_ = tmpl;
  const std::string port_file = dir_ + "/port";
  const std::string script = std::string(AERODB_SOURCE_DIR) + "/tests/support/s3_mock.py";
  pid_ = fork();
  if (pid_ == 0) {
    execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(), "--access", kAccess,
          "--secret", kSecret, static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500 && port_ == 0; ++i) {  // up to 10 s for python to start
    std::ifstream f(port_file);
    if (f >> port_) break;
    port_ = 0;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

S3Mock::~S3Mock() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::string S3Mock::Http(const std::string& method, const std::string& path, const std::string& body) {
  CURL* c = curl_easy_init();
  std::string out;
  const std::string url = endpoint() + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_perform(c);
  curl_easy_cleanup(c);
  return out;
}

void S3Mock::Control(const nlohmann::json& j) { Http("POST", "/__control", j.dump()); }

nlohmann::json S3Mock::Stats() { return nlohmann::json::parse(Http("GET", "/__stats", "")); }

s3::S3Config S3Mock::Config() const {
  s3::S3Config c;
  c.creds = {kAccess, kSecret, ""};
  c.endpoint = endpoint();
  c.path_style = true;
  c.first_wait_ms = 1;
  return c;
}

}  // namespace aero::testing
