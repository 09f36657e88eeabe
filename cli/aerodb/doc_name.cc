#include "cli/aerodb/commands.h"

namespace aero::cli {

Status ParseDocName(const std::string& name, std::string* collection, std::string* id) {
  size_t slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
    return Status(Code::kUsage, Problem("invalid document name", name, "expected COLLECTION/ID"),
                  "for example: users/u-42");
  }
  *collection = name.substr(0, slash);
  *id = name.substr(slash + 1);
  return Status::Ok();
}

nlohmann::json BodyJson(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return body;
  return j;
}

}  // namespace aero::cli
