// Reports and exports over any date range by day, week or month (report/periods.h,
// docs/METERING.md "Ranges"), on the demo-like simulated ledger: every period reads the
// same kept books as the month (its figures equal metering its window afresh), the
// periods add up to the month (time and energy exactly; money within each period's
// rounding), a whole month is the monthly report, a week across a month's end composes
// both months, and what cannot be read is refused with the reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "cost/cost_engine.h"
#include "csv_reader.h"
#include "report/export.h"
#include "report/render.h"
#include "report/report.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

using testing::Columns;
using testing::Micros;
using testing::ParseCsv;
using testing::Table;

const SimulatedClock kClock(1794744000000);  // 2026-11-15T12:00:00Z

// The additive figures of usage: what the periods of a window must sum to exactly.
std::vector<int64_t> Sums(const UsageTotals& u) {
  return {static_cast<int64_t>(u.gpu_ns),  static_cast<int64_t>(u.covered_ns),
          static_cast<int64_t>(u.busy_ns), static_cast<int64_t>(u.dense_ns),
          static_cast<int64_t>(u.util_ns), static_cast<int64_t>(u.energy_mj)};
}

class Ranges : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    db_ = dir_->path() + "/demo.db";
    SimOptions o;  // the demo's cluster (32 GPUs, two months), sampled every 10 minutes
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    auto sim = testing::LoadSimulationCached(db_, o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    auto l = OpenLedger(db_);
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    auto c = LoadBooksContext(*ledger_);
    ASSERT_TRUE(c.ok());
    ctx_ = std::move(c).value();
  }
  StatusOr<RangeReport> Range(const std::string& from, const std::string& to, Grain g,
                              GroupBy by = GroupBy::kDepartment) {
    ASSIGN_OR_RETURN(DateRange r, MakeDateRange(ctx_.tz, from, to, g));
    return BuildRangeReport(*ledger_, ctx_, r, kClock.Now(), by, false);
  }
  static int Cli(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    const int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, o, e);
    *out = o.str();
    if (err) *err = e.str();
    return code;
  }

  static testing::TempDir* dir_;
  static std::string db_;
  std::unique_ptr<Ledger> ledger_;
  BooksContext ctx_;
};
testing::TempDir* Ranges::dir_ = nullptr;
std::string Ranges::db_;

TEST_F(Ranges, TheDaysOfAMonthAddUpToItAndEachIsItsWindowMeteredAfresh) {
  auto days = Range("2026-10-01", "2026-10-31", Grain::kDay);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  auto month = BuildMonthlyReport(*ledger_, ctx_, {2026, 10}, kClock.Now(), GroupBy::kDepartment, false);
  ASSERT_TRUE(month.ok());
  ASSERT_EQ(days->periods.size(), 31u);
  EXPECT_FALSE(days->partial);
  std::vector<int64_t> sum(6, 0);
  std::map<std::string, int64_t> line_gpu_ns;  // by department, over the days
  int64_t cost = 0;
  for (const MonthlyReport& d : days->periods) {
    EXPECT_FALSE(d.month_books);
    const std::vector<int64_t> s = Sums(d.total.usage);
    for (size_t i = 0; i < s.size(); ++i) sum[i] += s[i];
    cost += d.total.cost_micros;
    for (const ReportLine& l : d.lines) line_gpu_ns[l.key] += static_cast<int64_t>(l.usage.gpu_ns);
    line_gpu_ns["(unallocated)"] += static_cast<int64_t>(d.unallocated.usage.gpu_ns);
  }
  EXPECT_EQ(sum, Sums(month->total.usage)) << "GPU, covered, busy, dense, util time and energy";
  for (const ReportLine& l : month->lines)
    EXPECT_EQ(line_gpu_ns[l.key], static_cast<int64_t>(l.usage.gpu_ns)) << l.key;
  EXPECT_EQ(line_gpu_ns["(unallocated)"], static_cast<int64_t>(month->unallocated.usage.gpu_ns));
  EXPECT_EQ(days->total_micros, cost);
  // Each day is priced on its own, rounded half up to the fen: 31 roundings of at most
  // half a fen each between the days' sum and the month.
  EXPECT_LE(std::abs(cost - month->total.cost_micros), 31 * 5'000)
      << cost << " vs " << month->total.cost_micros;
  // A day's books are its window metered from the raw samples: the same money, exactly.
  for (size_t i : {0u, 14u, 30u}) {
    const MonthlyReport& d = days->periods[i];
    auto fresh = MeterWindow(*ledger_, ctx_, d.window, {});
    ASSERT_TRUE(fresh.ok());
    auto priced = PriceUsage(*fresh, ctx_.prices, false);
    ASSERT_TRUE(priced.ok());
    EXPECT_EQ(d.total.cost_micros, priced->total_micros) << d.period;
  }
}

TEST_F(Ranges, AWholeMonthIsTheMonthlyReportAndAClippedOneAWindow) {
  auto r = Range("2026-09-15", "2026-10", Grain::kMonth);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->periods.size(), 2u);
  const MonthlyReport& sept = r->periods[0];
  const MonthlyReport& oct = r->periods[1];
  EXPECT_EQ(sept.period, "2026-09-15..2026-09-30");
  EXPECT_FALSE(sept.month_books);
  EXPECT_FALSE(sept.total.prev_cost_micros);  // a window has no month before
  EXPECT_EQ(oct.period, "2026-10");
  EXPECT_TRUE(oct.month_books);
  auto month = BuildMonthlyReport(*ledger_, ctx_, {2026, 10}, kClock.Now(), GroupBy::kDepartment, false);
  ASSERT_TRUE(month.ok());
  nlohmann::json got = nlohmann::json::parse(RenderReportJson(oct));
  EXPECT_EQ(got["period"], "2026-10");
  got.erase("period");
  EXPECT_EQ(got, nlohmann::json::parse(RenderReportJson(*month)));
  EXPECT_EQ(r->total_micros, sept.total.cost_micros + oct.total.cost_micros);
  // The range's JSON: the periods' reports and the total, machine-readable.
  const auto j = nlohmann::json::parse(RenderRangeJson(*r));
  EXPECT_EQ(j["from"], "2026-09-15");
  EXPECT_EQ(j["to"], "2026-10-31");
  EXPECT_EQ(j["grain"], "month");
  EXPECT_TRUE(j["periods"][0]["month"].is_null());
  EXPECT_EQ(j["periods"][1]["month"], "2026-10");
  EXPECT_EQ(Micros(j["total"]["cost"].get<std::string>()), r->total_micros);
}

TEST_F(Ranges, AWeekAcrossTheMonthsEndComposesBothMonths) {
  auto week = Range("2026-09-28", "2026-10-04", Grain::kWeek);  // Monday to Sunday
  ASSERT_TRUE(week.ok()) << week.status().ToString();
  ASSERT_EQ(week->periods.size(), 1u);
  auto before = Range("2026-09-28", "2026-09-30", Grain::kRange);
  auto after = Range("2026-10-01", "2026-10-04", Grain::kRange);
  ASSERT_TRUE(before.ok() && after.ok());
  std::vector<int64_t> parts = Sums(before->usage);
  const std::vector<int64_t> a = Sums(after->usage);
  for (size_t i = 0; i < a.size(); ++i) parts[i] += a[i];
  EXPECT_EQ(Sums(week->usage), parts);
  // Composed across the month's end, one row per GPU, job and price period: the week
  // costs what its window metered at once costs (no job here is priced by GPU count).
  auto books = WindowUsage(*ledger_, ctx_, week->periods[0].window, kClock.Now());
  auto fresh = MeterWindow(*ledger_, ctx_, week->periods[0].window, {});
  ASSERT_TRUE(books.ok() && fresh.ok());
  EXPECT_EQ(books->rows.size(), fresh->size());
  EXPECT_EQ(PriceUsage(books->rows, ctx_.prices, false)->total_micros,
            PriceUsage(*fresh, ctx_.prices, false)->total_micros);
}

TEST_F(Ranges, ARangeInProgressIsPartialAndOneNotBegunIsRefused) {
  // As of 2026-11-15T12:00Z (20:00 in Shanghai): Sunday the 1st, then two weeks, the
  // second in progress; the weeks after it have not begun and are left out.
  auto r = Range("2026-11-01", "2026-11-30", Grain::kWeek);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->partial);
  ASSERT_EQ(r->periods.size(), 3u);
  EXPECT_FALSE(r->periods[1].partial);
  EXPECT_TRUE(r->periods[2].partial);
  EXPECT_EQ(r->periods[2].window.end, kClock.Now());
  auto future = Range("2026-12-01", "2026-12-31", Grain::kDay);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(future.status().message().find("has not begun"), std::string::npos) << future.status().message();
}

TEST_F(Ranges, TheCliReadsRangesAndRefusesMixedOrPartialArguments) {
  std::string out, err;
  ASSERT_EQ(Cli({"report", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-07", "--grain", "day",
                 "--format", "csv"},
                &out, &err),
            0)
      << err;
  const Table t = ParseCsv(out);
  auto col = Columns(t);
  ASSERT_TRUE(col.count("period") && col.count("period_start") && col.count("cost"));
  std::set<std::string> periods;
  for (size_t i = 1; i < t.size(); ++i) periods.insert(t[i][col["period"]]);
  EXPECT_EQ(periods.size(), 7u);
  ASSERT_EQ(Cli({"report", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-07", "--grain", "week"},
                &out, &err),
            0);
  EXPECT_NE(out.find("gpuledger report 2026-10-01 to 2026-10-07"), std::string::npos) << out;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--month", "2026-10", "--from", "2026-10-01", "--to", "2026-10-02"}, "give one or the other"},
           {{"--from", "2026-10-01"}, "both --from and --to"},
           {{"--grain", "day"}, "needs a range"},
           {{"--from", "2026-10-05", "--to", "2026-10-01"}, "before --from"},
           {{"--from", "2026-12-01", "--to", "2026-12-02"}, "has not begun"}}) {
    std::vector<std::string> args = {"report", "--db", db_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    EXPECT_NE(Cli(args, &out, &err), 0) << c.says;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

TEST_F(Ranges, RangeExportsSumToTheRangesTotalAndFocusStaysWithinItsBillingMonth) {
  auto days = Range("2026-10-01", "2026-10-10", Grain::kDay);
  ASSERT_TRUE(days.ok());
  std::string out, err;
  ASSERT_EQ(Cli({"export", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-10", "--grain", "day",
                 "--format", "csv"},
                &out, &err),
            0)
      << err;
  Table t = ParseCsv(out);
  auto col = Columns(t);
  int64_t sum = 0;
  std::set<std::string> starts;
  for (size_t i = 1; i < t.size(); ++i) {
    sum += Micros(t[i][col["cost"]]);
    starts.insert(t[i][col["period_start"]]);
    EXPECT_EQ(t[i][col["month"]], "") << "a day is no month";
  }
  EXPECT_EQ(starts.size(), 10u);
  EXPECT_EQ(sum, days->total_micros);
  ASSERT_EQ(Cli({"export", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-10", "--grain", "day",
                 "--format", "focus"},
                &out, &err),
            0)
      << err;
  t = ParseCsv(out);
  col = Columns(t);
  sum = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    sum += Micros(t[i][col["BilledCost"]]);
    EXPECT_EQ(t[i][col["BillingPeriodStart"]], "2026-09-30T16:00:00Z");
  }
  EXPECT_EQ(sum, days->total_micros);
  ASSERT_EQ(Cli({"export", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-03", "--format", "json"},
                &out, &err),
            0);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["format"], "gpuledger.export.range");
  ASSERT_EQ(j["periods"].size(), 1u);
  EXPECT_EQ(j["periods"][0]["period"], "2026-10-01..2026-10-03");
  // A week across a month's end is no FOCUS charge period.
  EXPECT_NE(Cli({"export", "--db", db_, "--from", "2026-09-28", "--to", "2026-10-04", "--grain", "week",
                 "--format", "focus"},
                &out, &err),
            0);
  EXPECT_NE(err.find("crosses a month's end"), std::string::npos) << err;
  // The workbook of a range (its sheets are checked in export_test.cc) is written, not refused.
  EXPECT_EQ(Cli({"export", "--db", db_, "--from", "2026-10-01", "--to", "2026-10-04", "--format", "xlsx",
                 "--out", dir_->path() + "/x.xlsx"},
                &out, &err),
            0)
      << err;
}

}  // namespace
}  // namespace gpuledger
