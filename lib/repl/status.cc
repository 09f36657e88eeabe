#include "repl/status.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "node/layout.h"
#include "node/store.h"
#include "segment/segment_reader.h"

namespace aero::repl {

Code NodeStatus::outcome() const {
  if (halt) return Code::kHalted;
  if (state.fenced_json || state.promoting_json) return Code::kRefused;
  return Code::kOk;
}

Result<NodeStatus> GetStatus(Fs& fs, const std::string& data_dir,
                             const std::optional<std::string>& inbox) {
  AERO_ASSIGN_OR_RETURN(auto n, node::Node::Open(fs, data_dir, node::Access::kRead));
  NodeStatus st;
  st.identity = n->identity();
  st.state = n->state();
  st.halt = n->halt();
  const uint64_t applied = st.state.applied_commit;

  // Shipped positions (LOG-2), newest knowledge of each target.
  Result<std::vector<DirEntry>> shipped = fs.ListDir(JoinPath(data_dir, node::kShippedDir));
  if (shipped.ok()) {
    for (const DirEntry& e : *shipped) {
      if (e.name.size() < 5 || e.name.substr(e.name.size() - 5) != ".json") continue;
      Result<std::string> text = ReadSmallFile(fs, JoinPath(JoinPath(data_dir, node::kShippedDir), e.name));
      if (!text.ok()) continue;
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.contains("target") || !j.contains("commit")) continue;
      ShippedTarget t;
      t.target = j["target"].get<std::string>();
      t.commit = j["commit"].get<uint64_t>();
      t.lag = applied > t.commit ? applied - t.commit : 0;
      st.shipped.push_back(t);
    }
  }

  if (inbox) {
    AERO_ASSIGN_OR_RETURN(auto entries, fs.ListDir(*inbox));
    struct Named {
      std::string name;
      segment::SegmentNameInfo info;
    };
    std::vector<Named> segs;
    for (const DirEntry& e : entries) {
      auto info = segment::ParseSegmentName(e.name);
      if (info && e.is_regular) segs.push_back({e.name, *info});
    }
    std::sort(segs.begin(), segs.end(), [](const Named& a, const Named& b) {
      return a.info.last_commit > b.info.last_commit;
    });
    InboxLag lag;
    for (const Named& s : segs) {  // newest first; stop at the first complete one
      Result<std::unique_ptr<ReadableFile>> f = fs.OpenRead(JoinPath(*inbox, s.name));
      if (!f.ok()) continue;
      segment::SegmentCheck c = segment::CheckSegmentHeader(**f, &s.info);
      if (c.state != segment::SegmentState::kValid ||
          !(c.header.system_id == st.identity.system_id)) {
        ++lag.incomplete_segments;
        continue;
      }
      lag.newest_commit = c.header.last_commit;
      lag.newest_segment = s.name;
      lag.lag = c.header.last_commit > applied ? c.header.last_commit - applied : 0;
      break;
    }
    st.inbox = lag;
  }
  return st;
}

}  // namespace aero::repl
