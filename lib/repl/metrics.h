// `aerodb-repl status --metrics FILE`: the node's metrics in the Prometheus
// text exposition format for node_exporter's textfile collector
// (specs/REPLICATION_OPERATIONS.md OPS-10..OPS-12).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "node/last_success.h"
#include "repl/status.h"

namespace aero::repl {

struct MetricsInput {
  std::string data_dir;             // as given (the data_dir label)
  std::optional<std::string> inbox;  // --from, as given (the inbox label)
  const NodeStatus* status = nullptr;
  std::vector<node::LastSuccess> last_success;  // OPS-9 records found
};

// The OPS-9 records of ship-wal and apply-wal that exist and parse.
std::vector<node::LastSuccess> CollectLastSuccess(Fs& fs, const std::string& data_dir);

// OPS-12: HELP and TYPE before each metric, labels escaped, ends in "\n".
std::string RenderMetrics(const MetricsInput& in);

// NODE-13: 2 when `file`'s directory is `data_dir`, lies inside it or inside
// another node's data directory (a metrics file there would be carried by
// every snapshot); checked before status reads anything.
Status CheckMetricsPath(const std::string& data_dir, const std::string& file);

// OPS-11: atomically (FILE.tmp, fsync, rename, fsync of the directory); on
// failure the previous file is as it was, and the Status is
// `metrics not written 'FILE': ...` with a hint.
Status WriteMetrics(Fs& fs, const std::string& path, const std::string& text);

}  // namespace aero::repl
