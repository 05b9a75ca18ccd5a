// The per-job efficiency report (report/job_report.h, docs/JOB_REPORT.md) on a simulated
// ledger: its figures agree with the job's summary, and its advice names the cause the
// simulator built into each run (a starved data loader in the untuned runs, a long
// convergence tail in the plateau runs, AMP off), in English and Chinese; plus
// `gpuledger job report`.
#include "report/job_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

constexpr TimeMs kAsOf = 1794744000000;  // 2026-11-15T12:00:00Z, after the simulated span

class JobReports : public ::testing::Test {
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
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  static std::set<std::string> Rules(const JobReport& r) {
    std::set<std::string> out;
    for (const Advice& a : r.advice) out.insert(a.rule);
    return out;
  }

  static testing::TempDir* dir_;
  static std::string db_;
  static testing::SimLedger* sim_;
};
testing::TempDir* JobReports::dir_ = nullptr;
std::string JobReports::db_;
testing::SimLedger* JobReports::sim_ = nullptr;

TEST_F(JobReports, TheAdviceNamesTheCauseTheSimulatorBuiltIntoEachRun) {
  auto ctx = LoadBooksContext(*sim_->ledger);
  ASSERT_TRUE(ctx.ok());
  int starved = 0, plateaus = 0, amp_off = 0, healthy = 0, checked = 0;
  for (const Job& j : sim_->cluster.jobs) {
    // Runs long enough to read at 10-minute samples (a sample's worth of loading is a
    // tenth of a 2-hour run), alone on their GPUs (two pruned runs sharing one GPU contend
    // for it, which is not the loader's fault), within one month (phases are classified
    // per month: docs/JOB_REPORT.md).
    // Ten hours: at 10-minute samples a shorter run's steady phase is too few samples to
    // tell a 0.53 dense share from a 0.6 one (the simulator's runs since issue #12 follow
    // their dataset and settings, and many are 6-9 h).
    if (j.end_ms == 0 || j.end_ms - j.start_ms < 10 * kHourMs) continue;
    if (j.model_type.find("pruned") != std::string::npos) continue;
    if (*ctx->tz.MonthOf(j.start_ms) != *ctx->tz.MonthOf(j.end_ms - 1)) continue;
    const SimCluster::Profile& p = sim_->cluster.profiles.at(j.id);
    auto r = BuildJobReport(*sim_->ledger, *ctx, j, kAsOf, Lang::kEn);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::set<std::string> rules = Rules(*r);
    ++checked;
    const bool slow_loader = p.dense_share < 0.6;  // the untuned profile (0.3-0.5): stalls between steps
    const bool long_tail = p.tail_frac > 0.2;      // the plateau profile
    EXPECT_EQ(rules.count("data_loader") == 1, slow_loader)
        << j.id << " dense share " << p.dense_share << " steady density " << r->facts.steady_density
        << " loading " << r->facts.loading_share << " hours " << (j.end_ms - j.start_ms) / 3.6e6 << " start "
        << j.start_ms << " status " << JobStatusName(j.status);
    if (long_tail) {
      EXPECT_EQ(rules.count("early_stopping"), 1u) << j.id << " tail " << r->facts.tail_share;
    } else {
      EXPECT_LT(r->facts.tail_share, kLongTailShare)
          << j.id << " hours " << (j.end_ms - j.start_ms) / 3.6e6 << " dense share " << p.dense_share
          << " status " << JobStatusName(j.status) << " start " << j.start_ms;
    }
    EXPECT_EQ(rules.count("enable_amp") == 1, !j.amp) << j.id;
    starved += slow_loader;
    plateaus += long_tail;
    amp_off += !j.amp;
    healthy += !slow_loader && !long_tail && j.amp;
    // The report's totals are the job's summary's.
    auto s = BuildJobSummary(*sim_->ledger, *ctx, j, kAsOf);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(r->summary.cost_micros, s->cost_micros);
    GpuNsSum per_gpu = 0;
    for (const JobGpuFigures& g : r->gpus) per_gpu += g.usage.gpu_ns;
    EXPECT_TRUE(per_gpu == s->usage.gpu_ns) << j.id;
    EXPECT_EQ(r->epochs_done, sim_->cluster.progress.at(j.id).back().epoch);
  }
  // The simulated month has every kind of run.
  EXPECT_GT(checked, 20) << starved << " " << plateaus << " " << amp_off << " " << healthy;
  EXPECT_GT(starved, 3);
  EXPECT_GT(plateaus, 3);
  EXPECT_GT(amp_off, 3);
  EXPECT_GT(healthy, 3);
}

TEST_F(JobReports, TheJsonHasEveryFigureWithItsTypeAndSpeaksChinese) {
  auto ctx = LoadBooksContext(*sim_->ledger);
  ASSERT_TRUE(ctx.ok());
  const Job* untuned = nullptr;
  for (const Job& j : sim_->cluster.jobs) {
    if (j.end_ms && !j.amp && j.end_ms - j.start_ms > 6 * kHourMs &&
        j.model_type.find("pruned") == std::string::npos) {
      untuned = &j;
      break;
    }
  }
  ASSERT_NE(untuned, nullptr);
  auto r = BuildJobReport(*sim_->ledger, *ctx, *untuned, kAsOf, Lang::kZh);
  ASSERT_TRUE(r.ok());
  const auto j = nlohmann::json::parse(RenderJobReportJson(*r));
  EXPECT_EQ(j["job"], untuned->id);
  EXPECT_EQ(j["lang"], "zh");
  EXPECT_TRUE(j["cost"].is_string());
  for (const char* k :
       {"gpu_hours", "busy_gpu_hours", "density", "mean_utilisation", "energy_kwh", "peak_mem_gib"})
    EXPECT_TRUE(j[k].is_number()) << k;
  for (const char* k : {"loading_gpu_hours", "steady_gpu_hours", "tail_gpu_hours", "idle_gpu_hours"})
    EXPECT_TRUE(j["phases"][k].is_number()) << k;
  ASSERT_FALSE(j["gpus"].empty());
  for (const auto& g : j["gpus"]) {
    EXPECT_TRUE(g["gpu_uuid"].is_string());
    EXPECT_TRUE(g["mean_utilisation"].is_number());
    EXPECT_LE(g["mean_utilisation"].get<double>(), 1.0);
    EXPECT_TRUE(g["peak_mem_gib"].is_number());
    EXPECT_TRUE(g["memory_share"].is_number());
  }
  EXPECT_TRUE(j["epochs"]["best_epoch"].is_number_integer());
  EXPECT_TRUE(j["epochs"]["final_train_loss"].is_number());
  EXPECT_TRUE(j["epochs"]["training_time_s"].is_number());
  bool amp = false;
  for (const auto& a : j["advice"]) {
    EXPECT_TRUE(a["text"].is_string() && a["evidence"].is_string());
    if (a["rule"] == "enable_amp") {
      amp = true;
      EXPECT_NE(a["text"].get<std::string>().find("混合精度"), std::string::npos);
    }
  }
  EXPECT_TRUE(amp);
  EXPECT_NE(RenderJobReportText(*r).find("建议"), std::string::npos);
}

TEST_F(JobReports, TheCliPrintsTheReportInEitherLanguage) {
  const Job& job = sim_->cluster.jobs.front();
  auto run = [&](std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    const SimulatedClock clock(kAsOf);
    const int rc = RunCli(static_cast<int>(argv.size()), argv.data(), clock, o, e);
    *out = o.str() + e.str();
    return rc;
  };
  std::string out;
  ASSERT_EQ(run({"job", "report", "--db", db_, "--id", job.id}, &out), 0) << out;
  EXPECT_NE(out.find("job efficiency report " + job.id), std::string::npos) << out;
  EXPECT_NE(out.find("advice:"), std::string::npos);
  ASSERT_EQ(run({"job", "report", "--db", db_, "--id", job.id, "--lang", "zh"}, &out), 0) << out;
  EXPECT_NE(out.find("作业效率报告"), std::string::npos) << out;
  ASSERT_EQ(run({"job", "report", "--db", db_, "--id", job.id, "--format", "json"}, &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["job"], job.id);
  EXPECT_EQ(run({"job", "report", "--db", db_, "--id", "no-such-job"}, &out), 1);
  EXPECT_NE(out.find("no job 'no-such-job'"), std::string::npos) << out;
  EXPECT_EQ(run({"job", "report", "--db", db_, "--id", job.id, "--lang", "fr"}, &out), 2);
}

}  // namespace
}  // namespace gpuledger
