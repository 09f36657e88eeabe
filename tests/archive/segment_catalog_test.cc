// formats/archive-directory.md: every entry of a directory of segments is
// classified with a reason (ARC-2); apply-wal, status and verify take the
// same segments and report the same skips, and verify's exit code is the
// one apply-wal gives (ARC-3); the shipped position has one parser that
// never throws (ARC-4).
#include <doctest/doctest.h>

#include "history/history_file.h"
#include "node/state.h"
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "archive/archive_format.h"
#include "archive/segment_catalog.h"
#include "node/shipped_position.h"
#include "repl/status.h"
#include "repl/verify.h"
#include "support/faulty_fs.h"
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

using Skips = std::set<std::pair<std::string, std::string>>;

Skips SkipsOf(const std::vector<archive::CatalogSkip>& v) {
  Skips out;
  for (const auto& k : v) out.insert({k.name, k.reason});
  return out;
}

Skips SkipsOf(const repl::VerifyReport& r, const std::string& dir) {
  Skips out;
  for (const auto& f : r.findings) {
    if (f.kind != "ignored") continue;
    CHECK(f.severity == repl::Severity::kNotice);
    const std::string name = f.subject.substr(dir.size() + 1);
    const std::string prefix = "ignored '" + f.subject + "': ";
    REQUIRE(f.message.rfind(prefix, 0) == 0);
    out.insert({name, f.message.substr(prefix.size())});
  }
  return out;
}

// An inbox of the segments of a 30-commit primary (at least 4), with one
// of every kind of entry that is not a segment.
struct Inbox {
  std::vector<std::string> segments;
  Skips expected;
};

Inbox MakeInbox(const TempDir& t) {
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 2500).ok());
  Inbox in;
  in.segments = Segments(t / "in");
  REQUIRE(in.segments.size() >= 4);
  const std::string in_dir = t / "in";
  // The second segment is not a file: moved out, a symlink to it in its place.
  const std::string second = in.segments[1];
  fsys::rename(in_dir + "/" + second, t / "elsewhere.seg");
  fsys::create_symlink(t / "elsewhere.seg", in_dir + "/" + second);
  in.expected.insert({second, std::string(archive::kReasonSymlink)});
  // A directory and a FIFO under segment names, beyond every commit.
  const std::string dir_name = segment::SegmentName(1, 900, 901);
  fsys::create_directory(in_dir + "/" + dir_name);
  in.expected.insert({dir_name, std::string(archive::kReasonDirectory)});
  const std::string fifo_name = segment::SegmentName(1, 902, 903);
  REQUIRE(::mkfifo((in_dir + "/" + fifo_name).c_str(), 0644) == 0);
  in.expected.insert({fifo_name, std::string(archive::kReasonNotRegular)});
  // Names a transport or an operator leaves: upper case, a suffix, a
  // partial copy, a hidden temp file, a history file, anything else.
  std::string upper = in.segments[2];
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper.replace(upper.size() - 4, 4, ".seg");
  fsys::copy(in_dir + "/" + in.segments[2], in_dir + "/" + upper);
  in.expected.insert({upper, std::string(archive::kReasonUpperCase)});
  fsys::copy(in_dir + "/" + in.segments[2], in_dir + "/" + in.segments[2] + ".partial");
  in.expected.insert({in.segments[2] + ".partial", "not a segment name: '.partial' after a segment name"});
  // A suffix that is also a snapshot archive's: the segment-name rule comes first.
  for (const char* sfx : {".tar", ".tar.zst", ".tzst"}) {
    fsys::copy(in_dir + "/" + in.segments[2], in_dir + "/" + in.segments[2] + sfx);
    in.expected.insert({in.segments[2] + sfx, std::string("not a segment name: '") + sfx + "' after a segment name"});
  }
  WriteFile(in_dir + "/." + in.segments[3] + ".x7Yz", "half");
  in.expected.insert({"." + in.segments[3] + ".x7Yz", std::string(archive::kReasonHidden)});
  // (A valid history file, of an epoch that begins beyond every segment
  // here: every reader reads it as the lineage, and it changes no outcome.)
  history::HistoryFile h;
  h.system_id = node::LoadIdentity(PosixFs(), t / "p")->system_id;
  h.epoch = 2;
  h.branch_commit = 1000;
  h.lineage = {{1, 0}, {2, 1000}};
  WriteFile(in_dir + "/00000002.history", history::EncodeHistoryFile(h));
  // A history file's name on a directory is skipped, with its reason.
  fsys::create_directory(in_dir + "/00000003.history");
  in.expected.insert({"00000003.history", std::string(archive::kReasonHistory)});
  WriteFile(in_dir + "/README", "x");
  in.expected.insert({"README", std::string(archive::kReasonOther)});
  return in;
}

}  // namespace

TEST_CASE("ARC-2 every entry that is not a segment is classified with its reason") {
  TempDir t;
  const Inbox in = MakeInbox(t);
  archive::PosixArchive a(PosixFs(), t / "in");
  auto c = archive::SegmentCatalog(a).List();
  REQUIRE(c.ok());
  CHECK(SkipsOf(c->skipped) == in.expected);
  // A regular history file is the lineage's, never "ignored".
  CHECK(c->history_files == std::vector<std::string>{"00000002.history"});
  // The segments, in apply order, are the regular files under SEG-2 names.
  std::vector<std::string> names;
  for (const auto& s : c->segments) names.push_back(s.name());
  std::vector<std::string> want = in.segments;
  want.erase(want.begin() + 1);
  CHECK(names == want);
  for (const auto& k : c->skipped) CHECK(k.temp == (k.name[0] == '.'));
  archive::PosixArchive absent(PosixFs(), t / "nowhere");
  CHECK(archive::SegmentCatalog(absent).List().status().code() == Code::kNotFound);
}

TEST_CASE("ARC-3 apply-wal, status and verify take the same segments, report the same skips, and agree on the exit code") {
  TempDir t;
  const Inbox in = MakeInbox(t);
  auto v = repl::Verify(PosixFs(), t / "in", {});
  REQUIRE(v.ok());
  CHECK(SkipsOf(*v, t / "in") == in.expected);
  repl::ApplyReport rep;
  const Status applied = Apply(t / "r", t / "in", &rep);
  CHECK(SkipsOf(rep.skipped) == in.expected);
  // The symlinked segment is missing for all three: a gap after the first.
  CHECK(applied.code() == Code::kGap);
  CHECK(v->outcome() == Code::kGap);
  auto st = repl::GetStatus(PosixFs(), t / "r", std::string(t / "in"));
  REQUIRE(st.ok());
  CHECK(SkipsOf(st->skipped) == in.expected);
  // Lag against the newest complete segment, which the symlink is not.
  auto last = segment::ParseSegmentName(in.segments.back());
  CHECK(*st->inbox->newest_commit == last->last_commit);
}

TEST_CASE("ARC-3 verify DIR exits with the code apply-wal gives, inbox by inbox") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "all").ok());
  REQUIRE(Ship(t / "p", t / "all", 2500).ok());
  const auto names = Segments(t / "all");
  REQUIRE(names.size() >= 4);
  // A segment of another database that starts beyond our commits.
  MakePrimary(t / "other", 40, 9);
  REQUIRE(PosixFs().MakeDir(t / "o-new").ok());
  REQUIRE(Ship(t / "other", t / "o-new", 2500).ok());
  std::string foreign;
  for (const auto& n : Segments(t / "o-new")) {
    if (segment::ParseSegmentName(n)->first_commit > 30 && foreign.empty()) foreign = n;
  }
  REQUIRE_FALSE(foreign.empty());
  size_t agreed = 0;
  auto check = [&](const std::string& label, const std::function<void(const std::string&)>& make) {
    CAPTURE(label);
    const std::string inbox = t / ("in-" + label);
    fsys::remove_all(inbox);
    fsys::create_directory(inbox);
    for (const auto& n : names) fsys::copy(t / "all" / n, inbox + "/" + n);
    make(inbox);
    auto v = repl::Verify(PosixFs(), inbox, {});
    REQUIRE(v.ok());
    fsys::remove_all(t / "r");
    const Status a = Apply(t / "r", inbox);
    CHECK(std::string(CodeName(v->outcome())) == std::string(CodeName(a.code())));
    ++agreed;
  };
  check("healthy", [](const std::string&) {});
  check("gap", [&](const std::string& d) { fsys::remove(d + "/" + names[1]); });
  check("in-transit", [&](const std::string& d) {
    TruncateFile(d + "/" + names.back(), 150);
  });
  check("corrupt", [&](const std::string& d) { FlipBitInFile(d + "/" + names[2], 300, 2); });
  check("gap-then-corrupt", [&](const std::string& d) {
    fsys::remove(d + "/" + names[1]);
    FlipBitInFile(d + "/" + names[3], 300, 2);
  });
  check("corrupt-then-in-transit", [&](const std::string& d) {
    FlipBitInFile(d + "/" + names[1], 300, 2);
    TruncateFile(d + "/" + names.back(), 150);
  });
  check("symlink", [&](const std::string& d) {
    fsys::rename(d + "/" + names[2], t / "moved.seg");
    fsys::create_symlink(t / "moved.seg", d + "/" + names[2]);
  });
  check("foreign", [&](const std::string& d) { fsys::copy(t / "o-new" / foreign, d + "/" + foreign); });
  check("foreign-after-gap", [&](const std::string& d) {
    fsys::remove(d + "/" + names.back());
    fsys::copy(t / "o-new" / foreign, d + "/" + foreign);
  });
  // LOG-7: a file past a gap is not judged by apply-wal (the gap first, no
  // halt), with or without a segment after it; verify's code is the gap's.
  auto past_gap = [&](const std::string& label, const std::function<void(const std::string&)>& damage,
                      Code want = Code::kGap) {
    for (bool later : {true, false}) {
      const std::string full = label + (later ? "" : "-last");
      check(full, [&](const std::string& d) {
        fsys::remove(d + "/" + names[1]);
        if (!later) {
          for (size_t i = 3; i < names.size(); ++i) fsys::remove(d + "/" + names[i]);
        }
        damage(d + "/" + names[2]);
      });
      CHECK(repl::Verify(PosixFs(), t / ("in-" + full), {})->outcome() == want);
      CHECK(FileExists(t / "r/replication/halt.json") == (want == Code::kRefused));
    }
  };
  past_gap("gap-then-header-flip", [](const std::string& f) { FlipBitInFile(f, 20, 1); });
  past_gap("gap-then-cut", [](const std::string& f) { TruncateFile(f, 100); });
  past_gap("gap-then-zero-tail", [](const std::string& f) {
    const std::string bytes = ReadFile(f);
    WriteFile(f, bytes.substr(0, bytes.size() - 60) + std::string(60, '\0'));
  });
  // LOG-11: another database's file never closes a gap: its header is read
  // and it halts (5), past a gap too; under a name its header contradicts,
  // it is damage, which waits for the gap.
  check("gap-then-foreign", [&](const std::string& d) {
    for (size_t i = 1; i < names.size(); ++i) fsys::remove(d + "/" + names[i]);
    fsys::copy(t / "o-new" / foreign, d + "/" + foreign);  // the first entry past the gap
  });
  CHECK(repl::Verify(PosixFs(), t / "in-gap-then-foreign", {})->outcome() == Code::kRefused);
  CHECK(FileExists(t / "r/replication/halt.json"));
  past_gap("gap-then-foreign-bytes", [&](const std::string& f) {
    WriteFile(f, ReadFile(t / "o-new" / foreign));  // another database's file under our name
  });
  // LOG-8: a segment whose commits an earlier one holds is taken by its
  // header; its body is never read, so body damage there leaves the code 0.
  REQUIRE(PosixFs().MakeDir(t / "big").ok());
  fsys::remove_all(t / "p/replication/shipped");
  REQUIRE(Ship(t / "p", t / "big").ok());  // one segment, commits 1..30
  const std::vector<std::string> big = Segments(t / "big");
  REQUIRE(big.size() == 1);
  auto duplicate = [&](const std::string& label, size_t at, Code want) {
    check(label, [&](const std::string& d) {
      for (const auto& n : names) fsys::remove(d + "/" + n);
      fsys::copy(t / "big" / big[0], d + "/" + big[0]);
      fsys::copy(t / "all" / names[2], d + "/" + names[2]);
      FlipBitInFile(d + "/" + names[2], at, 2);
    });
    auto v = repl::Verify(PosixFs(), t / ("in-" + label), {});
    CHECK(v->outcome() == want);
    CHECK(std::count_if(v->findings.begin(), v->findings.end(), [](const repl::Finding& f) {
            return f.kind == "damaged-duplicate";
          }) == (want == Code::kOk ? 1 : 0));
  };
  // A name no segment can have (first above last, epoch 0) past a gap: the gap.
  for (const std::string& odd : {std::string("00000001-00000000000000ff-0000000000000060.seg"),
                                 std::string("00000000-00000000000000ff-0000000000000100.seg")}) {
    check("odd-name-" + odd, [&](const std::string& d) {
      fsys::copy(t / "all" / names[2], d + "/" + odd);
    });
    CHECK(repl::Verify(PosixFs(), t / ("in-odd-name-" + odd), {})->outcome() == Code::kGap);
  }
  // Rows 3-5 come before the body: another database's file with a damaged
  // body, holding the replica's next commit (31), is foreign (5) for both,
  // not damage.
  std::string foreign_next;
  for (const auto& n : Segments(t / "o-new")) {
    const auto info = segment::ParseSegmentName(n);
    if (info->first_commit <= 31 && info->last_commit >= 31) foreign_next = n;
  }
  REQUIRE_FALSE(foreign_next.empty());
  check("foreign-next-body-flip", [&](const std::string& d) {
    fsys::copy(t / "o-new" / foreign_next, d + "/" + foreign_next, fsys::copy_options::overwrite_existing);
    FlipBitInFile(d + "/" + foreign_next, 400, 1);
  });
  CHECK(repl::Verify(PosixFs(), t / "in-foreign-next-body-flip", {})->outcome() == Code::kRefused);
  duplicate("duplicate-body-flip", 300, Code::kOk);
  duplicate("duplicate-header-flip", 20, Code::kDamage);  // row 2 before row 7: apply halts
  MESSAGE("inboxes where verify and apply-wal agree: " << agreed);
  CHECK(agreed == 23);
}

TEST_CASE("ARC-3 verify DIR and apply-wal give one exit code over every cut and a spread of bit flips of a segment") {
  // The damaged-segment corpus of the SEG tests, judged by both: for each
  // input, verify's exit on the inbox equals apply-wal's on a new replica.
  TempDir t;
  MakePrimary(t / "p", 12);
  size_t agreed = 0, by_code[16] = {};
  for (bool zstd : {false, true}) {
    CAPTURE(zstd);
    const std::string all = t / (zstd ? "all-z" : "all");
    REQUIRE(PosixFs().MakeDir(all).ok());
    fsys::remove_all(t / "p/replication/shipped");
    REQUIRE(Ship(t / "p", all, 1200, zstd).ok());
    const auto names = Segments(all);
    REQUIRE(names.size() >= 3);
    const std::string victim = names[1];  // the middle one: applied after a good one
    const std::string good = ReadFile(all + "/" + victim);
    auto judge = [&](const std::string& bytes) {
      const std::string inbox = t / "in";
      fsys::remove_all(inbox);
      fsys::create_directory(inbox);
      for (const auto& n : names) fsys::copy(all + "/" + n, inbox + "/" + n);
      WriteFile(inbox + "/" + victim, bytes);
      auto v = repl::Verify(PosixFs(), inbox, {});
      REQUIRE(v.ok());
      fsys::remove_all(t / "r");
      const Status a = Apply(t / "r", inbox);
      CAPTURE(a.ToString());
      CHECK(std::string(CodeName(v->outcome())) == std::string(CodeName(a.code())));
      ++agreed;
      ++by_code[ExitCodeOf(a.code()) & 15];
    };
    for (size_t cut = 0; cut < good.size(); cut += 13) judge(good.substr(0, cut));
    for (size_t at = 0; at < good.size(); at += 19) {
      std::string flipped = good;
      FlipBit(&flipped, at, static_cast<int>(at % 8));
      judge(flipped);
    }
    judge(good + "x");  // longer than declared
  }
  MESSAGE("inputs where verify and apply-wal agree: " << agreed << " (exit 0: " << by_code[0]
                                                      << ", 1: " << by_code[1] << ", 8: "
                                                      << by_code[8] << ")");
}

TEST_CASE("ARC-3 two histories in one inbox are diverged (4) for verify, as for apply-wal") {
  TempDir t;
  MakePrimary(t / "p", 20);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 10, 2);  // p: 21..30 one way
  Write(t / "q", 10, 3);  // q: 21..30 another
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  REQUIRE(Ship(t / "p", t / "a", 2500).ok());  // p in small segments
  REQUIRE(Ship(t / "q", t / "b").ok());        // q: one segment 1..30
  for (const auto& n : Segments(t / "b")) fsys::copy(t / "b" / n, t / "a" / n);
  auto v = repl::Verify(PosixFs(), t / "a", {});
  REQUIRE(v.ok());
  int diverged = 0;
  for (const auto& f : v->findings) diverged += f.kind == "diverged";
  CHECK(diverged >= 1);
  CHECK(v->outcome() == Code::kDiverged);
  const Status a = Apply(t / "r", t / "a");
  CHECK(a.code() == Code::kDiverged);
}

TEST_CASE("ARC-4 a shipped position that is mistyped, truncated or over-long is damage (1), never an exception") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::string dir = t / "p/replication/shipped";
  std::string file;
  for (const auto& e : fsys::directory_iterator(dir)) {
    if (e.path().extension() == ".json") file = e.path();
  }
  REQUIRE_FALSE(file.empty());
  const std::string good = ReadFile(file);
  REQUIRE(node::ParseShippedPosition(good, file).ok());
  const nlohmann::json j = nlohmann::json::parse(good);
  std::vector<std::pair<std::string, std::string>> bad;
  for (const auto& [key, value] : j.items()) {
    for (const nlohmann::json& wrong : {nlohmann::json("2"), nlohmann::json(-1), nlohmann::json(1.5),
                                        nlohmann::json(nullptr), nlohmann::json::array(),
                                        nlohmann::json::object(), nlohmann::json(true)}) {
      if (wrong.type() == value.type() && key != "epoch") continue;
      nlohmann::json m = j;
      m[key] = wrong;
      bad.push_back({key + "=" + wrong.dump(), m.dump()});
    }
    nlohmann::json m = j;
    m.erase(key);
    // last_set is optional (LOG-24: positions written before it lack it).
    if (key != "last_set") bad.push_back({"without " + key, m.dump()});
  }
  for (size_t cut : {size_t{0}, size_t{1}, good.size() / 2, good.size() - 2}) {
    bad.push_back({"cut at " + std::to_string(cut), good.substr(0, cut)});
  }
  bad.push_back({"over 64 KiB", good + std::string(70000, ' ')});
  bad.push_back({"a number too large", std::string(good).replace(good.find("\"commit\": ") + 10, 1, "99999999999999999999999")});
  size_t refused = 0;
  for (const auto& [label, text] : bad) {
    CAPTURE(label);
    WriteFile(file, text);
    // status reports it (1); ship-wal refuses it (1); neither throws.
    auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
    REQUIRE(st.ok());
    CHECK(st->outcome() == Code::kDamage);
    const Status shipped = Ship(t / "p", t / "out");
    CHECK(shipped.code() == Code::kDamage);
    CHECK(shipped.message().find(file) != std::string::npos);
    ++refused;
  }
  MESSAGE("hostile shipped positions refused: " << refused);
  WriteFile(file, good);
  CHECK(Ship(t / "p", t / "out").ok());
}

TEST_CASE("ARC-1 PosixArchive publishes exclusively and durably, and lists entries as they are") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  FaultyFs fs;
  archive::PosixArchive a(fs, t / "a");
  auto write_temp = [&](const std::string& name, const std::string& bytes) {
    auto f = fs.OpenWrite(t / "a" / name, OpenMode::kCreateExclusive);
    REQUIRE(f.ok());
    REQUIRE((*f)->Append(bytes).ok());
    REQUIRE((*f)->Sync().ok());
    REQUIRE((*f)->Close().ok());
  };
  write_temp(".one.tmp", "first");
  REQUIRE(a.PublishExclusive(t / "a/.one.tmp", "one").ok());
  REQUIRE(a.MakeDurable().ok());
  // Exclusive: a second publish under the name is refused, nothing replaced.
  write_temp(".two.tmp", "second");
  CHECK(a.PublishExclusive(t / "a/.two.tmp", "one").code() == Code::kRefused);
  CHECK(ReadFile(t / "a/one") == "first");
  // Durable: what MakeDurable covered survives a power loss.
  fs.PowerLoss();
  CHECK(ReadFile(t / "a/one") == "first");
  fsys::create_symlink(t / "a/one", t / "a/link");
  fsys::create_directory(t / "a/dir");
  auto listed = a.List();
  REQUIRE(listed.ok());
  std::map<std::string, archive::ArchiveEntry::Type> types;
  for (const auto& e : *listed) types[e.name] = e.type;
  CHECK(types["one"] == archive::ArchiveEntry::Type::kFile);
  CHECK(types["link"] == archive::ArchiveEntry::Type::kSymlink);
  CHECK(types["dir"] == archive::ArchiveEntry::Type::kDirectory);
  REQUIRE(a.Remove("link").ok());
  CHECK_FALSE(FileExists(t / "a/link"));
}

TEST_CASE("LOG-29 segments are taken in one total order: first commit, then the newest epoch, then the shorter range") {
  TempDir t;
  // The order itself, from names alone (the catalog opens no file): not
  // the names' own order, which puts the epoch first.
  REQUIRE(PosixFs().MakeDir(t / "names").ok());
  const std::vector<std::string> want = {
      segment::SegmentName(1, 1, 5),  segment::SegmentName(1, 1, 10), segment::SegmentName(3, 6, 7),
      segment::SegmentName(2, 6, 8),  segment::SegmentName(2, 6, 12), segment::SegmentName(1, 6, 20),
      segment::SegmentName(1, 11, 11), segment::SegmentName(2, 13, 14)};
  for (auto it = want.rbegin(); it != want.rend(); ++it) WriteFile(t / "names" / *it, "");
  archive::PosixArchive listed(PosixFs(), t / "names");
  auto c = archive::SegmentCatalog(listed).List();
  REQUIRE(c.ok());
  std::vector<std::string> got;
  for (const auto& s : c->segments) got.push_back(s.name());
  CHECK(got == want);

  // Two cuts of one range (the same first commit and epoch): the shorter
  // first, so apply-wal appends it and then checks the longer one as an
  // overlap at its end (row 8); the other way round the shorter would be a
  // duplicate inside write sets this run appended, skipped as not-checked.
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "small").ok());
  REQUIRE(PosixFs().MakeDir(t / "whole").ok());
  REQUIRE(Ship(t / "p", t / "small", 2500).ok());
  REQUIRE(Ship(t / "p", t / "whole", 1u << 30).ok());  // a new target: 1..30 in one segment
  const std::string cut = Segments(t / "small").at(0);
  const std::string whole = Segments(t / "whole").at(0);
  const uint64_t l1 = segment::ParseSegmentName(cut)->last_commit;
  REQUIRE(segment::ParseSegmentName(whole)->first_commit == 1);
  REQUIRE(segment::ParseSegmentName(whole)->last_commit == 30);
  REQUIRE(l1 < 30);
  REQUIRE(PosixFs().MakeDir(t / "cuts").ok());
  fsys::copy(t / "small" / cut, t / "cuts" / cut);
  fsys::copy(t / "whole" / whole, t / "cuts" / whole);
  repl::ApplyReport cuts;
  REQUIRE(Apply(t / "r", t / "cuts", &cuts).ok());
  REQUIRE(cuts.segments.size() == 2);
  CHECK(cuts.segments[0].name() == cut);
  CHECK(cuts.segments[0].outcome == "applied");
  CHECK(cuts.segments[0].applied_to == l1);
  CHECK(cuts.segments[1].name() == whole);
  CHECK(cuts.segments[1].outcome == "applied");
  CHECK(cuts.segments[1].applied_from == l1 + 1);
  CHECK(cuts.segments[1].applied_to == 30);
  CheckSameHistory(t / "p", t / "r");

  // One first commit in two epochs: the newest epoch first. The old primary
  // wrote 31..35 of epoch 1 after the promotion at 30 and shipped them to an
  // outbox of its own; epoch 2's first segment also starts at 31. Without
  // epoch 2's history file the replica waits at epoch 2's segment (row 4)
  // and appends nothing of epoch 1's 31..35 (in the other order it would
  // apply them, to be halted as diverged once the history file came, FM-46).
  const std::string f = t / "f";
  REQUIRE(PosixFs().MakeDir(f).ok());
  MakeFailover(f, {.second_replica = true});
  REQUIRE(PosixFs().MakeDir(f + "/old").ok());
  REQUIRE(ShipInto(f + "/p", f + "/old").ok());
  for (const std::string& n : Segments(f + "/old")) fsys::remove(f + "/old/" + n);
  Write(f + "/p", 5, 8);
  REQUIRE(ShipInto(f + "/p", f + "/old", 1u << 30).ok());
  const std::vector<std::string> old = Segments(f + "/old");
  REQUIRE(old.size() == 1);
  REQUIRE(segment::ParseSegmentName(old[0])->first_commit == 31);
  REQUIRE(PosixFs().MakeDir(f + "/in").ok());
  bool epoch2_at_31 = false;
  for (const std::string& n : Segments(f + "/arch")) {
    fsys::copy(f + "/arch/" + n, f + "/in/" + n);
    const auto info = segment::ParseSegmentName(n);
    epoch2_at_31 = epoch2_at_31 || (info->epoch == 2 && info->first_commit == 31);
  }
  REQUIRE(epoch2_at_31);
  fsys::copy(f + "/old/" + old[0], f + "/in/" + old[0]);
  repl::ApplyReport waiting;
  const Status s = Apply(f + "/r2", f + "/in", &waiting);
  CHECK(s.code() == Code::kInTransit);
  CHECK(s.message().find("history file in transit '" + f + "/in/00000002.history'") == 0);
  CHECK(StateOf(f + "/r2").applied_commit == 30);
  CHECK(StateOf(f + "/r2").epoch == 1);
  for (const auto& seg : waiting.segments) CHECK(seg.outcome != "applied");
  // The history file arrives: epoch 2 is followed, epoch 1's 31..35 skipped.
  fsys::copy(f + "/arch/00000002.history", f + "/in/00000002.history");
  repl::ApplyReport followed;
  REQUIRE(Apply(f + "/r2", f + "/in", &followed).ok());
  CHECK(StateOf(f + "/r2").epoch == 2);
  bool superseded = false;
  for (const auto& seg : followed.segments) superseded = superseded || (seg.name() == old[0] && seg.outcome == "superseded");
  CHECK(superseded);
  CheckSameHistory(f + "/r", f + "/r2");
}

TEST_CASE("LOG-33 a catalog entry's name is derived from its range") {
  // The entry holds no copy of the listed name: name() must give back the
  // very name listed, for every width of the fields, or every reader would
  // open another file than the one it classified.
  TempDir t;
  fsys::create_directories(t / "in");
  const std::vector<std::string> names = {
      "00000001-0000000000000001-0000000000000001.seg",
      "00000002-00000000000000ff-0000000000000100.seg",
      "ffffffff-0000000000abcdef-fffffffffffffffe.seg",
      "0000abcd-7fffffffffffffff-ffffffffffffffff.seg",
      "00000003-0000000000000010-0000000000000020.seg",  // five: a doubling vector would hold 8
  };
  for (const std::string& n : names) WriteFile(t / "in" / n, "x");
  archive::PosixArchive a(PosixFs(), t / "in");
  auto c = archive::SegmentCatalog(a).List();
  REQUIRE(c.ok());
  REQUIRE(c->segments.size() == names.size());
  std::set<std::string> got;
  for (const auto& s : c->segments) got.insert(s.name());
  CHECK(got == std::set<std::string>(names.begin(), names.end()));
}

namespace {

// PosixFs whose vector listing fails: only a reader that takes the
// directory entry by entry (ListDirEach) gets through.
class NoVectorListingFs final : public testing::ForwardingFs {
 public:
  Result<std::vector<DirEntry>> ListDir(const std::string& dir) override {
    return Status(Code::kIo, Problem("listed as one vector", dir, "LOG-33"));
  }
  Status ListDirEach(const std::string& dir, const std::function<bool(DirEntry&)>& each) override {
    return PosixFs().ListDirEach(dir, each);
  }
};

// A directory archive whose List() (the sorted vector) fails: only a
// reader that takes its entries one at a time (ListEach) gets through.
class NoVectorArchive final : public archive::Archive {
 public:
  NoVectorArchive(Fs& fs, const std::string& dir) : real_(fs, dir) {}
  const std::string& location() const override { return real_.location(); }
  Result<std::vector<archive::ArchiveEntry>> List() override {
    return Status(Code::kIo, Problem("listed as one vector", real_.location(), "LOG-33"));
  }
  Status ListEach(const std::function<bool(archive::ArchiveEntry&)>& each) override { return real_.ListEach(each); }
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& n) override { return real_.OpenRead(n); }
  Status PublishExclusive(const std::string& t, const std::string& n) override { return real_.PublishExclusive(t, n); }
  Status Replace(const std::string& t, const std::string& n) override { return real_.Replace(t, n); }
  Status Remove(const std::string& n) override { return real_.Remove(n); }
  Status MakeDurable() override { return real_.MakeDurable(); }
  std::string PathOf(const std::string& n) const override { return real_.PathOf(n); }

 private:
  archive::PosixArchive real_;
};

}  // namespace

TEST_CASE("LOG-33 a catalog reads its directory entry by entry, never as one vector of names") {
  TempDir t;
  const Inbox in = MakeInbox(t);
  for (const char* h : {"00000009.history", "00000007.history", "00000008.history"}) WriteFile(t / "in" / h, "");
  NoVectorListingFs fs;
  NoVectorArchive a(fs, t / "in");
  auto c = archive::SegmentCatalog(a).List();
  REQUIRE(c.ok());
  // The same catalog a sorted listing gives: segments in apply order, the
  // other lists by name.
  archive::PosixArchive sorted(PosixFs(), t / "in");
  auto want = archive::SegmentCatalog(sorted).List();
  REQUIRE(want.ok());
  CHECK(SkipsOf(c->skipped) == in.expected);
  std::vector<std::string> got_names, want_names, got_skips, want_skips;
  for (const auto& s : c->segments) got_names.push_back(s.name());
  for (const auto& s : want->segments) want_names.push_back(s.name());
  for (const auto& k : c->skipped) got_skips.push_back(k.name);
  for (const auto& k : want->skipped) want_skips.push_back(k.name);
  CHECK(got_names == want_names);
  CHECK(got_skips == want_skips);
  CHECK(std::is_sorted(got_skips.begin(), got_skips.end()));
  CHECK(c->history_files == want->history_files);
  CHECK(c->history_files.size() == 4);
  CHECK(std::is_sorted(c->history_files.begin(), c->history_files.end()));
  CHECK(c->sidecars == want->sidecars);
  // A listing that fails part-way is the catalog's error, not a shorter
  // catalog (FM-139).
  class FailingAfterTwo final : public testing::ForwardingFs {
   public:
    Status ListDirEach(const std::string& dir, const std::function<bool(DirEntry&)>& each) override {
      int n = 0;
      Status s = PosixFs().ListDirEach(dir, [&](DirEntry& e) { return ++n <= 2 && each(e); });
      (void)s;
      return Status(Code::kIo, Problem("cannot list directory", dir, "Input/output error"));
    }
  } failing;
  archive::PosixArchive broken(failing, t / "in");
  CHECK(archive::SegmentCatalog(broken).List().status().code() == Code::kIo);
}
