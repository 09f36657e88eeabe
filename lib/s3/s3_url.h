// s3://BUCKET/PREFIX archive locations (specs/REPLICATION_OBJECT_STORE.md OBJ-1).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aero::s3 {

struct S3Url {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'; may be empty
  // "PREFIX/NAME", or "NAME" when the prefix is empty.
  std::string Key(const std::string& name) const { return prefix.empty() ? name : prefix + "/" + name; }
  std::string Location() const { return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix); }
};

// True when `location` names an object store ("s3:" or "S3:" followed by
// anything; ParseS3Url refuses all but "s3://", OBJ-1).
bool IsS3Location(std::string_view location);
// OBJ-1: kUsage naming the location when it is not a valid s3:// URL.
Result<S3Url> ParseS3Url(std::string_view location);

}  // namespace aero::s3
