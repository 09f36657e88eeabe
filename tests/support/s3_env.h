// The S3 settings of the environment for one scope, restored after it; the
// command-line options (OBJ-30, s3::SetS3Flags) cleared before and after.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s3/s3_config.h"
#include "support/s3_mock.h"

namespace aero::testing {

class ScopedS3Env {
 public:
  ScopedS3Env() { s3::SetS3Flags({}); }
  // The mock's endpoint and credentials, nothing else.
  explicit ScopedS3Env(const S3Mock& m) : ScopedS3Env() { ForMock(&m); }
  ScopedS3Env(const ScopedS3Env&) = delete;
  ScopedS3Env& operator=(const ScopedS3Env&) = delete;
  ~ScopedS3Env() {
    s3::SetS3Flags({});
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
      else unsetenv(it->first.c_str());
    }
  }
  // Sets (or, for nullptr, unsets) one variable until the end of the scope.
  void Set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  // Credentials for the mock; its endpoint when `m` is given; path-style
  // addressing as `path_style` says (nullptr: the default for the endpoint).
  void ForMock(const S3Mock* m, const char* path_style = "1") {
    Set("AERODB_S3_CONFIG", nullptr);
    Set("AWS_ACCESS_KEY_ID", S3Mock::kAccess);
    Set("AWS_SECRET_ACCESS_KEY", S3Mock::kSecret);
    Set("AWS_SESSION_TOKEN", nullptr);
    Set("AERODB_S3_ENDPOINT", m ? m->endpoint().c_str() : nullptr);
    Set("AERODB_S3_PATH_STYLE", path_style);
    Set("AERODB_S3_REGION", nullptr);
    Set("AERODB_S3_PART_BYTES", nullptr);
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace aero::testing
