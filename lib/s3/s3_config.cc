#include "s3/s3_config.h"

#include <cstdlib>
#include <set>
#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/file_util.h"
#include "common/fs.h"

namespace aero::s3 {
namespace {

constexpr size_t kMaxConfigBytes = 64 * 1024;  // OBJ-2: a few short strings

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// OBJ-30: an endpoint is an http:// or https:// URL with a host.
bool IsHttpUrl(const std::string& u) {
  const size_t scheme = u.rfind("https://", 0) == 0 ? 8 : u.rfind("http://", 0) == 0 ? 7 : 0;
  return scheme > 0 && u.size() > scheme;
}

// OBJ-30: the command line's settings (one process, one command line).
S3Flags& S3FlagsGiven() {
  static S3Flags flags;
  return flags;
}

// OBJ-30: an option beats the environment and the config file.
Status ApplyS3Flags(S3Config* c, bool* path_style_set) {
  const S3Flags& f = S3FlagsGiven();
  if (!f.endpoint.empty()) {
    if (!IsHttpUrl(f.endpoint)) {
      return Status(Code::kUsage, Problem("invalid value", "--s3-endpoint", "'" + Escaped(f.endpoint) + "' is not an http:// or https:// URL"),
                    "give the store's URL, e.g. --s3-endpoint http://127.0.0.1:7480");
    }
    c->endpoint = f.endpoint;
  }
  if (!f.region.empty()) c->region = f.region;
  if (f.path_style) {
    c->path_style = true;
    *path_style_set = true;
  }
  return Status::Ok();
}

}  // namespace

void SetS3Flags(S3Flags flags) { S3FlagsGiven() = std::move(flags); }

// OBJ-2, OBJ-30: the options, then the environment, then the config file;
// no credentials is usage.
Result<S3Config> LoadS3Config() {
  S3Config c;
  bool path_style_set = false;
  const std::string file = Env("AERODB_S3_CONFIG");
  if (!file.empty()) {
    // OBJ-2: the one shape the file has, named by every refusal.
    const char* kShape =
        "AERODB_S3_CONFIG names a JSON object with the strings access_key_id, secret_access_key, "
        "session_token, endpoint, region and the boolean path_style, each optional";
    // Read as every small file is (FM-132): a FIFO or device is refused
    // (10), never waited on or read for ever; a file this user may not read
    // is 10 (FM-137); one over kMaxConfigBytes is not a config (2).
    Result<std::string> text = ReadSmallFile(PosixFs(), file, kMaxConfigBytes);
    if (!text.ok()) {
      if (text.status().code() == Code::kIo) return text.status();
      return Status(Code::kUsage,
                    Problem("cannot read s3 config", file,
                            text.status().code() == Code::kNotFound
                                ? "no such file"
                                : "larger than " + std::to_string(kMaxConfigBytes) + " bytes"),
                    kShape);
    }
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) {
      return Status(Code::kUsage, Problem("invalid s3 config", file, "not a JSON object"), kShape);
    }
    static const std::set<std::string> kKeys = {"access_key_id", "secret_access_key", "session_token",
                                                "endpoint", "region", "path_style"};
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (!kKeys.count(k)) {
        return Status(Code::kUsage, Problem("invalid s3 config", file, "unknown key '" + Escaped(k) + "'"), kShape);
      }
      if (k == "path_style") {
        if (!it->is_boolean()) {
          return Status(Code::kUsage, Problem("invalid s3 config", file, "'path_style' is not a boolean"), kShape);
        }
        c.path_style = it->get<bool>();
        path_style_set = true;
        continue;
      }
      if (!it->is_string()) {
        return Status(Code::kUsage, Problem("invalid s3 config", file, "'" + k + "' is not a string"), kShape);
      }
      const std::string v = it->get<std::string>();
      if (k == "access_key_id") c.creds.access_key_id = v;
      else if (k == "secret_access_key") c.creds.secret_access_key = v;
      else if (k == "session_token") c.creds.session_token = v;
      else if (k == "endpoint") c.endpoint = v;
      else c.region = v;  // "region": the keys are checked above
    }
  }
  if (!Env("AWS_ACCESS_KEY_ID").empty() || !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    c.creds.access_key_id = Env("AWS_ACCESS_KEY_ID");
    c.creds.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    c.creds.session_token = Env("AWS_SESSION_TOKEN");
  }
  if (!Env("AERODB_S3_ENDPOINT").empty()) c.endpoint = Env("AERODB_S3_ENDPOINT");
  if (!Env("AERODB_S3_REGION").empty()) c.region = Env("AERODB_S3_REGION");
  const std::string ps = Env("AERODB_S3_PATH_STYLE");
  if (ps == "1" || ps == "0") {
    c.path_style = ps == "1";
    path_style_set = true;
  } else if (!ps.empty()) {
    return Status(Code::kUsage, Problem("invalid value", "AERODB_S3_PATH_STYLE", "expected 1 or 0"),
                  "set it to 1 (path-style URLs) or 0 (virtual-hosted), or unset it");
  }
  AERO_RETURN_IF_ERROR(ApplyS3Flags(&c, &path_style_set));  // OBJ-30: flag > env > config
  // OBJ-30: an endpoint from the environment or the config file is held to
  // the flag's rule.
  if (!c.endpoint.empty() && !IsHttpUrl(c.endpoint)) {
    return Status(Code::kUsage,
                  Problem("invalid value", "AERODB_S3_ENDPOINT",
                          "'" + Escaped(c.endpoint) + "' is not an http:// or https:// URL with a host"),
                  "give the store's URL, e.g. AERODB_S3_ENDPOINT=http://127.0.0.1:7480");
  }
  if (!path_style_set) c.path_style = !c.endpoint.empty();
  const std::string part = Env("AERODB_S3_PART_BYTES");
  if (!part.empty()) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(part.c_str(), &end, 10);
    if (*end != '\0' || v < (5ull << 20) || v > (5ull << 30)) {  // OBJ-8: S3's part sizes
      return Status(Code::kUsage,
                    Problem("invalid value", "AERODB_S3_PART_BYTES",
                            "expected a byte count from 5242880 to 5368709120 (S3's part sizes)"),
                    "unset it for the default (16 MiB parts), or give a size in that range");
    }
    c.part_bytes = v;
    c.multipart_threshold = 4 * v;
  }
  AERO_RETURN_IF_ERROR(LoadS3ReadSettings(c));
  if (c.creds.access_key_id.empty() || c.creds.secret_access_key.empty()) {
    return Status(Code::kUsage, Problem("no credentials", "s3", "no access key id or secret access key"),
                  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a config file in AERODB_S3_CONFIG");
  }
  return c;
}

// OBJ-9: AERODB_S3_RANGE_BYTES (65536..1048576: two ranges within the memory bound) and AERODB_S3_READ_AHEAD
// (1, the default, or 0: one range at a time, for measurements).
Status LoadS3ReadSettings(S3Config& c) {
  const std::string range = Env("AERODB_S3_RANGE_BYTES");
  if (!range.empty()) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(range.c_str(), &end, 10);
    if (*end != '\0' || v < (64ull << 10) || v > (1ull << 20)) {
      return Status(Code::kUsage, Problem("invalid value", "AERODB_S3_RANGE_BYTES", "expected a byte count from 65536 to 1048576"),
                    "unset it for the default, or give a size in that range");
    }
    c.range_bytes = v;
  }
  const std::string ahead = Env("AERODB_S3_READ_AHEAD");
  if (ahead == "1" || ahead == "0") {
    c.read_ahead = ahead == "1";
  } else if (!ahead.empty()) {
    return Status(Code::kUsage, Problem("invalid value", "AERODB_S3_READ_AHEAD", "expected 1 or 0"),
                  "set it to 1 (the default: read ahead) or 0, or unset it");
  }
  return Status::Ok();
}

}  // namespace aero::s3
