// The circuit breaker's replay (#13 "Must show"; docs/POLICIES.md "Breaker replay"): a
// month of generated runs (sim/run_shapes.h: plateaus with a low-utilisation tail,
// plateaus while still busy, slow but real improvement) fed through the real server as
// live data — each epoch's GPU samples by remote write, then its progress post, in time
// order on the server's clock; a run told to pause ends paused after that epoch, as the
// Python callback does — once with the breaker and once without. The breaker pauses
// every plateaued low-utilisation run and no other (precision and recall 1 on this set),
// and the month's books show the GPU-hours, cost and wasted training time it avoided.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "books/books.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "report/render.h"
#include "report/report.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim/run_shapes.h"

namespace gpuledger {
namespace {

constexpr TimeMs kMonthStart = 1796083200000;  // 2026-12-01T00:00:00Z
constexpr int64_t kPricePerHour = 3'500'000;   // micros per GPU-hour (CNY)

struct ReplayResult {
  std::set<std::string> paused;  // the runs the breaker paused
  double gpu_hours = 0;          // the month's, all runs
  int64_t cost_micros = 0;
  double wasted_hours = 0;           // GPU-hours after each run's plateau began
  double wasted_low_util_hours = 0;  // of which in plateaued low-utilisation runs
  // The month's report (by project: all runs are in one), read as finance reads it.
  MonthlyReport report;
  DurationMs paused_ms = 0;  // the job summaries' paused time, summed
};

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

ReplayResult Replay(const std::vector<ShapedRun>& runs, bool breaker, const std::string& dir) {
  ReplayResult out;
  auto opened = OpenSqliteLedger(dir + "/ledger.db");
  EXPECT_TRUE(opened.ok());
  std::unique_ptr<Ledger> ledger = std::move(opened).value();
  LedgerSettings s;
  s.timezone = "UTC";
  s.default_interval_ms = kMinuteMs;
  s.default_max_gap_ms = 2 * kMinuteMs;
  EXPECT_TRUE(ledger->SetSettings(s).ok());
  EXPECT_TRUE(ledger->PutPrices({{"A10G", kMonthStart - kDayMs, kPricePerHour, 0, "CNY"}}).ok());
  std::vector<Gpu> gpus;
  std::vector<Job> jobs;
  std::vector<Allocation> allocs;
  for (size_t i = 0; i < runs.size(); ++i) {
    Gpu g;
    g.uuid = "GPU-" + std::to_string(i);
    g.node = "n1";
    g.model = "A10G";
    g.in_service_from = kMonthStart - kDayMs;
    gpus.push_back(g);
    Job j;
    j.id = runs[i].id;
    j.user = "alice";
    j.project = "det";
    j.department = "retail";
    j.status = JobStatus::kRunning;
    j.start_ms = runs[i].start_ms;
    j.gpu_share_ppm = kFullShare;
    jobs.push_back(j);
    allocs.push_back({j.id, g.uuid, j.start_ms, 0, kFullShare});
  }
  EXPECT_TRUE(ledger->PutGpus(gpus).ok());
  EXPECT_TRUE(ledger->PutJobs(jobs).ok());
  EXPECT_TRUE(ledger->PutAllocations(allocs).ok());
  auto token = MakeToken(Role::kIngest, "", "", kMonthStart);
  EXPECT_TRUE(token.ok());
  EXPECT_TRUE(ledger->PutToken(token->record).ok());
  const httplib::Headers auth = {{"Authorization", "Bearer " + token->secret}};

  ServerOptions o;
  o.port = 0;
  o.journal_dir = "";  // each write committed (and evaluated) before its answer
  auto loaded =
      ParsePolicyRulesJson(breaker ? R"({"rules": {}})" : R"({"rules": {"breaker": {"enabled": false}}})");
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  o.policy_rules = *loaded;
  SimulatedClock clock(kMonthStart);
  Server server(std::move(ledger), clock, std::move(o));
  EXPECT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());

  // Every run's epoch ends, in time order.
  struct Event {
    TimeMs at;
    size_t run;
    size_t epoch;  // index
  };
  std::vector<Event> events;
  for (size_t r = 0; r < runs.size(); ++r)
    for (size_t e = 0; e < runs[r].epochs.size(); ++e)
      events.push_back({runs[r].start_ms + static_cast<DurationMs>(e + 1) * runs[r].epoch_ms, r, e});
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at != b.at ? a.at < b.at : a.run < b.run; });
  std::vector<TimeMs> ended(runs.size(), 0);
  for (const Event& ev : events) {
    const ShapedRun& run = runs[ev.run];
    if (ended[ev.run] != 0) continue;  // paused earlier: it emits nothing more
    clock.Set(ev.at);
    // The epoch's samples, one a minute, by remote write.
    RwPoints points;
    const size_t per_epoch = static_cast<size_t>(run.epoch_ms / kMinuteMs);
    for (size_t m = ev.epoch * per_epoch; m < (ev.epoch + 1) * per_epoch && m < run.util_pct.size(); ++m)
      points.emplace_back(run.util_pct[m], run.start_ms + static_cast<TimeMs>(m + 1) * kMinuteMs);
    const RwLabels labels = {{"Hostname", "n1"},
                             {"UUID", "GPU-" + std::to_string(ev.run)},
                             {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                             {"gpu", std::to_string(ev.run)},
                             {"modelName", "A10G"}};
    httplib::Headers h = auth;
    h.emplace("Content-Encoding", "snappy");
    auto w = c.Post("/api/v1/write", h, Snappy(RwRequestV1({RwSeriesV1(labels, points)})),
                    "application/x-protobuf;proto=prometheus.WriteRequest");
    EXPECT_TRUE(w && w->status == 204) << (w ? w->body : "no answer");
    // Its progress; the answer says whether to stop.
    const ShapedEpoch& e = run.epochs[ev.epoch];
    nlohmann::json body = {
        {"epochs",
         {{{"epoch", e.epoch}, {"time_s", e.time_s}, {"train_loss", e.train_loss}, {"map50", e.map50}}}}};
    auto r = c.Post(("/api/v1/jobs/" + run.id + "/progress").c_str(), auth, body.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r) continue;
    const nlohmann::json answer = nlohmann::json::parse(r->body);
    const bool last = ev.epoch + 1 == run.epochs.size();
    const bool pause = answer.value("stop", false) && answer.value("kind", "") == "pause";
    if (pause) out.paused.insert(run.id);
    if (pause || last) {
      ended[ev.run] = ev.at;
      nlohmann::json update = {{"status", pause ? "paused" : "succeeded"}, {"end", FormatTime(ev.at)}};
      auto p = c.Patch(("/api/v1/jobs/" + run.id).c_str(), auth, update.dump(), "application/json");
      EXPECT_TRUE(p && p->status == 200) << (p ? p->body : "no answer");
    }
  }
  server.Stop();

  // The month's books.
  auto l = OpenSqliteLedger(dir + "/ledger.db");
  EXPECT_TRUE(l.ok());
  auto ctx = LoadBooksContext(**l);
  EXPECT_TRUE(ctx.ok());
  const TimeMs as_of = kMonthStart + 31 * kDayMs;
  for (size_t i = 0; i < runs.size(); ++i) {
    auto job = (*l)->GetJob(runs[i].id);
    EXPECT_TRUE(job.ok() && job->has_value());
    auto summary = BuildJobSummary(**l, *ctx, **job, as_of);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    out.gpu_hours += summary->usage.gpu_hours();
    out.cost_micros += summary->cost_micros;
    out.paused_ms += summary->paused_ms;
    if (runs[i].plateau_epoch > 0) {
      const TimeMs plateau_at = runs[i].start_ms + runs[i].plateau_epoch * runs[i].epoch_ms;
      const double wasted = static_cast<double>(std::max<TimeMs>(0, ended[i] - plateau_at)) / kHourMs;
      out.wasted_hours += wasted;
      if (runs[i].shape == RunShape::kPlateauLowUtil) out.wasted_low_util_hours += wasted;
    }
  }
  auto report = BuildMonthlyReport(**l, *ctx, YearMonth{2026, 12}, as_of, GroupBy::kProject, false);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  if (report.ok()) out.report = *report;
  return out;
}

TEST(BreakerReplay, PausesThePlateauedLowUtilisationRunsAndNoneOfTheOthers) {
  RunShapesOptions o;
  o.seed = 13;
  o.month_start = kMonthStart;
  o.runs_per_shape = 4;
  const std::vector<ShapedRun> runs = GenerateRunShapes(o);
  ASSERT_EQ(runs.size(), 12u);
  testing::TempDir with_dir, without_dir;
  const ReplayResult with = Replay(runs, /*breaker=*/true, with_dir.path());
  const ReplayResult without = Replay(runs, /*breaker=*/false, without_dir.path());

  std::set<std::string> should;
  for (const ShapedRun& r : runs)
    if (r.shape == RunShape::kPlateauLowUtil) should.insert(r.id);
  int tp = 0;
  for (const std::string& id : with.paused) tp += should.count(id) > 0 ? 1 : 0;
  const double precision = with.paused.empty() ? 0 : static_cast<double>(tp) / with.paused.size();
  const double recall = static_cast<double>(tp) / should.size();
  EXPECT_EQ(precision, 1.0);
  EXPECT_EQ(recall, 1.0);
  EXPECT_TRUE(without.paused.empty());

  // The month's report says the same as the jobs: one project line holding every run,
  // its cost and GPU-hours the jobs' sums, its paused time theirs (none without the breaker).
  for (const ReplayResult* r : {&with, &without}) {
    ASSERT_EQ(r->report.lines.size(), 1u);
    const ReportLine& det = r->report.lines[0];
    EXPECT_EQ(det.key, "det");
    EXPECT_EQ(det.cost_micros, r->cost_micros);
    EXPECT_NEAR(det.usage.gpu_hours(), r->gpu_hours, 1e-9);
    EXPECT_EQ(det.paused_ms, r->paused_ms);
    EXPECT_EQ(r->report.total.paused_ms, r->paused_ms);
  }
  EXPECT_GT(with.report.lines[0].paused_ms, 0);
  EXPECT_EQ(without.report.lines[0].paused_ms, 0);
  EXPECT_LT(with.report.lines[0].cost_micros, without.report.lines[0].cost_micros);
  // As finance reads it: the JSON's paused hours, the CSV's column, the table's section.
  const nlohmann::json as_json = nlohmann::json::parse(RenderReportJson(with.report));
  EXPECT_DOUBLE_EQ(as_json["lines"][0]["paused_hours"].get<double>(),
                   static_cast<double>(with.paused_ms) / kHourMs);
  EXPECT_DOUBLE_EQ(as_json["total"]["paused_hours"].get<double>(),
                   static_cast<double>(with.paused_ms) / kHourMs);
  EXPECT_NE(RenderReportCsv(with.report).find(",paused_hours,paused_freed_hours\n"), std::string::npos);
  EXPECT_NE(RenderReportTable(with.report).find("\npaused (jobs' paused time"), std::string::npos);
  EXPECT_EQ(RenderReportTable(without.report).find("\npaused (jobs' paused time"), std::string::npos);

  // What the breaker avoided: GPU-hours and cost on the books, and the training time
  // after a plateau (all plateaus, and only the low-utilisation ones it is meant for).
  EXPECT_LT(with.gpu_hours, without.gpu_hours);
  EXPECT_LT(with.cost_micros, without.cost_micros);
  const double saved_h = without.gpu_hours - with.gpu_hours;
  const double wasted_cut = 1.0 - with.wasted_hours / without.wasted_hours;
  const double wasted_low_cut = 1.0 - with.wasted_low_util_hours / without.wasted_low_util_hours;
  // Each paused run ran four epochs (the 2-hour window) past its plateau.
  EXPECT_NEAR(with.wasted_low_util_hours, 4 * 2.0, 1e-9);
  std::printf(
      "breaker replay: %zu runs; paused %zu (precision %.2f, recall %.2f)\n"
      "  the month's report, project det: GPU-hours %.1f without, %.1f with: %.1f avoided (%.1f %%); cost "
      "%.2f vs "
      "%.2f CNY: %.2f avoided; paused %.1f h\n"
      "  wasted training time (after the plateau) %.1f h vs %.1f h: %.1f %% less (low-util plateaus: %.1f vs "
      "%.1f h, "
      "%.1f %% less); the article: 27 %% less\n",
      runs.size(), with.paused.size(), precision, recall, without.gpu_hours, with.gpu_hours, saved_h,
      100.0 * saved_h / without.gpu_hours, static_cast<double>(without.cost_micros) / 1e6,
      static_cast<double>(with.cost_micros) / 1e6,
      static_cast<double>(without.cost_micros - with.cost_micros) / 1e6,
      static_cast<double>(with.report.lines[0].paused_ms) / kHourMs, without.wasted_hours, with.wasted_hours,
      100.0 * wasted_cut, without.wasted_low_util_hours, with.wasted_low_util_hours, 100.0 * wasted_low_cut);
  RecordProperty("precision", std::to_string(precision));
  RecordProperty("recall", std::to_string(recall));
  RecordProperty("gpu_hours_avoided", std::to_string(saved_h));
  RecordProperty("wasted_time_cut_pct", std::to_string(100.0 * wasted_cut));
}

}  // namespace
}  // namespace gpuledger
