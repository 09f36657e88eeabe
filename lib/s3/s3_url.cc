#include "s3/s3_url.h"

namespace aero::s3 {

// OBJ-1: "s3:" in either case ("S3://...") is an object store's location,
// to be parsed (and refused when not "s3://"), never a local path.
bool IsS3Location(std::string_view location) {
  return location.size() >= 3 && (location[0] == 's' || location[0] == 'S') && location[1] == '3' &&
         location[2] == ':';
}

// OBJ-1: s3://BUCKET[/PREFIX], BUCKET 3..63 of [a-z0-9.-], PREFIX segments
// non-empty and never "." or "..".
Result<S3Url> ParseS3Url(std::string_view location) {
  auto bad = [&](const std::string& detail) {
    return Status(Code::kUsage, Problem("invalid s3 location", location, detail),
                  "write s3://BUCKET/PREFIX, e.g. s3://backups/aerodb/main");
  };
  if (location.substr(0, 2) == "S3") return bad("the scheme is written s3:// in lower case");  // OBJ-1
  if (location.substr(0, 5) != "s3://") return bad("expected s3://BUCKET/PREFIX");
  std::string_view rest = location.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t slash = rest.find('/');
  S3Url u;
  u.bucket = std::string(rest.substr(0, slash));
  if (u.bucket.size() < 3 || u.bucket.size() > 63) return bad("a bucket name has 3 to 63 characters");
  for (char c : u.bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return bad("a bucket name holds only a-z, 0-9, '.' and '-'");
    }
  }
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash + 1);
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string_view::npos) end = p.size();
      std::string_view seg = p.substr(start, end - start);
      if (seg.empty() || seg == "." || seg == "..") return bad("an empty, '.' or '..' segment in the prefix");
      for (char c : seg) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad("a control character in the prefix");
      }
      start = end + 1;
    }
    u.prefix = std::string(p);
  }
  return u;
}

}  // namespace aero::s3
