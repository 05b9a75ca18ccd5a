// Every JSON and CSV output is machine-readable (issue "Finance and insight"): each
// format of each report and export command, on a simulated ledger with a closed month
// (so adjustment lines appear), parsed back strictly and checked for types: CSV is RFC
// 4180 with one field per header in every row, each column has one type (a column with
// a number holds only numbers or empty cells), no cell carries a unit ("77.8 %",
// "GPU-h"); JSON parses, its keys are snake_case, and no string value is a number with
// a unit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "report/close.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

constexpr TimeMs kNow = 1794744000000;  // 2026-11-15T12:00:00Z

using Table = std::vector<std::vector<std::string>>;

// RFC 4180 strictly; fails the test on a stray quote or a record without its line end.
Table ParseCsv(const std::string& text, const std::string& what) {
  Table rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty() && !quoted) << what << ": stray quote at byte " << i;
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
      rows.push_back(std::move(row));
      row.clear();
    } else {
      EXPECT_FALSE(quoted) << what << ": text after a closing quote at byte " << i;
      field += c;
    }
  }
  EXPECT_FALSE(in_quotes) << what;
  EXPECT_TRUE(row.empty() && field.empty()) << what << ": the last record has no line end";
  return rows;
}

// Each pattern is compiled once: a series CSV has thousands of cells, and building a
// std::regex per cell made this suite take minutes under ASan.
bool IsNumber(const std::string& v) {
  static const std::regex kNumber(R"(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  return std::regex_match(v, kNumber);
}

// A value that is a number with a unit or a percent sign: what machines cannot read.
bool HasUnit(const std::string& v) {
  static const std::regex kWithUnit(R"(-?[0-9][0-9,.]*\s*(%|GPU-h|GiB|kWh|h))");
  return std::regex_match(v, kWithUnit);
}

void CheckCsv(const std::string& text, const std::string& what, bool snake_case_header) {
  const Table t = ParseCsv(text, what);
  ASSERT_GE(t.size(), 2u) << what << " has no data rows:\n" << text;
  const std::vector<std::string>& head = t[0];
  for (const std::string& h : head) {
    EXPECT_FALSE(h.empty()) << what;
    if (snake_case_header) {
      static const std::regex kHeader("[a-z][a-z0-9_-]*");
      EXPECT_TRUE(std::regex_match(h, kHeader)) << what << ": " << h;
    }
  }
  std::vector<bool> numeric(head.size(), false);
  for (size_t r = 1; r < t.size(); ++r) {
    ASSERT_EQ(t[r].size(), head.size()) << what << " row " << r;
    for (size_t c = 0; c < head.size(); ++c) {
      EXPECT_FALSE(HasUnit(t[r][c])) << what << " " << head[c] << " = " << t[r][c];
      if (IsNumber(t[r][c])) numeric[c] = true;
    }
  }
  for (size_t c = 0; c < head.size(); ++c) {
    if (!numeric[c]) continue;
    for (size_t r = 1; r < t.size(); ++r) {
      const std::string& v = t[r][c];
      EXPECT_TRUE(v.empty() || IsNumber(v))
          << what << ": column " << head[c] << " mixes numbers and '" << v << "'";
    }
  }
}

void CheckJson(const nlohmann::json& j, const std::string& path, const std::string& what) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      static const std::regex kKey("[a-z][a-z0-9_]*");
      EXPECT_TRUE(std::regex_match(k, kKey)) << what << ": key " << path << "." << k;
      // Tags and labels are the jobs' own keys, not ours.
      if (k != "labels" && k != "tags") CheckJson(v, path + "." + k, what);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) CheckJson(j[i], path + "[" + std::to_string(i) + "]", what);
  } else if (j.is_string()) {
    EXPECT_FALSE(HasUnit(j.get<std::string>())) << what << ": " << path << " = " << j.get<std::string>();
  } else if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << what << ": " << path;
  }
}

// Every object with a density carries what it is made of: density is dense / covered
// GPU-hours where some time was covered, and null (never 0) where none was.
void CheckDensityParts(const nlohmann::json& j, const std::string& path, const std::string& what) {
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) CheckDensityParts(j[i], path + "[" + std::to_string(i) + "]", what);
    return;
  }
  if (!j.is_object()) return;
  for (const auto& [k, v] : j.items()) CheckDensityParts(v, path + "." + k, what);
  if (!j.contains("density")) return;
  ASSERT_TRUE(j.contains("covered_gpu_hours") && j.contains("dense_gpu_hours")) << what << ": " << path;
  const double covered = j["covered_gpu_hours"].get<double>(), dense = j["dense_gpu_hours"].get<double>();
  if (covered > 0) {
    ASSERT_TRUE(j["density"].is_number()) << what << ": " << path << " " << j.dump();
    EXPECT_NEAR(j["density"].get<double>(), dense / covered, 1e-9) << what << ": " << path;
  } else {
    EXPECT_TRUE(j["density"].is_null()) << what << ": " << path << " has no covered time: " << j.dump();
  }
}

class MachineReadable : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    db_ = dir_->path() + "/sim.db";
    SimOptions o;
    o.seed = 7;
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 1;
    o.a100_nodes = 1;
    o.gpus_per_node = 4;
    o.load = 0.4;
    auto sim = testing::LoadSimulationCached(db_, o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    auto ctx = LoadBooksContext(*sim->ledger);
    ASSERT_TRUE(ctx.ok());
    // September closed, then a late job for it: October carries adjustment lines.
    AuditEntry who;
    who.role = "cli";
    who.action = "close month";
    ASSERT_TRUE(CloseMonth(*sim->ledger, *ctx, {2026, 9}, kNow, who).ok());
    gpu_ = sim->cluster.gpus.front().uuid;
    // A late job in a September gap of some GPU: its cost moves out of September's
    // unallocated line, through adjustment lines of October.
    const TimeMs sep10 = 1788998400000;  // 2026-09-10T00:00:00Z
    bool placed = false;
    for (const Gpu& g : sim->cluster.gpus) {
      for (TimeMs t = sep10; t < sep10 + 15 * kDayMs && !placed; t += kHourMs) {
        const Window w{t, t + 3 * kHourMs};
        bool free = true;
        for (const Allocation& a : sim->cluster.allocations) {
          if (a.gpu_uuid == g.uuid && a.window().start < w.end && w.start < a.window().end) free = false;
        }
        if (!free) continue;
        Job late;
        late.id = "late-september-job";
        late.user = "late-user";
        late.project = "late-project";
        late.department = "late-department";
        late.status = JobStatus::kSucceeded;
        late.start_ms = t;
        late.end_ms = t + 2 * kHourMs;
        ASSERT_TRUE(sim->ledger->PutJobs({late}).ok());
        ASSERT_TRUE(sim->ledger->PutAllocations({{late.id, g.uuid, t, t + 2 * kHourMs, kFullShare}}).ok());
        placed = true;
      }
      if (placed) break;
    }
    ASSERT_TRUE(placed) << "no free 3-hour gap in September";
    for (const Job& j : sim->cluster.jobs) {
      if (j.end_ms != 0) job_ = j.id;
    }
    ASSERT_FALSE(job_.empty());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Run(std::vector<std::string> args) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    const SimulatedClock clock(kNow);
    const int rc = RunCli(static_cast<int>(argv.size()), argv.data(), clock, o, e);
    EXPECT_EQ(rc, 0) << ::testing::PrintToString(args) << ": " << e.str();
    return o.str();
  }

  static testing::TempDir* dir_;
  static std::string db_, gpu_, job_;
};
testing::TempDir* MachineReadable::dir_ = nullptr;
std::string MachineReadable::db_, MachineReadable::gpu_, MachineReadable::job_;

TEST_F(MachineReadable, EveryCsvParsesWithOneTypePerColumn) {
  for (const char* month : {"2026-09", "2026-10"}) {
    for (const char* by :
         {"department", "project", "user", "model", "image", "framework", "gpu-model", "job"}) {
      const std::string what = std::string("report ") + month + " by " + by;
      CheckCsv(Run({"report", "--db", db_, "--month", month, "--by", by, "--format", "csv"}), what, true);
      CheckCsv(Run({"export", "--db", db_, "--month", month, "--by", by, "--format", "csv"}),
               "export " + what, true);
    }
    CheckCsv(Run({"jobs", "--db", db_, "--month", month, "--format", "csv"}), std::string("jobs ") + month,
             true);
    CheckCsv(Run({"export", "--db", db_, "--month", month, "--format", "focus"}),
             std::string("focus ") + month, false);
    CheckCsv(Run({"export", "--db", db_, "--month", month, "--format", "csv", "--desensitised"}),
             std::string("desensitised ") + month, true);
    CheckCsv(Run({"series", "--db", db_, "--gpu", gpu_, "--month", month, "--format", "csv"}),
             std::string("series ") + month, true);
  }
}

TEST_F(MachineReadable, EveryJsonParsesWithSnakeCaseKeysAndNumbersAsNumbers) {
  std::vector<std::pair<std::string, std::vector<std::string>>> commands;
  for (const char* month : {"2026-09", "2026-10"}) {
    for (const char* by : {"department", "user", "job", "gpu-model"}) {
      commands.push_back({std::string("report ") + month + " " + by,
                          {"report", "--db", db_, "--month", month, "--by", by, "--format", "json"}});
      commands.push_back({std::string("export ") + month + " " + by,
                          {"export", "--db", db_, "--month", month, "--by", by, "--format", "json"}});
    }
    commands.push_back(
        {std::string("jobs ") + month, {"jobs", "--db", db_, "--month", month, "--format", "json"}});
    commands.push_back({std::string("series ") + month,
                        {"series", "--db", db_, "--gpu", gpu_, "--month", month, "--format", "json"}});
  }
  commands.push_back({"leaderboard", {"leaderboard", "--db", db_, "--format", "json"}});
  commands.push_back({"months", {"months", "--db", db_, "--format", "json"}});
  for (const char* by : {"image", "framework", "model"}) {
    commands.push_back({std::string("compare ") + by, {"compare", "--db", db_, "--by", by, "--format", "json"}});
  }
  commands.push_back({"trends", {"trends", "--db", db_, "--format", "json"}});
  commands.push_back({"statement", {"statement", "--db", db_, "--project", "pcb-solder-qc", "--month", "2026-10",
                                    "--format", "json"}});
  commands.push_back({"job report", {"job", "report", "--db", db_, "--id", job_, "--format", "json"}});
  commands.push_back({"audit", {"admin", "audit", "list", "--db", db_, "--format", "json"}});
  for (const auto& [what, args] : commands) {
    const std::string out = Run(args);
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(out)) << what << ":\n" << out.substr(0, 400);
    CheckJson(j, "", what);
    if (what.rfind("series", 0) != 0) CheckDensityParts(j, "", what);
  }
  // Money is an exact decimal string; fractions are numbers in 0..1.
  const auto e =
      nlohmann::json::parse(Run({"export", "--db", db_, "--month", "2026-10", "--format", "json"}));
  bool adjustment = false;
  for (const auto& l : e["lines"]) {
    EXPECT_TRUE(l["cost"].is_null() || IsNumber(l["cost"].get<std::string>()));
    adjustment = adjustment || l["line_kind"] == "adjustment";
    if (l["line_kind"] == "adjustment") {  // money only: no time, so no density
      EXPECT_TRUE(l["density"].is_null()) << l.dump();
      continue;
    }
    EXPECT_TRUE(l["density"].is_number()) << l.dump();
    EXPECT_LE(l["density"].get<double>(), 1.0);
  }
  const auto m = nlohmann::json::parse(Run({"months", "--db", db_, "--format", "json"}));
  int closed = 0;
  for (const auto& month : m["months"]) {
    EXPECT_TRUE(month["state"] == "open" || month["state"] == "closed") << month;
    if (month["state"] == "closed") {
      ++closed;
      EXPECT_EQ(month["month"], "2026-09");
      EXPECT_TRUE(IsNumber(month["total"].get<std::string>()));
    }
  }
  EXPECT_EQ(closed, 1);
  EXPECT_TRUE(adjustment) << "October carries the late September job as adjustment lines";
}

}  // namespace
}  // namespace gpuledger
