// Version and variant comparison and behaviour over time (report/compare.h, trends.h,
// docs/INSIGHT.md) on a simulated ledger: the comparison reproduces the differences the
// simulator built in (a tuned "opt" image trains 1.35x faster than its "base" twin; from
// ultralytics 8.0.200 an epoch takes 0.77 of 8.0.120's; the pruned model's memory is lower and fits several
// to one A10G); its money reconciles with the books; scopes hold only their runs; the trends count what the
// simulator made.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "report/compare.h"
#include "report/statement.h"
#include "report/trends.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

constexpr TimeMs kAsOf = 1794744000000;  // 2026-11-15T12:00:00Z, after the simulated span

class Insight : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    db_ = dir_->path() + "/sim.db";
    SimOptions o;
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 2;
    o.a100_nodes = 1;
    auto sim = testing::LoadSimulationCached(db_, o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = new testing::SimLedger(std::move(*sim));
    ASSERT_TRUE(sim_->ledger->PutJobGpuMemory(SimulateJobMemory(sim_->cluster)).ok());
    auto ctx = LoadBooksContext(*sim_->ledger);
    ASSERT_TRUE(ctx.ok());
    ctx_ = new BooksContext(*ctx);
  }
  static void TearDownTestSuite() {
    delete ctx_;
    delete sim_;
    delete dir_;
  }
  static Comparison Compare(CompareBy by, const ReportScope& scope = {}) {
    CompareOptions o;
    o.by = by;
    o.scope = scope;
    auto c = BuildComparison(*sim_->ledger, *ctx_, o, kAsOf);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Comparison{};
  }
  static const VariantRow* Row(const Comparison& c, const std::string& key) {
    for (const VariantRow& r : c.rows) {
      if (r.key == key) return &r;
    }
    return nullptr;
  }
  static std::string Cli(std::vector<std::string> args, int want_rc = 0) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    const SimulatedClock clock(kAsOf);
    EXPECT_EQ(RunCli(static_cast<int>(argv.size()), argv.data(), clock, o, e), want_rc) << e.str();
    return want_rc == 0 ? o.str() : e.str();
  }

  static testing::TempDir* dir_;
  static std::string db_;
  static testing::SimLedger* sim_;
  static BooksContext* ctx_;
};
testing::TempDir* Insight::dir_ = nullptr;
std::string Insight::db_;
testing::SimLedger* Insight::sim_ = nullptr;
BooksContext* Insight::ctx_ = nullptr;

TEST_F(Insight, TheTunedImageTrainsFasterThanItsBaseTwinAfterNormalisation) {
  const Comparison c = Compare(CompareBy::kImage);
  int pairs = 0;
  for (const VariantRow& opt : c.rows) {
    const size_t at = opt.key.find("-opt-");
    if (at == std::string::npos) continue;
    const std::string base_key = opt.key.substr(0, at) + "-base-" + opt.key.substr(at + 5);
    const VariantRow* base = Row(c, base_key);
    if (base == nullptr || opt.runs_timed < 5 || base->runs_timed < 5) continue;
    ASSERT_TRUE(opt.norm_epoch_s && base->norm_epoch_s);
    const double ratio = *opt.norm_epoch_s / *base->norm_epoch_s;
    // Built in: untuned runs take 1.35x as long (ratio 0.74); models, datasets, image
    // sizes and GPUs differ between the two groups and are normalised away.
    EXPECT_GT(ratio, 0.6) << opt.key << " vs " << base_key;
    EXPECT_LT(ratio, 0.88) << opt.key << " vs " << base_key;
    ++pairs;
  }
  EXPECT_GE(pairs, 2);
}

TEST_F(Insight, FrameworkVersionsFrom8_0_200TrainFasterAndHoldMostGpuHours) {
  const Comparison c = Compare(CompareBy::kFramework);
  const VariantRow* old = Row(c, "ultralytics==8.0.120");
  ASSERT_NE(old, nullptr);
  ASSERT_TRUE(old->norm_epoch_s);
  double newer_hours = 0, all_hours = 0;
  int newer = 0;
  for (const VariantRow& r : c.rows) {
    all_hours += r.gpu_hours;
    if (r.key == old->key) continue;
    ++newer;
    newer_hours += r.gpu_hours;
    ASSERT_TRUE(r.norm_epoch_s) << r.key;
    // Built in: from 8.0.200 an epoch takes 0.77 of 8.0.120's; models, datasets, image
    // sizes, recipes and GPUs differ between the groups and are normalised or averaged away.
    const double ratio = *r.norm_epoch_s / *old->norm_epoch_s;
    EXPECT_GT(ratio, 0.65) << r.key;
    EXPECT_LT(ratio, 0.9) << r.key;
  }
  EXPECT_EQ(newer, 3);
  // Three of four runs pin a newer version and those run shorter: about 70 % of the hours
  // (the article's 68 %), never the three quarters an equal speed would give.
  EXPECT_GT(newer_hours / all_hours, 0.55);
  EXPECT_LT(newer_hours / all_hours, 0.75);
}

TEST_F(Insight, ThePrunedModelUsesLessMemoryAndSeveralFitOneA10G) {
  const Comparison c = Compare(CompareBy::kModel);
  const VariantRow* pruned = Row(c, "custom-pruned-v10");
  const VariantRow* full = Row(c, "yolov10s");
  ASSERT_NE(pruned, nullptr);
  ASSERT_NE(full, nullptr);
  ASSERT_TRUE(pruned->typical_mem_gib && full->typical_mem_gib && pruned->peak_mem_gib && full->peak_mem_gib);
  EXPECT_LT(*pruned->typical_mem_gib, *full->typical_mem_gib);
  EXPECT_LT(*pruned->peak_mem_gib, *full->peak_mem_gib);
  // 4.8 GiB built in (x1.6 at imgsz 1280, x0.85 at batch 16): at least two on 22.5 GiB.
  EXPECT_GE(pruned->fit_per_gpu.at("A10G"), 2);
  EXPECT_GE(pruned->fit_per_gpu.at("A10G"), full->fit_per_gpu.at("A10G"));
  EXPECT_GT(pruned->fit_per_gpu.at("A100-SXM4-80GB"), pruned->fit_per_gpu.at("A10G"));
  ASSERT_TRUE(pruned->map50_pts);
  EXPECT_NEAR(*pruned->map50_pts, 55.1, 3.0);  // the simulator's final mAP@0.5
}

TEST_F(Insight, CostSharesSumToOneAndTheTotalIsTheBooksJobCost) {
  auto jobs = sim_->ledger->ListJobs();
  ASSERT_TRUE(jobs.ok());
  auto costs = BuildJobCosts(*sim_->ledger, *ctx_, *jobs, kAsOf);
  ASSERT_TRUE(costs.ok()) << costs.status().ToString();
  int64_t books = 0;
  for (const auto& [id, jc] : *costs) books += jc.cost_micros;
  for (CompareBy by : {CompareBy::kImage, CompareBy::kFramework, CompareBy::kModel}) {
    const Comparison c = Compare(by);
    int64_t sum = 0;
    double share = 0, hours_share = 0;
    for (const VariantRow& r : c.rows) {
      sum += r.cost_micros;
      share += r.cost_share;
      hours_share += r.gpu_hours_share;
    }
    EXPECT_EQ(sum, books) << CompareByName(by);
    EXPECT_EQ(c.total_cost_micros, books);
    EXPECT_NEAR(share, 1.0, 1e-9);
    EXPECT_NEAR(hours_share, 1.0, 1e-9);
  }
}

TEST_F(Insight, AScopedComparisonHoldsOnlyItsProjectsRuns) {
  const std::string project = sim_->cluster.jobs.front().project;
  int want = 0;
  for (const Job& j : sim_->cluster.jobs) want += j.project == project && j.start_ms < kAsOf ? 1 : 0;
  const Comparison c = Compare(CompareBy::kFramework, {project, ""});
  int runs = 0;
  for (const VariantRow& r : c.rows) runs += r.runs;
  EXPECT_EQ(runs, want);
  EXPECT_LT(runs, static_cast<int>(sim_->cluster.jobs.size()));
}

TEST_F(Insight, TwoNamedVariantsSideBySide) {
  const std::string out = Cli({"compare", "--db", db_, "--by", "model", "--a", "yolov10s", "--b",
                               "custom-pruned-v10", "--format", "json"});
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["side_by_side"]["a"]["key"], "yolov10s");
  EXPECT_EQ(j["side_by_side"]["b"]["key"], "custom-pruned-v10");
  EXPECT_TRUE(j["side_by_side"]["b_vs_a_epoch"].is_number());
  EXPECT_NE(Cli({"compare", "--db", db_, "--a", "nope", "--b", "train-x"}, 1).find("no runs of image 'nope'"),
            std::string::npos);
  EXPECT_NE(Cli({"compare", "--db", db_, "--a", "only-one"}, 1).find("give both or neither"),
            std::string::npos);
  const std::string table = Cli({"compare", "--db", db_, "--by", "framework"});
  EXPECT_NE(table.find("ultralytics==8.3.40"), std::string::npos);
}

TEST(InsightPure, NormalisationRemovesDatasetImageSizeAndGpuDifferences) {
  // The same variant's work on different datasets, image sizes and GPUs: one figure.
  std::vector<CompareRun> runs;
  for (int k = 0; k < 4; ++k) {
    CompareRun r;
    r.key = "v";
    r.model_type = "yolov8s";
    r.gpu_model = k % 2 ? "A100" : "A10G";
    r.dataset_images = 1000 * (k + 1);
    r.imgsz = k < 2 ? 640 : 1280;
    const double px = r.imgsz / 640.0;
    r.epoch_s = 10.0 * (k + 1) * px * px * (k % 2 ? 0.5 : 1.0);
    runs.push_back(r);
  }
  const auto t = NormaliseEpochTimes(runs, CompareBy::kImage);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(*t[i], *t[0], 1e-9);
  runs[0].dataset_images = 0;  // no dataset size: not normalised, not counted
  EXPECT_FALSE(NormaliseEpochTimes(runs, CompareBy::kImage)[0]);
}

TEST(InsightPure, ModelSizeAndStartReadFromTheRun) {
  EXPECT_EQ(ModelSize("yolov8s"), "s");
  EXPECT_EQ(ModelSize("yolo11n"), "n");
  EXPECT_EQ(ModelSize("yolov10m-seg"), "m");
  EXPECT_EQ(ModelSize("yolov8x.pt"), "x");
  EXPECT_EQ(ModelSize("custom-pruned-v10"), "other");
  EXPECT_EQ(ModelSize("yolov8"), "other");
  Job j;
  EXPECT_EQ(StartedFrom(j), "unknown");
  j.labels = {{"model", "yolov8s.yaml"}};
  EXPECT_EQ(StartedFrom(j), "scratch");
  j.labels = {{"model", "/shared/ckpt/best.PT"}};
  EXPECT_EQ(StartedFrom(j), "shared_checkpoint");
  j.labels = {{"pretrained", "False"}};
  EXPECT_EQ(StartedFrom(j), "scratch");
  j.labels = {{"resume", "true"}, {"pretrained", "true"}};
  EXPECT_EQ(StartedFrom(j), "resumed");
  j.labels = {{"restart_from", "shared-checkpoint"}};
  EXPECT_EQ(StartedFrom(j), "shared_checkpoint");
}

TEST_F(Insight, TrendsCountTheSimulatorsRunsPerProjectSizeStartAndLength) {
  auto built = BuildTrends(*sim_->ledger, *ctx_, {}, kAsOf);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const Trends& t = *built;
  std::map<std::string, int> runs, long_runs, checkpoint;
  for (const Job& j : sim_->cluster.jobs) {
    if (j.start_ms >= kAsOf) continue;
    ++runs[j.project];
    const TimeMs until = j.end_ms ? j.end_ms : kAsOf;
    long_runs[j.project] += until - j.start_ms > kLongJobMs ? 1 : 0;
    checkpoint[j.project] += j.labels.at("restart_from") == "shared-checkpoint" ? 1 : 0;
  }
  ASSERT_EQ(t.projects.size(), runs.size());
  for (const ProjectTrend& p : t.projects) {
    int n = 0, lg = 0, ck = 0, sized = 0;
    for (const ProjectMonthTrend& m : p.months) {
      n += m.runs;
      lg += m.long_runs;
      for (const auto& [size, cell] : m.by_size) sized += cell.runs;
      if (m.by_start.count("shared_checkpoint")) ck += m.by_start.at("shared_checkpoint").runs;
      EXPECT_EQ(m.by_start.count("unknown"), 0u);
      EXPECT_NEAR(m.long_share, static_cast<double>(m.long_runs) / m.runs, 1e-12);
    }
    EXPECT_EQ(n, runs[p.project]) << p.project;
    EXPECT_EQ(sized, n);
    EXPECT_EQ(lg, long_runs[p.project]) << p.project;
    EXPECT_EQ(ck, checkpoint[p.project]) << p.project;
    EXPECT_EQ(p.months.size(), 2u) << p.project;  // September and October
  }
  // One project, one department: the scope holds.
  const std::string project = t.projects.front().project;
  const auto one =
      nlohmann::json::parse(Cli({"trends", "--db", db_, "--project", project, "--format", "json"}));
  ASSERT_EQ(one["projects"].size(), 1u);
  EXPECT_EQ(one["projects"][0]["project"], project);
}

TEST_F(Insight, AStatementsUsersSumToItsProjectLineAndItsRankIsItsPlace) {
  auto cluster = BuildMonthlyReport(*sim_->ledger, *ctx_, {2026, 10}, kAsOf, GroupBy::kProject, false);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  ASSERT_GE(cluster->lines.size(), 3u);
  for (size_t i = 0; i < cluster->lines.size(); ++i) {
    const ReportLine& line = cluster->lines[i];
    auto s = BuildProjectStatement(*sim_->ledger, *ctx_, {2026, 10}, kAsOf, line.key);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->cost_micros, line.cost_micros) << line.key;
    EXPECT_EQ(s->rank, static_cast<int>(i + 1)) << line.key;
    EXPECT_EQ(s->projects, static_cast<int>(cluster->lines.size()));
    int64_t users = 0;
    double share = 0;
    for (const StatementUser& u : s->users) {
      users += u.cost_micros;
      share += u.share;
      EXPECT_GE(u.density.value_or(-1), 0.0);  // simulated users have samples
      EXPECT_LE(u.density.value_or(2), 1.0);
    }
    EXPECT_EQ(users, s->cost_micros) << line.key;
    EXPECT_NEAR(share, 1.0, 1e-9);
  }
  EXPECT_EQ(BuildProjectStatement(*sim_->ledger, *ctx_, {2026, 10}, kAsOf, "no-such").status().code(),
            StatusCode::kNotFound);
  const auto j = nlohmann::json::parse(Cli({"statement", "--db", db_, "--project", cluster->lines[0].key,
                                            "--month", "2026-10", "--format", "json"}));
  EXPECT_EQ(j["rank"], 1);
  EXPECT_TRUE(j["users"][0]["cost"].is_string());
}

// The three routes over HTTP, by role: the answers are the builders' (the statement's
// cost is the project's report line), a user reads only its own project, a department
// admin only projects wholly in its department, and a refused statement reads nothing
// of the cluster for the caller (no project count in the answer).
TEST_F(Insight, TheRoutesAnswerWhatTheBuildersGiveWithinEachRolesScope) {
  auto l = OpenSqliteLedger(db_);
  ASSERT_TRUE(l.ok());
  std::map<std::string, std::string> token;
  auto add = [&](const std::string& name, Role role, const std::string& project, const std::string& dept) {
    auto t = MakeToken(role, project, dept, kAsOf);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*l)->PutToken(t->record).ok());
    token[name] = t->secret;
  };
  add("admin", Role::kAdmin, "", "");
  add("shelf-user", Role::kUser, "shelf-monitoring", "");
  add("retail-admin", Role::kDeptAdmin, "", "retail");
  SimulatedClock clock(kAsOf);
  ServerOptions o;
  o.port = 0;
  o.journal_dir = "";
  Server server(std::move(*l), clock, std::move(o));
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto get = [&](const std::string& who, const std::string& path) {
    auto r = c.Get(path.c_str(), {{"Authorization", "Bearer " + token[who]}});
    EXPECT_TRUE(r) << path;
    return r ? std::make_pair(r->status, r->body) : std::make_pair(-1, std::string());
  };
  auto want = BuildProjectStatement(*sim_->ledger, *ctx_, {2026, 10}, kAsOf, "shelf-monitoring");
  ASSERT_TRUE(want.ok());
  for (const char* who : {"admin", "shelf-user", "retail-admin"}) {
    auto [status, body] = get(who, "/api/v1/projects/shelf-monitoring/statement?month=2026-10");
    ASSERT_EQ(status, 200) << who << ": " << body;
    const auto j = nlohmann::json::parse(body);
    EXPECT_EQ(j["cost"], FormatMicros(want->cost_micros, 2)) << who;
    EXPECT_EQ(j["department"], "retail");
    EXPECT_EQ(j["rank"], want->rank);
  }
  auto [user_other, user_why] = get("shelf-user", "/api/v1/projects/pcb-solder-qc/statement?month=2026-10");
  EXPECT_EQ(user_other, 403) << user_why;
  auto [dept_other, dept_why] = get("retail-admin", "/api/v1/projects/pcb-solder-qc/statement?month=2026-10");
  EXPECT_EQ(dept_other, 403) << dept_why;
  auto [dept_none, none_why] = get("retail-admin", "/api/v1/projects/no-such/statement?month=2026-10");
  EXPECT_EQ(dept_none, 403) << none_why;
  EXPECT_EQ(none_why.find("projects have"), std::string::npos) << none_why;
  EXPECT_EQ(get("admin", "/api/v1/projects/no-such/statement?month=2026-10").first, 404);

  // compare and trends: the JSON the CLI prints, and a user's comparison holds its project only.
  auto [cmp, cmp_body] = get("admin", "/api/v1/compare?by=image&month=2026-10");
  ASSERT_EQ(cmp, 200) << cmp_body;
  EXPECT_FALSE(nlohmann::json::parse(cmp_body)["rows"].empty()) << cmp_body;
  auto [mine, mine_body] = get("shelf-user", "/api/v1/compare?by=image&month=2026-10");
  ASSERT_EQ(mine, 200) << mine_body;
  CompareOptions co;
  co.by = CompareBy::kImage;
  co.month = YearMonth{2026, 10};
  co.scope = ReportScope{"shelf-monitoring", ""};
  auto shelf = BuildComparison(*sim_->ledger, *ctx_, co, kAsOf);
  ASSERT_TRUE(shelf.ok());
  const auto my = nlohmann::json::parse(mine_body);
  EXPECT_EQ(my["project"], "shelf-monitoring");
  EXPECT_EQ(my["total_cost"], FormatMicros(shelf->total_cost_micros, 2));
  EXPECT_NE(my["total_cost"], nlohmann::json::parse(cmp_body)["total_cost"]);
  auto [tr, tr_body] = get("admin", "/api/v1/trends?from=2026-10&to=2026-10");
  EXPECT_EQ(tr, 200) << tr_body;
  EXPECT_EQ(get("admin", "/api/v1/trends?from=2026-13").first, 400);
  server.Stop();
}

}  // namespace
}  // namespace gpuledger
