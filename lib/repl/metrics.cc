#include "repl/metrics.h"

#include "common/escape.h"
#include "common/file_util.h"
#include "history/digest.h"
#include "node/own_folder.h"
#include "node/state.h"

namespace aero::repl {

namespace {

// OPS-12: a label value in the exposition format: \ " and newline escaped;
// and, as OPS-4 writes paths, any other control character or byte of no
// UTF-8 sequence as the text \xNN (the format is UTF-8: a Latin-1 byte in a
// path made the whole file one a scraper refuses).
std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  size_t start = 0;
  auto flush = [&](size_t end) {  // v[start, end): no newline in it
    for (char c : Escaped(std::string_view(v).substr(start, end - start))) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else {
        out += c;
      }
    }
  };
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\n') continue;
    flush(i);
    out += "\\n";
    start = i + 1;
  }
  flush(v.size());
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric: its HELP and TYPE lines, then its samples (OPS-12).
class Metric {
 public:
  Metric(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  Metric& Sample(const Labels& labels, uint64_t value) {
    std::string line = name_;
    if (!labels.empty()) {
      line += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) line += ',';
        line += labels[i].first + "=\"" + Escape(labels[i].second) + '"';
      }
      line += '}';
    }
    samples_.push_back(line + ' ' + std::to_string(value) + '\n');
    return *this;
  }
  void AppendTo(std::string* out) const {
    if (samples_.empty()) return;  // a metric with no sample is left out
    *out += "# HELP " + name_ + ' ' + help_ + '\n';
    *out += "# TYPE " + name_ + " gauge\n";
    for (const std::string& s : samples_) *out += s;
  }

 private:
  std::string name_, help_;
  std::vector<std::string> samples_;
};

}  // namespace

std::vector<node::LastSuccess> CollectLastSuccess(Fs& fs, const std::string& data_dir) {
  std::vector<node::LastSuccess> out;
  for (const char* command : {"ship-wal", "apply-wal"}) {
    if (auto s = node::LoadLastSuccess(fs, data_dir, command)) out.push_back(*s);
  }
  return out;
}

std::string RenderMetrics(const MetricsInput& in) {
  const NodeStatus& st = *in.status;
  const Labels node = {{"data_dir", in.data_dir}};
  std::vector<Metric> m;
  m.emplace_back("aerodb_repl_node_info", "The node's role and system id (value 1).")
      .Sample({{"data_dir", in.data_dir},
               {"role", node::RoleName(st.state.role)},
               {"system_id", st.identity.system_id.ToHex()}},
              1);
  m.emplace_back("aerodb_repl_epoch", "The node's authority epoch.").Sample(node, st.state.epoch);
  m.emplace_back("aerodb_repl_applied_commit", "The last CommitId durable in the node's WAL.")
      .Sample(node, st.state.applied_commit);
  m.emplace_back("aerodb_repl_base_commit", "The CommitId just before the first write set in the WAL.")
      .Sample(node, st.state.base_commit);
  m.emplace_back("aerodb_repl_halted", "1 when the node is halted, else 0.")
      .Sample(node, st.authority.halt ? 1 : 0);
  m.emplace_back("aerodb_repl_fenced", "1 when the node is fenced by a newer epoch, else 0.")
      .Sample(node, st.authority.fenced ? 1 : 0);
  m.emplace_back("aerodb_repl_promoting", "1 while a promote is unfinished, else 0.")
      .Sample(node, st.authority.promoting ? 1 : 0);
  Metric lag("aerodb_repl_lag_commits",
             "Commits from applied to the newest complete segment of the inbox (LOG-18).");
  Metric pending("aerodb_repl_segments_pending",
                 "Segments in the inbox whose names end above the applied CommitId.");
  Metric incomplete("aerodb_repl_segments_incomplete",
                    "Segments in the inbox in transit or damaged, as status met them.");
  if (st.inbox && in.inbox) {
    const Labels l = {{"data_dir", in.data_dir}, {"inbox", *in.inbox}};
    if (st.inbox->newest_commit) lag.Sample(l, st.inbox->lag);
    pending.Sample(l, st.inbox->pending_segments);
    incomplete.Sample(l, st.inbox->incomplete_segments);
  }
  m.push_back(lag);
  m.push_back(pending);
  m.push_back(incomplete);
  Metric shipped("aerodb_repl_shipped_commit", "The last CommitId shipped to the target.");
  Metric ship_lag("aerodb_repl_ship_lag_commits", "Applied minus shipped, per target.");
  for (const ShippedTarget& t : st.shipped) {
    const Labels l = {{"data_dir", in.data_dir}, {"target", t.target}};
    shipped.Sample(l, t.commit);
    ship_lag.Sample(l, t.lag);
  }
  m.push_back(shipped);
  m.push_back(ship_lag);
  Metric last("aerodb_repl_last_success_timestamp_seconds",
              "When the command last ended in 0, in seconds since the epoch (OPS-9).");
  for (const node::LastSuccess& s : in.last_success) {
    last.Sample({{"data_dir", in.data_dir}, {"command", s.command}}, s.unix_seconds);
  }
  m.push_back(last);
  std::string out;
  for (const Metric& x : m) x.AppendTo(&out);
  return out;
}

Status CheckMetricsPath(const std::string& data_dir, const std::string& file) {
  return node::RefuseInsideOwnFolder(data_dir, DirName(file), "--metrics", file);  // NODE-13
}

Status WriteMetrics(Fs& fs, const std::string& path, const std::string& text) {
  Status s = CheckParentDir(fs, path, "create the directory first, or give another --metrics FILE");
  // OPS-11: 9 only when FILE's directory does not exist; once it does, any
  // failure of the write is 10 (procfs refuses a new file with ENOENT).
  const Code code = !s.ok() && s.code() == Code::kNotFound ? Code::kNotFound : Code::kIo;
  if (s.ok()) s = WriteFileAtomically(fs, path, text, /*own_temp=*/true);  // OPS-11: temp, fsync, rename, fsync dir
  if (s.ok()) return s;
  return Status(code, Problem("metrics not written", path, s.message()),
                "the previous metrics file, if any, is unchanged; " +
                    (s.hint().empty() ? std::string("free space or fix permissions, then re-run")
                                      : s.hint()));
}

}  // namespace aero::repl
