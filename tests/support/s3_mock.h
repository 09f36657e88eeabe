// The in-repo S3 mock (tests/support/s3_mock.py) as a test fixture: started
// on loopback per test, controlled over HTTP, stopped by its PID.
#pragma once

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "s3/s3_config.h"

namespace aero::testing {

class S3Mock {
 public:
  static constexpr const char* kAccess = "AKIDMOCK";
  static constexpr const char* kSecret = "mock-secret/key+1";
  S3Mock();
  ~S3Mock();
  bool started() const { return port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // POST /__control with `j` (see s3_mock.py).
  void Control(const nlohmann::json& j);
  nlohmann::json Stats();
  // A config for this server, retries fast (1 ms first wait).
  s3::S3Config Config() const;

 private:
  std::string Http(const std::string& method, const std::string& path, const std::string& body);
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace aero::testing
