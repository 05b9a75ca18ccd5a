// The books read while they are written: every figure is as of an instant, a month in
// progress is partial, a month that has not begun is refused, and a running job's cost
// so far is its elapsed time x price (never projected to its month's end).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "books/books.h"
#include "common/test_util.h"
#include "report/render.h"
#include "report/report.h"

namespace gpuledger {
namespace {

constexpr TimeMs kNov1 = 1793491200000;  // 2026-11-01T00:00:00Z
constexpr TimeMs kDec1 = 1796083200000;  // 2026-12-01T00:00:00Z

struct Books {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger;
  BooksContext ctx;
};

// One A10G at 3.50 CNY per GPU-hour in service from November, UTC months, 60 s samples.
std::unique_ptr<Books> OneA10G(TimeMs in_service_from = kNov1) {
  auto b = std::make_unique<Books>();
  auto l = OpenSqliteLedger(b->dir.path() + "/l.db");
  EXPECT_TRUE(l.ok());
  b->ledger = std::move(*l);
  LedgerSettings s;
  s.timezone = "UTC";
  s.default_interval_ms = kMinuteMs;
  s.default_max_gap_ms = 2 * kMinuteMs;
  EXPECT_TRUE(b->ledger->SetSettings(s).ok());
  EXPECT_TRUE(b->ledger->PutPrices({{"A10G", in_service_from - kDayMs, 3'500'000, 0, "CNY"}}).ok());
  Gpu g;
  g.uuid = "GPU-a";
  g.node = "n1";
  g.model = "A10G";
  g.in_service_from = in_service_from;
  Gpu g2 = g;
  g2.uuid = "GPU-b";
  EXPECT_TRUE(b->ledger->PutGpus({g, g2}).ok());
  auto ctx = LoadBooksContext(*b->ledger);
  EXPECT_TRUE(ctx.ok());
  b->ctx = std::move(*ctx);
  return b;
}

Job RunningJob(const std::string& id, TimeMs start) {
  Job j;
  j.id = id;
  j.user = "alice";
  j.project = "det";
  j.department = "retail";
  j.status = JobStatus::kRunning;
  j.start_ms = start;
  return j;
}

TEST(LiveBooks, AMonthThatHasNotBegunIsRefused) {
  auto b = OneA10G();
  ASSERT_TRUE(b->ledger->PutJobs({RunningJob("j1", kDec1)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j1", "GPU-a", kDec1, 0, kFullShare}}).ok());
  auto r = BuildMonthlyReport(*b->ledger, b->ctx, {2030, 1}, kDec1 + kHourMs, GroupBy::kDepartment, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("2030-01 (UTC) has not begun"), std::string::npos)
      << r.status().ToString();
}

TEST(LiveBooks, AMonthInProgressIsPartialAndOpenHoldsEndAtAsOf) {
  auto b = OneA10G();
  ASSERT_TRUE(b->ledger->PutJobs({RunningJob("j1", kDec1)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j1", "GPU-a", kDec1, 0, kFullShare}}).ok());
  const TimeMs as_of = kDec1 + 6 * kHourMs;
  auto r = BuildMonthlyReport(*b->ledger, b->ctx, {2026, 12}, as_of, GroupBy::kDepartment, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->as_of, as_of);
  EXPECT_EQ(r->window.end, as_of);
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_TRUE(r->lines[0].usage.gpu_ns == 6 * kGpuNsPerGpuHour);
  EXPECT_EQ(r->lines[0].cost_micros, 21'000'000);     // 6 h x 3.50
  EXPECT_EQ(r->unallocated.cost_micros, 21'000'000);  // GPU-b idle, also only up to as_of
  EXPECT_EQ(r->total.cost_micros, 42'000'000);
  // November has ended by then: it is whole, all of it unallocated capacity of two GPUs.
  auto nov = BuildMonthlyReport(*b->ledger, b->ctx, {2026, 11}, as_of, GroupBy::kDepartment, false);
  ASSERT_TRUE(nov.ok());
  EXPECT_FALSE(nov->partial);
  EXPECT_EQ(nov->total.cost_micros, 2 * 30 * 24 * 3'500'000LL);
}

TEST(LiveBooks, ARunningJobsCostSoFarIsElapsedTimeTimesPrice) {
  auto b = OneA10G();
  const TimeMs start = kDec1 + 3 * kHourMs;
  ASSERT_TRUE(b->ledger->PutJobs({RunningJob("j1", start)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j1", "GPU-a", start, 0, kFullShare}}).ok());
  auto job = b->ledger->GetJob("j1");
  ASSERT_TRUE(job.ok() && job->has_value());
  auto s = BuildJobSummary(*b->ledger, b->ctx, **job, start + 90 * kMinuteMs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->usage.gpu_ns == 90 * kMinuteMs * kFullShare);
  EXPECT_EQ(s->cost_micros, 5'250'000);  // 1.5 h x 3.50
  // 24 s after it started: 24 s of GPU time, not the rest of the month.
  s = BuildJobSummary(*b->ledger, b->ctx, **job, start + 24 * kSecondMs);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->usage.gpu_ns == 24 * kSecondMs * kFullShare);
  EXPECT_EQ(s->cost_micros, 20'000);  // 0.0233 rounds to 0.02
}

// A GPU held by a running job whose samples stopped is flagged on the job (with its last
// sample), not billed in silence; a hold just taken, a GPU still sampled, and a finished
// job are not.
TEST(LiveBooks, AHeldGpuWithNoRecentSampleIsFlaggedOnItsRunningJob) {
  auto b = OneA10G();
  const TimeMs start = kDec1 + kHourMs;
  Job quiet = RunningJob("quiet", start), busy = RunningJob("busy", start);
  ASSERT_TRUE(b->ledger->PutJobs({quiet, busy}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"quiet", "GPU-a", start, 0, kFullShare},
                                         {"busy", "GPU-b", start, 0, kFullShare}})
                  .ok());
  std::vector<GpuSample> samples;
  for (TimeMs t = start; t < start + 30 * kMinuteMs; t += kMinuteMs) samples.push_back({"GPU-a", {t, 90}});
  for (TimeMs t = start; t < start + 2 * kHourMs; t += kMinuteMs) samples.push_back({"GPU-b", {t, 90}});
  ASSERT_TRUE(b->ledger->PutSamples(samples).ok());
  const TimeMs as_of = start + 2 * kHourMs;
  auto q = BuildJobSummary(*b->ledger, b->ctx, quiet, as_of);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->silent_holds.size(), 1u);
  EXPECT_EQ(q->silent_holds[0].gpu_uuid, "GPU-a");
  EXPECT_EQ(q->silent_holds[0].held_since, start);
  EXPECT_EQ(q->silent_holds[0].last_sample_ms, start + 29 * kMinuteMs);
  EXPECT_TRUE(q->usage.gpu_ns == 2 * kGpuNsPerGpuHour) << "still billed: the flag says so, it does not hide it";
  EXPECT_NE(RenderJobSummaryJson(*q).find(R"("last_sample": "2026-12-01T01:29:00Z")"), std::string::npos)
      << RenderJobSummaryJson(*q);
  auto s = BuildJobSummary(*b->ledger, b->ctx, busy, as_of);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->silent_holds.empty());
  // Ten minutes in (under the 15-minute default) nothing is flagged yet; as of 40 minutes
  // in, the quiet GPU's last sample is 11 minutes old: not yet either.
  EXPECT_TRUE(BuildJobSummary(*b->ledger, b->ctx, quiet, start + 10 * kMinuteMs)->silent_holds.empty());
  EXPECT_TRUE(BuildJobSummary(*b->ledger, b->ctx, quiet, start + 40 * kMinuteMs)->silent_holds.empty());
  // A finished job holds nothing any more.
  quiet.end_ms = start + 90 * kMinuteMs;
  quiet.status = JobStatus::kSucceeded;
  EXPECT_TRUE(BuildJobSummary(*b->ledger, b->ctx, quiet, as_of)->silent_holds.empty());
  // Switched off: never flagged.
  b->ctx.held_without_samples_after_ms = 0;
  EXPECT_TRUE(BuildJobSummary(*b->ledger, b->ctx, RunningJob("quiet", start), as_of)->silent_holds.empty());
}

// The monthly report carries the same flag for the month in progress: a line in its JSON
// and table, a warning, and each line's held time with no sample under it (no data).
// Scoped reports list only their own jobs' holds; an ended month lists none.
TEST(LiveBooks, TheReportOfAMonthInProgressListsHoldsWithoutSamples) {
  auto b = OneA10G();
  const TimeMs start = kDec1 + kHourMs;
  Job quiet = RunningJob("quiet", start), busy = RunningJob("busy", start);
  busy.project = "other";
  ASSERT_TRUE(b->ledger->PutJobs({quiet, busy}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"quiet", "GPU-a", start, 0, kFullShare},
                                         {"busy", "GPU-b", start, 0, kFullShare}})
                  .ok());
  std::vector<GpuSample> samples;
  for (TimeMs t = start; t < start + 30 * kMinuteMs; t += kMinuteMs) samples.push_back({"GPU-a", {t, 90}});
  for (TimeMs t = start; t < start + 2 * kHourMs; t += kMinuteMs) samples.push_back({"GPU-b", {t, 90}});
  ASSERT_TRUE(b->ledger->PutSamples(samples).ok());
  const TimeMs as_of = start + 2 * kHourMs;
  auto r = BuildMonthlyReport(*b->ledger, b->ctx, YearMonth{2026, 12}, as_of, GroupBy::kJob, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->held_without_samples.size(), 1u);
  EXPECT_EQ(r->held_without_samples[0].job_id, "quiet");
  EXPECT_EQ(r->held_without_samples[0].gpu_uuid, "GPU-a");
  EXPECT_EQ(r->held_without_samples[0].last_sample_ms, start + 29 * kMinuteMs);
  const std::string json = RenderReportJson(*r);
  EXPECT_NE(json.find(R"("job": "quiet")"), std::string::npos) << json;
  // quiet held 2 h; its 30 samples at 60 s cover 30 min (the last stands for one interval).
  EXPECT_NE(json.find(R"("no_data_gpu_hours": 1.5)"), std::string::npos) << json;
  const std::string table = RenderReportTable(*r);
  EXPECT_NE(table.find("held without samples at"), std::string::npos) << table;
  EXPECT_NE(table.find("no data GPU-h"), std::string::npos) << table;
  bool warned = false;
  for (const std::string& w : r->warnings) warned |= w.find("job quiet has held GPU GPU-a") != std::string::npos;
  EXPECT_TRUE(warned);
  // Another project's view does not see quiet's hold.
  auto scoped = BuildMonthlyReport(*b->ledger, b->ctx, YearMonth{2026, 12}, as_of, GroupBy::kJob, false,
                                   ReportScope{"other", ""});
  ASSERT_TRUE(scoped.ok()) << scoped.status().ToString();
  EXPECT_TRUE(scoped->held_without_samples.empty());
  // Switched off: none.
  b->ctx.held_without_samples_after_ms = 0;
  r = BuildMonthlyReport(*b->ledger, b->ctx, YearMonth{2026, 12}, as_of, GroupBy::kJob, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->held_without_samples.empty());
}

TEST(LiveBooks, ACountOnlyJobRunsToAsOf) {
  auto b = OneA10G();
  Job j = RunningJob("c1", kDec1);
  j.gpu_share_ppm = 2 * kFullShare;
  j.gpu_model = "A10G";
  ASSERT_TRUE(b->ledger->PutJobs({j}).ok());
  auto s = BuildJobSummary(*b->ledger, b->ctx, j, kDec1 + 2 * kHourMs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->usage.gpu_ns == 4 * kGpuNsPerGpuHour);  // two GPUs for two hours
  EXPECT_EQ(s->cost_micros, 14'000'000);
}

Sample At(TimeMs t, float util) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  return s;
}

// Interval 60 s, max gap 120 s. A sample followed by another days later stands for one
// max gap (120 s) whether or not a month boundary falls between the two: metering
// January alone must see that February goes on.
TEST(LiveBooks, TheGapRuleIsTheSameAtAMonthsEnd) {
  constexpr TimeMs kJan1 = 1767225600000;  // 2026-01-01T00:00:00Z
  constexpr TimeMs kJan31 = kJan1 + 30 * kDayMs, kJan10 = kJan1 + 9 * kDayMs;
  auto b = OneA10G(kJan1);
  const TimeMs t1 = kJan31 + 23 * kHourMs + 55 * kMinuteMs, t2 = kJan10 + 23 * kHourMs + 55 * kMinuteMs;
  Job j1 = RunningJob("at-month-end", t1 - 5 * kMinuteMs), j2 = RunningJob("mid-month", t2 - 5 * kMinuteMs);
  j1.end_ms = j1.start_ms + 9 * kMinuteMs;
  j2.end_ms = j2.start_ms + 9 * kMinuteMs;
  ASSERT_TRUE(b->ledger->PutJobs({j1, j2}).ok());
  ASSERT_TRUE(b->ledger
                  ->PutAllocations({{j1.id, "GPU-a", j1.start_ms, j1.end_ms, kFullShare},
                                    {j2.id, "GPU-b", j2.start_ms, j2.end_ms, kFullShare}})
                  .ok());
  ASSERT_TRUE(b->ledger
                  ->PutSamples({{"GPU-a", At(t1, 90)},
                                {"GPU-a", At(kJan31 + 10 * kDayMs, 90)},  // 2026-02-10
                                {"GPU-b", At(t2, 90)},
                                {"GPU-b", At(kJan1 + 19 * kDayMs, 90)}})  // 2026-01-20
                  .ok());
  auto ctx = LoadBooksContext(*b->ledger);
  ASSERT_TRUE(ctx.ok());
  auto r = BuildMonthlyReport(*b->ledger, *ctx, {2026, 1}, kJan1 + 60 * kDayMs, GroupBy::kJob, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->lines.size(), 2u);
  for (const ReportLine& l : r->lines) {
    EXPECT_TRUE(l.usage.covered_ns == 2 * kMinuteMs * kFullShare) << l.key;
    EXPECT_TRUE(l.usage.dense_ns == 2 * kMinuteMs * kFullShare) << l.key;
  }
}

int64_t Covered(const MonthBooks& m) {
  int64_t ns = 0;
  for (const UsageRow& r : m.rows) ns += r.covered_ns;
  return ns;
}

// A month in progress is metered afresh unless a cache keeps it: the cache answers the
// same as-of while nothing changed, and never once a write changed the ledger.
TEST(LiveBooks, APartialMonthIsKeptBetweenReadsOnlyUntilTheLedgerChanges) {
  auto b = OneA10G();
  ASSERT_TRUE(b->ledger->PutJobs({RunningJob("j1", kDec1)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j1", "GPU-a", kDec1, 0, kFullShare}}).ok());
  ASSERT_TRUE(b->ledger->PutSamples({{"GPU-a", At(kDec1 + kMinuteMs, 90)}}).ok());
  BooksCache cache;
  b->ctx.cache = &cache;
  const TimeMs as_of = kDec1 + kHourMs;
  auto first = MonthUsage(*b->ledger, b->ctx, {2026, 12}, as_of);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Covered(*first), kMinuteMs * kFullShare);
  auto again = MonthUsage(*b->ledger, b->ctx, {2026, 12}, as_of);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(Covered(*again), Covered(*first));
  // Another as-of is another figure.
  ASSERT_TRUE(MonthUsage(*b->ledger, b->ctx, {2026, 12}, as_of + kSecondMs).ok());
  EXPECT_EQ(cache.hits(), 1u);
  // A write after the entry was built: the next read meters again and sees it.
  ASSERT_TRUE(b->ledger->PutSamples({{"GPU-a", At(kDec1 + 2 * kMinuteMs, 90)}}).ok());
  auto after = MonthUsage(*b->ledger, b->ctx, {2026, 12}, as_of);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(Covered(*after), 2 * kMinuteMs * kFullShare);
  b->ctx.cache = nullptr;
  auto fresh = MonthUsage(*b->ledger, b->ctx, {2026, 12}, as_of);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(Covered(*fresh), Covered(*after));
}

// The fields of the CSV row whose first field is `key` ("" when there is none).
std::vector<std::string> CsvRow(const std::string& csv, const std::string& key) {
  size_t at = csv.find("\n" + key + ",");
  if (at == std::string::npos) return {};
  const std::string line = csv.substr(at + 1, csv.find('\n', at + 1) - at - 1);
  std::vector<std::string> f;
  size_t from = 0;
  for (size_t comma; (comma = line.find(',', from)) != std::string::npos; from = comma + 1)
    f.push_back(line.substr(from, comma - from));
  f.push_back(line.substr(from));
  return f;
}

// The CSV header's column index of `name` (-1 when absent).
int Column(const std::string& csv, const std::string& name) {
  const std::string head = csv.substr(0, csv.find('\n'));
  size_t from = 0;
  for (int i = 0;; ++i) {
    const size_t comma = head.find(',', from);
    if (head.substr(from, comma == std::string::npos ? std::string::npos : comma - from) == name) return i;
    if (comma == std::string::npos) return -1;
    from = comma + 1;
  }
}

// The line of a table that starts with `key` and a space.
std::string TableRow(const std::string& table, const std::string& key) {
  const size_t at = table.find("\n" + key + " ");
  if (at == std::string::npos) return "";
  return table.substr(at + 1, table.find('\n', at + 1) - at - 1);
}

const nlohmann::json& Find(const nlohmann::json& arr, const char* key, const std::string& value) {
  for (const auto& e : arr)
    if (e[key] == value) return e;
  static const nlohmann::json none;
  return none;
}

// Two jobs each hold a GPU for two hours; only "lit"'s GPU is sampled (util 90 %, 40 W,
// 8 GiB). "dark"'s density, utilisation, energy, phases and peak memory have nothing
// behind them: null in JSON, "—" in tables, empty in CSV, never 0. Its GPU-hours and cost
// are real figures and stay numbers.
TEST(LiveBooks, AFigureWithNoSampleBehindItIsNullNeverZero) {
  auto b = OneA10G();
  Job dark = RunningJob("dark", kDec1), lit = RunningJob("lit", kDec1);
  ASSERT_TRUE(b->ledger->PutJobs({dark, lit}).ok());
  ASSERT_TRUE(
      b->ledger
          ->PutAllocations({{"dark", "GPU-a", kDec1, 0, kFullShare}, {"lit", "GPU-b", kDec1, 0, kFullShare}})
          .ok());
  std::vector<GpuSample> samples;
  for (TimeMs t = kDec1; t < kDec1 + 2 * kHourMs; t += kMinuteMs) {
    Sample s = At(t, 90);
    s.power_w = 40;
    s.mem_mib = 8192;
    samples.push_back({"GPU-b", s});
  }
  ASSERT_TRUE(b->ledger->PutSamples(samples).ok());
  const TimeMs as_of = kDec1 + 2 * kHourMs;
  auto r = BuildMonthlyReport(*b->ledger, b->ctx, {2026, 12}, as_of, GroupBy::kJob, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // The report: JSON, CSV, table.
  const auto rep = nlohmann::json::parse(RenderReportJson(*r));
  const auto& d = Find(rep["lines"], "key", "dark");
  ASSERT_TRUE(d.is_object()) << rep.dump(2);
  for (const char* k : {"density", "mean_util_pct", "energy_kwh"}) EXPECT_TRUE(d[k].is_null()) << k;
  EXPECT_DOUBLE_EQ(d["gpu_hours"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(d["covered_gpu_hours"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(d["density_of_allocated"].get<double>(), 0.0);  // dense over held time: a real 0
  EXPECT_EQ(d["cost"], "7.00");
  const auto& l = Find(rep["lines"], "key", "lit");
  EXPECT_DOUBLE_EQ(l["density"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(l["mean_util_pct"].get<double>(), 90.0);
  EXPECT_GT(l["energy_kwh"].get<double>(), 0.0);
  const std::string csv = RenderReportCsv(*r);
  const std::vector<std::string> dc = CsvRow(csv, "dark");
  ASSERT_FALSE(dc.empty()) << csv;
  for (const char* k : {"density", "mean_util_pct", "energy_kwh"}) {
    ASSERT_GE(Column(csv, k), 0) << k;
    EXPECT_EQ(dc[Column(csv, k)], "") << k << "\n" << csv;
  }
  EXPECT_EQ(dc[Column(csv, "gpu_hours")], "2.000000");
  EXPECT_EQ(CsvRow(csv, "lit")[Column(csv, "density")], "1.000000");
  const std::string table = RenderReportTable(*r);
  const std::string dark_row = TableRow(table, "dark");
  size_t dashes = 0;  // density, mean util, energy
  for (size_t at = dark_row.find("—"); at != std::string::npos; at = dark_row.find("—", at + 1)) ++dashes;
  EXPECT_EQ(dashes, 3u) << table;
  EXPECT_EQ(dark_row.find("0.0 %"), dark_row.find("50.0 %") + 1) << "only its share of cost is a percentage";

  // gpuledger jobs: JSON, CSV, table.
  auto jobs = b->ledger->ListJobs();
  ASSERT_TRUE(jobs.ok());
  const auto jj = nlohmann::json::parse(RenderJobs(*r, *jobs, "json"));
  const auto& jd = Find(jj["jobs"], "job", "dark");
  ASSERT_TRUE(jd.is_object()) << jj.dump(2);
  for (const char* k : {"density", "mean_utilisation", "peak_mem_gib", "energy_kwh", "phase_loading",
                        "phase_steady", "phase_tail", "phase_idle"})
    EXPECT_TRUE(jd[k].is_null()) << k;
  EXPECT_DOUBLE_EQ(jd["gpu_hours"].get<double>(), 2.0);
  const auto& jl = Find(jj["jobs"], "job", "lit");
  EXPECT_DOUBLE_EQ(jl["density"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(jl["peak_mem_gib"].get<double>(), 8.0);
  const std::string jcsv = RenderJobs(*r, *jobs, "csv");
  const std::vector<std::string> jdc = CsvRow(jcsv, "dark");
  ASSERT_FALSE(jdc.empty()) << jcsv;
  for (const char* k : {"density", "mean_utilisation", "peak_mem_gib", "energy_kwh", "phase_steady"}) {
    ASSERT_GE(Column(jcsv, k), 0) << k;
    EXPECT_EQ(jdc[Column(jcsv, k)], "") << k << "\n" << jcsv;
  }
  const std::string jtable = RenderJobs(*r, *jobs, "table");
  const std::string jdark = TableRow(jtable, "dark");
  EXPECT_NE(jdark.find("—"), std::string::npos) << jtable;
  EXPECT_EQ(jdark.find("0.0 %"), std::string::npos) << jtable;

  // The job view.
  auto s = BuildJobSummary(*b->ledger, b->ctx, dark, as_of);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto view = nlohmann::json::parse(RenderJobSummaryJson(*s));
  for (const char* k : {"density", "mean_util_pct", "peak_mem_gib", "energy_kwh"})
    EXPECT_TRUE(view[k].is_null()) << k;
  EXPECT_DOUBLE_EQ(view["density_of_allocated"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(view["gpu_hours"].get<double>(), 2.0);
  EXPECT_EQ(view["cost"], "7.00");
}

// A finished run with samples (a quarter of its time dense) and a finished run of the same
// configuration with none: every JSON line carries busy, covered and dense GPU-hours, and
// density is dense / covered over them (the sampled run's, not a mean that counts the
// unsampled run as 0).
TEST(LiveBooks, EveryLineCarriesBusyCoveredAndDenseHoursBesideDensity) {
  auto b = OneA10G();
  Job a = RunningJob("a", kDec1), c = RunningJob("c", kDec1);
  for (Job* j : {&a, &c}) {
    j->model_type = "yolov8s";
    j->status = JobStatus::kSucceeded;
    j->end_ms = kDec1 + 2 * kHourMs;
  }
  ASSERT_TRUE(b->ledger->PutJobs({a, c}).ok());
  ASSERT_TRUE(b->ledger
                  ->PutAllocations({{"a", "GPU-a", kDec1, kDec1 + 2 * kHourMs, kFullShare},
                                    {"c", "GPU-b", kDec1, kDec1 + 2 * kHourMs, kFullShare}})
                  .ok());
  std::vector<GpuSample> samples;
  for (int m = 0; m < 120; ++m) samples.push_back({"GPU-a", At(kDec1 + m * kMinuteMs, m < 30 ? 90 : 20)});
  ASSERT_TRUE(b->ledger->PutSamples(samples).ok());
  EpochProgress e;
  e.epoch = 1;
  e.map50 = 0.5;
  ASSERT_TRUE(b->ledger->PutProgress("a", {e}).ok());
  ASSERT_TRUE(b->ledger->PutProgress("c", {e}).ok());
  const TimeMs as_of = kDec1 + 3 * kHourMs;

  auto r = BuildMonthlyReport(*b->ledger, b->ctx, {2026, 12}, as_of, GroupBy::kJob, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto jobs = b->ledger->ListJobs();
  ASSERT_TRUE(jobs.ok());
  const auto jj = nlohmann::json::parse(RenderJobs(*r, *jobs, "json"));
  const auto& ja = Find(jj["jobs"], "job", "a");
  ASSERT_TRUE(ja.is_object()) << jj.dump(2);
  EXPECT_DOUBLE_EQ(ja["busy_gpu_hours"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(ja["covered_gpu_hours"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(ja["dense_gpu_hours"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(ja["density"].get<double>(), 0.25);
  const std::string jcsv = RenderJobs(*r, *jobs, "csv");
  for (const char* k : {"busy_gpu_hours", "covered_gpu_hours", "dense_gpu_hours"})
    ASSERT_GE(Column(jcsv, k), 0) << k;
  EXPECT_EQ(CsvRow(jcsv, "a")[Column(jcsv, "dense_gpu_hours")], "0.500000") << jcsv;
  EXPECT_EQ(CsvRow(jcsv, "c")[Column(jcsv, "covered_gpu_hours")], "0.000000") << jcsv;

  auto lb = BuildLeaderboard(*b->ledger, b->ctx, YearMonth{2026, 12}, as_of);
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  const auto lj = nlohmann::json::parse(RenderLeaderboardJson(*lb));
  ASSERT_EQ(lj["rows"].size(), 1u) << lj.dump(2);
  const auto& row = lj["rows"][0];
  EXPECT_EQ(row["runs"], 2);
  EXPECT_DOUBLE_EQ(row["busy_gpu_hours"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(row["covered_gpu_hours"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(row["dense_gpu_hours"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(row["density"].get<double>(), 0.25);  // not (0.25 + 0) / 2

  // A configuration whose runs have no sample: its density is null, "—" in the table.
  Job solo = c;
  solo.id = "solo";
  solo.model_type = "yolov8n";
  ASSERT_TRUE(b->ledger->PutJobs({solo}).ok());
  ASSERT_TRUE(b->ledger->PutProgress("solo", {e}).ok());
  lb = BuildLeaderboard(*b->ledger, b->ctx, YearMonth{2026, 12}, as_of);
  ASSERT_TRUE(lb.ok());
  const auto lj2 = nlohmann::json::parse(RenderLeaderboardJson(*lb));
  const auto& n = Find(lj2["rows"], "config", "yolov8n");
  ASSERT_TRUE(n.is_object()) << lj2.dump(2);
  EXPECT_TRUE(n["density"].is_null());
  EXPECT_DOUBLE_EQ(n["covered_gpu_hours"].get<double>(), 0.0);
  const std::string table = RenderLeaderboardTable(*lb);
  ASSERT_FALSE(TableRow(table, "yolov8n").empty()) << table;
  EXPECT_EQ(TableRow(table, "yolov8n").find(" %"), std::string::npos) << table;  // no "0.0 %"
}

// The job view and the leaderboard say what instant they are as of and whether their
// window was still open then, as reports and series do.
TEST(LiveBooks, TheJobViewAndTheLeaderboardCarryAsOfAndPartial) {
  auto b = OneA10G();
  Job done = RunningJob("done", kDec1), running = RunningJob("running", kDec1);
  done.model_type = "yolov8s";
  done.status = JobStatus::kSucceeded;
  done.end_ms = kDec1 + 2 * kHourMs;
  ASSERT_TRUE(b->ledger->PutJobs({done, running}).ok());
  ASSERT_TRUE(b->ledger
                  ->PutAllocations({{"done", "GPU-a", kDec1, kDec1 + 2 * kHourMs, kFullShare},
                                    {"running", "GPU-b", kDec1, 0, kFullShare}})
                  .ok());
  EpochProgress e;
  e.epoch = 1;
  e.map50 = 0.5;
  ASSERT_TRUE(b->ledger->PutProgress("done", {e}).ok());
  auto view = [&](const Job& j, TimeMs as_of) {
    auto s = BuildJobSummary(*b->ledger, b->ctx, j, as_of);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return nlohmann::json::parse(RenderJobSummaryJson(*s));
  };
  const TimeMs later = kDec1 + 3 * kHourMs;
  EXPECT_EQ(view(done, kDec1 + kHourMs)["partial"], true);  // an hour into its two
  EXPECT_EQ(view(done, later)["partial"], false);
  EXPECT_EQ(view(done, later)["as_of"], "2026-12-01T03:00:00Z");
  EXPECT_EQ(view(running, later)["partial"], true);

  // December is in progress three hours in; it is whole once it has ended.
  auto lb = BuildLeaderboard(*b->ledger, b->ctx, YearMonth{2026, 12}, later);
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  auto lj = nlohmann::json::parse(RenderLeaderboardJson(*lb));
  EXPECT_EQ(lj["as_of"], "2026-12-01T03:00:00Z");
  EXPECT_EQ(lj["partial"], true);
  EXPECT_EQ(lj["rows"].size(), 1u);
  std::string table = RenderLeaderboardTable(*lb);
  EXPECT_NE(table.find("as of 2026-12-01T03:00:00Z"), std::string::npos) << table;
  EXPECT_NE(table.find("PARTIAL: the month is in progress"), std::string::npos) << table;
  constexpr TimeMs kJan1 = kDec1 + 31 * kDayMs;
  lb = BuildLeaderboard(*b->ledger, b->ctx, YearMonth{2026, 12}, kJan1);
  ASSERT_TRUE(lb.ok());
  lj = nlohmann::json::parse(RenderLeaderboardJson(*lb));
  EXPECT_EQ(lj["partial"], false);
  EXPECT_EQ(lj["as_of"], "2027-01-01T00:00:00Z");
  EXPECT_EQ(RenderLeaderboardTable(*lb).find("PARTIAL"), std::string::npos);
  // All months to date stay open: a run that ends later joins them.
  lb = BuildLeaderboard(*b->ledger, b->ctx, std::nullopt, kJan1);
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(nlohmann::json::parse(RenderLeaderboardJson(*lb))["partial"], true);
}

}  // namespace
}  // namespace gpuledger
