#include "s3/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <string_view>
#include <utility>
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

// Where a setting came from, to name it in a refusal (OBJ-30, OBJ-32).
enum class From { kDefault, kFile, kEnv, kFlag };
struct Origins {
  From endpoint = From::kDefault;
  From region = From::kDefault;
  From creds = From::kDefault;
};

// OBJ-32: a byte below 0x20 or DEL, which would end (or add) a header line.
bool HasCtl(std::string_view v) {
  for (char ch : v) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool IsAlnum(char ch) { return IsDigit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }

// OBJ-32: a region is 1 to 64 letters, digits and '-' (AWS's are lower case).
bool IsRegion(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char ch : r) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

// OBJ-30: an endpoint is http:// or https://, a host (a name, an IPv4 or
// [IPv6]), an optional :PORT of 1 to 65535, an optional /path; no space or
// control character anywhere. Empty when it is one, else what is wrong.
std::string EndpointFault(std::string_view u) {
  const size_t scheme = u.rfind("https://", 0) == 0 ? 8 : u.rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme == 0) return "not an http:// or https:// URL";
  for (char ch : u) {
    if (ch == ' ' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return "a space or control character";
  }
  std::string_view rest = u.substr(scheme);
  const size_t slash = rest.find('/');
  std::string_view auth = rest.substr(0, slash);
  std::string_view port;
  if (!auth.empty() && auth.front() == '[') {  // [IPv6]
    const size_t close = auth.find(']');
    if (close == std::string_view::npos || close == 1) return "no host";
    for (char ch : auth.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return "a bad IPv6 address";
    }
    if (close + 1 < auth.size() && auth[close + 1] != ':') return "a bad port";
    if (close + 1 < auth.size()) port = auth.substr(close + 2);
    if (close + 1 < auth.size() && port.empty()) return "a bad port";
  } else {
    const size_t colon = auth.find(':');
    std::string_view host = auth.substr(0, colon);
    if (host.empty()) return "no host";
    for (char ch : host) {
      if (!IsAlnum(ch) && ch != '.' && ch != '-' && ch != '_') return "a bad host name";
    }
    if (colon != std::string_view::npos) {
      port = auth.substr(colon + 1);
      if (port.empty()) return "a bad port";
    }
  }
  if (!port.empty()) {
    unsigned long n = 0;
    for (char ch : port) {
      if (!IsDigit(ch) || port.size() > 5) return "a bad port";
      n = n * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (n < 1 || n > 65535) return "a bad port";
  }
  return "";
}

// The refusal of a setting, naming where it came from: the option, the
// variable, or the config file's key.
Status BadSetting(From from, const std::string& flag, const std::string& var, const std::string& key,
                  const std::string& file, const std::string& detail, const std::string& hint) {
  if (from == From::kFile) return Status(Code::kUsage, Problem("invalid s3 config", file, "'" + key + "' " + detail), hint);
  return Status(Code::kUsage, Problem("invalid value", from == From::kFlag ? flag : var, detail), hint);
}

// OBJ-30, OBJ-32: every setting that reaches the request line or a header
// is checked before any request: the endpoint, the region, the credentials
// (no value of a credential is ever printed).
Status CheckS3Settings(const S3Config& c, const Origins& o, const std::string& file) {
  if (!c.endpoint.empty()) {
    const std::string fault = EndpointFault(c.endpoint);
    if (!fault.empty()) {
      const std::string example = o.endpoint == From::kFlag  ? "--s3-endpoint http://127.0.0.1:7480"
                                  : o.endpoint == From::kEnv ? "AERODB_S3_ENDPOINT=http://127.0.0.1:7480"
                                                             : "\"endpoint\": \"http://127.0.0.1:7480\"";
      return BadSetting(o.endpoint, "--s3-endpoint", "AERODB_S3_ENDPOINT", "endpoint", file,
                        "'" + Escaped(c.endpoint) + "' is not an http:// or https:// URL with a host: " + fault,
                        "give the store's URL, e.g. " + example + " (a host, an optional port 1-65535)");
    }
  }
  if (!IsRegion(c.region)) {  // OBJ-32
    return BadSetting(o.region, "--s3-region", "AERODB_S3_REGION", "region", file,
                      "'" + Escaped(c.region) + "' is not a region: letters, digits and '-' only",
                      "give the store's region, e.g. us-east-1");
  }
  const std::pair<const std::string*, const char*> creds[] = {
      {&c.creds.access_key_id, "AWS_ACCESS_KEY_ID"},
      {&c.creds.secret_access_key, "AWS_SECRET_ACCESS_KEY"},
      {&c.creds.session_token, "AWS_SESSION_TOKEN"}};
  static const char* kKeys[] = {"access_key_id", "secret_access_key", "session_token"};
  for (size_t i = 0; i < 3; ++i) {
    if (HasCtl(*creds[i].first)) {  // OBJ-32: named, never echoed (OBJ-3)
      return BadSetting(o.creds, "", creds[i].second, kKeys[i], file, "holds a control character (a line break?)",
                        "set it again as the store gave it, without a line break or other control character");
    }
  }
  return Status::Ok();
}

// OBJ-30: the command line's settings (one process, one command line).
S3Flags& S3FlagsGiven() {
  static S3Flags flags;
  return flags;
}

// OBJ-30: an option beats the environment and the config file.
void ApplyS3Flags(S3Config* c, bool* path_style_set, Origins* o) {
  const S3Flags& f = S3FlagsGiven();
  if (!f.endpoint.empty()) {
    c->endpoint = f.endpoint;
    o->endpoint = From::kFlag;
  }
  if (!f.region.empty()) {
    c->region = f.region;
    o->region = From::kFlag;
  }
  if (f.path_style) {
    c->path_style = true;
    *path_style_set = true;
  }
}

// OBJ-2: the JSON file AERODB_S3_CONFIG names, into `c`.
Status ReadS3ConfigFile(const std::string& file, S3Config* c, bool* path_style_set, Origins* o) {
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
      c->path_style = it->get<bool>();
      *path_style_set = true;
      continue;
    }
    if (!it->is_string()) {
      return Status(Code::kUsage, Problem("invalid s3 config", file, "'" + k + "' is not a string"), kShape);
    }
    const std::string v = it->get<std::string>();
    if (k == "access_key_id") c->creds.access_key_id = v;
    else if (k == "secret_access_key") c->creds.secret_access_key = v;
    else if (k == "session_token") c->creds.session_token = v;
    else if (k == "endpoint") c->endpoint = v, o->endpoint = From::kFile;
    else c->region = v, o->region = From::kFile;  // "region": the keys are checked above
  }
  o->creds = From::kFile;
  return Status::Ok();
}

}  // namespace

void SetS3Flags(S3Flags flags) { S3FlagsGiven() = std::move(flags); }

// OBJ-2, OBJ-30: the options, then the environment, then the config file;
// no credentials is usage.
Result<S3Config> LoadS3Config() {
  S3Config c;
  bool path_style_set = false;
  Origins origins;
  const std::string file = Env("AERODB_S3_CONFIG");
  if (!file.empty()) AERO_RETURN_IF_ERROR(ReadS3ConfigFile(file, &c, &path_style_set, &origins));
  if (!Env("AWS_ACCESS_KEY_ID").empty() || !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    c.creds.access_key_id = Env("AWS_ACCESS_KEY_ID");
    c.creds.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    c.creds.session_token = Env("AWS_SESSION_TOKEN");
    origins.creds = From::kEnv;
  }
  if (!Env("AERODB_S3_ENDPOINT").empty()) c.endpoint = Env("AERODB_S3_ENDPOINT"), origins.endpoint = From::kEnv;
  if (!Env("AERODB_S3_REGION").empty()) c.region = Env("AERODB_S3_REGION"), origins.region = From::kEnv;
  const std::string ps = Env("AERODB_S3_PATH_STYLE");
  if (ps == "1" || ps == "0") {
    c.path_style = ps == "1";
    path_style_set = true;
  } else if (!ps.empty()) {
    return Status(Code::kUsage, Problem("invalid value", "AERODB_S3_PATH_STYLE", "expected 1 or 0"),
                  "set it to 1 (path-style URLs) or 0 (virtual-hosted), or unset it");
  }
  ApplyS3Flags(&c, &path_style_set, &origins);  // OBJ-30: flag > env > config
  // OBJ-30, OBJ-32: whichever setting won is checked, before any request.
  AERO_RETURN_IF_ERROR(CheckS3Settings(c, origins, file));
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
