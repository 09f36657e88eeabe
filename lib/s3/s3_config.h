// Where the object store is and who we are to it (OBJ-2): the environment,
// else the JSON file AERODB_S3_CONFIG names.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "s3/sigv4.h"

namespace aero::s3 {

struct S3Config {
  Credentials creds;          // secrets: never printed, logged or in --json (OBJ-3)
  std::string endpoint;       // "http://127.0.0.1:7480"; empty: AWS
  std::string region = "us-east-1";
  bool path_style = true;
  int max_attempts = 5;       // OBJ-6
  int first_wait_ms = 50;     // OBJ-6: doubled after each attempt
  uint64_t part_bytes = 16ull << 20;            // OBJ-8
  uint64_t multipart_threshold = 64ull << 20;   // OBJ-8
  uint64_t range_bytes = 1ull << 20;            // OBJ-9: at most 1 MiB (two are read at once)
  bool read_ahead = true;                       // OBJ-9: the next range while this one is read
};

// OBJ-30: the settings given as options of `aerodb-repl` itself; empty
// (false) = not given. Never credentials.
struct S3Flags {
  std::string endpoint;
  std::string region;
  bool path_style = false;
};
// OBJ-30: set once, by the command line, before any archive is opened;
// LoadS3Config then prefers them to the environment and the config file.
void SetS3Flags(S3Flags flags);

// OBJ-2, OBJ-30: kUsage when there are no credentials, the config file is
// bad, or the endpoint option is not an http(s) URL.
Result<S3Config> LoadS3Config();
// OBJ-9: the read settings from the environment into `c`; kUsage when bad.
Status LoadS3ReadSettings(S3Config& c);

}  // namespace aero::s3
