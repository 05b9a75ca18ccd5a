// Monthly close (report/close.h, docs/CLOSE.md): a closed month's books never change,
// whatever arrives later for it; the difference between its live recomputation and its
// frozen books goes, to the minor unit, to adjustment lines of the next open month; the
// checksum is checked on every read; reopening is audited and refused where it would
// count a correction twice. Plus the CLI's close, reopen and months.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "ledger/test_pg.h"
#include "report/close.h"
#include "report/export.h"
#include "report/focus.h"
#include "report/render.h"
#include "report/report.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kOct1 = 1790812800000;  // 2026-10-01T00:00:00Z
constexpr TimeMs kNov1 = 1793491200000;
constexpr TimeMs kDec1 = 1796083200000;
constexpr TimeMs kCloseAt = kNov1 + 4 * kDayMs;  // 2026-11-05
constexpr YearMonth kOct{2026, 10};
constexpr YearMonth kNov{2026, 11};
constexpr YearMonth kDec{2026, 12};
const std::string kUnallocated = "(unallocated capacity)";

struct Books {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger;
  BooksContext ctx;
};

Job MakeJob(const std::string& id, const std::string& dept, TimeMs start, TimeMs end) {
  Job j;
  j.id = id;
  j.user = "user-" + id;
  j.project = "proj-" + id;
  j.department = dept;
  j.status = JobStatus::kSucceeded;
  j.start_ms = start;
  j.end_ms = end;
  return j;
}

std::vector<GpuSample> Samples(const std::string& gpu, TimeMs from, TimeMs to, float util, float power_w) {
  std::vector<GpuSample> out;
  for (TimeMs t = from; t < to; t += kMinuteMs) {
    Sample s;
    s.t = t;
    s.util_pct = util;
    s.mem_mib = 4096;
    s.power_w = power_w;
    out.push_back({gpu, s});
  }
  return out;
}

// Two A10G at 3.50 CNY per GPU-hour and 1.20 per kWh from October, UTC months, 60 s
// samples; j1 ran on GPU-a on 3 October (sampled), j2 on GPU-b on 5 October (no samples).
// `pg_conninfo`: on that PostgreSQL database instead of an SQLite file.
std::unique_ptr<Books> October(const std::string& pg_conninfo = "") {
  auto b = std::make_unique<Books>();
  auto l = pg_conninfo.empty() ? OpenSqliteLedger(b->dir.path() + "/l.db") : OpenPostgresLedger(pg_conninfo);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  if (!l.ok()) return nullptr;
  b->ledger = std::move(*l);
  LedgerSettings s;
  s.timezone = "UTC";
  s.default_interval_ms = kMinuteMs;
  s.default_max_gap_ms = 2 * kMinuteMs;
  EXPECT_TRUE(b->ledger->SetSettings(s).ok());
  EXPECT_TRUE(b->ledger->PutPrices({{"A10G", kOct1 - kDayMs, 3'500'000, 1'200'000, "CNY"}}).ok());
  Gpu g;
  g.uuid = "GPU-a";
  g.node = "n1";
  g.model = "A10G";
  g.in_service_from = kOct1;
  Gpu g2 = g;
  g2.uuid = "GPU-b";
  EXPECT_TRUE(b->ledger->PutGpus({g, g2}).ok());
  const TimeMs j1 = kOct1 + 2 * kDayMs, j2 = kOct1 + 4 * kDayMs;
  EXPECT_TRUE(b->ledger
                  ->PutJobs({MakeJob("j1", "retail", j1, j1 + 6 * kHourMs),
                             MakeJob("j2", "factory", j2, j2 + 3 * kHourMs)})
                  .ok());
  EXPECT_TRUE(b->ledger
                  ->PutAllocations({{"j1", "GPU-a", j1, j1 + 6 * kHourMs, kFullShare},
                                    {"j2", "GPU-b", j2, j2 + 3 * kHourMs, kFullShare}})
                  .ok());
  EXPECT_TRUE(b->ledger->PutSamples(Samples("GPU-a", j1, j1 + 6 * kHourMs, 80, 200)).ok());
  auto ctx = LoadBooksContext(*b->ledger);
  EXPECT_TRUE(ctx.ok());
  b->ctx = std::move(*ctx);
  return b;
}

AuditEntry Admin() {
  AuditEntry e;
  e.role = "cli";
  e.action = "close month";
  e.remote = "cli user=test";
  return e;
}

MonthlyReport Report(Books& b, YearMonth m, TimeMs as_of, GroupBy by = GroupBy::kJob) {
  auto r = BuildMonthlyReport(*b.ledger, b.ctx, m, as_of, by, false);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : MonthlyReport{};
}

// Each line's cost by key, the unallocated line's under its key.
std::map<std::string, int64_t> CostByKey(const MonthlyReport& r) {
  std::map<std::string, int64_t> m;
  for (const ReportLine& l : r.lines) m[l.key] += l.total_micros();
  m[kUnallocated] += r.unallocated.total_micros();
  return m;
}

// The adjustment lines correcting `month`, by key.
std::map<std::string, int64_t> AdjustmentsFor(const MonthlyReport& r, YearMonth month) {
  std::map<std::string, int64_t> m;
  for (const ReportLine& l : r.adjustments) {
    if (l.corrects == month.ToString()) m[l.key] += l.total_micros();
  }
  return m;
}

// What a later read of the closed month must reproduce exactly: every rendering of it.
std::string Rendered(const MonthlyReport& r) {
  return RenderReportJson(r) + RenderReportCsv(r) + RenderExportCsv(r, ExportNames{});
}

TEST(MonthClose, OnlyAnEndedMonthClosesAndOnlyOnce) {
  auto b = October();
  auto early = CloseMonth(*b->ledger, b->ctx, kOct, kNov1 - 1, Admin());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("ends at 2026-11-01T00:00:00Z"), std::string::npos)
      << early.status().ToString();
  auto first = CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt, Admin());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->checksum.size(), 64u);
  EXPECT_EQ(first->checksum, BodyChecksum(first->body));
  auto again = CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt + 1, Admin());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("closed already"), std::string::npos);
  // The close is in the audit log with its checksum.
  auto audit = b->ledger->ListAudit();
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "close month");
  EXPECT_NE((*audit)[0].detail.find("checksum=" + first->checksum), std::string::npos);
}

TEST(MonthClose, LateSamplesAndALateAllocationLeaveTheClosedBooksAndGoToTheNextMonth) {
  auto b = October();
  const TimeMs as_of = kNov1 + 10 * kDayMs;
  const MonthlyReport live_before = Report(*b, kOct, as_of);
  auto closed = CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt, Admin());
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  const MonthlyReport before = Report(*b, kOct, as_of);
  EXPECT_TRUE(before.closed);
  EXPECT_EQ(before.close_checksum, closed->checksum);
  EXPECT_EQ(before.total.cost_micros, live_before.total.cost_micros);
  EXPECT_EQ(CostByKey(before), CostByKey(live_before));
  EXPECT_TRUE(Report(*b, kNov, as_of).adjustments.empty());

  // Late: j2's samples (its energy), and a job nobody had registered on GPU-b for a day.
  const TimeMs j2 = kOct1 + 4 * kDayMs, j3 = kOct1 + 19 * kDayMs;
  ASSERT_TRUE(b->ledger->PutSamples(Samples("GPU-b", j2, j2 + 3 * kHourMs, 90, 250)).ok());
  ASSERT_TRUE(b->ledger->PutJobs({MakeJob("j3", "retail", j3, j3 + kDayMs)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j3", "GPU-b", j3, j3 + kDayMs, kFullShare}}).ok());

  // The closed month is as it was, in every grouping and rendering, checksum and all.
  for (GroupBy by : {GroupBy::kJob, GroupBy::kDepartment, GroupBy::kUser}) {
    auto frozen_then = BuildMonthlyReport(*b->ledger, b->ctx, kOct, as_of, by, false);
    ASSERT_TRUE(frozen_then.ok());
    EXPECT_TRUE(frozen_then->closed);
    EXPECT_EQ(frozen_then->close_checksum, closed->checksum);
    EXPECT_EQ(frozen_then->total.cost_micros, before.total.cost_micros);
  }
  const MonthlyReport after = Report(*b, kOct, as_of);
  EXPECT_EQ(Rendered(after), Rendered(before));
  auto rec = b->ledger->GetMonthClose("2026-10");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->checksum, closed->checksum);
  EXPECT_EQ((*rec)->total_micros, before.total.cost_micros);

  // November carries the difference: j3's day (24 h x 3.50 = 84.00) out of the
  // unallocated line, and j2's energy (3 h x 250 W = 0.75 kWh x 1.20 = 0.90).
  const MonthlyReport nov = Report(*b, kNov, as_of);
  const auto adj = AdjustmentsFor(nov, kOct);
  ASSERT_EQ(adj.size(), 3u) << RenderReportTable(nov);
  EXPECT_EQ(adj.at("j3"), 84'000'000);
  EXPECT_EQ(adj.at(kUnallocated), -84'000'000);
  EXPECT_EQ(adj.at("j2"), 900'000);
  int64_t nov_lines = nov.unallocated.total_micros();
  for (const ReportLine& l : nov.lines) nov_lines += l.total_micros();
  EXPECT_EQ(nov.total.cost_micros, nov_lines + 900'000);

  // Exports mark it: CSV/JSON line_kind adjustment with the month it corrects; FOCUS
  // ChargeClass Correction; the table shows it.
  const std::string csv = RenderExportCsv(nov, ExportNames{});
  EXPECT_NE(csv.find(",adjustment,job,j3,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2026-10\n"), std::string::npos) << csv;
  const auto json = nlohmann::json::parse(RenderExportJson(nov, ExportNames{}));
  int corrections = 0;
  for (const auto& l : json["lines"]) {
    if (l["line_kind"] == "adjustment") {
      ++corrections;
      EXPECT_EQ(l["corrects_month"], "2026-10");
    } else {
      EXPECT_TRUE(l["corrects_month"].is_null());
    }
  }
  EXPECT_EQ(corrections, 3);
  auto focus = RenderFocusCsv(nov, {}, ExportNames{});
  ASSERT_TRUE(focus.ok());
  EXPECT_NE(focus->find(",Usage,Correction,Correction of closed month 2026-10"), std::string::npos) << *focus;
  EXPECT_NE(RenderReportTable(nov).find("(adjustment for 2026-10) j3"), std::string::npos);

  // Reopened, October's live books are the frozen ones plus exactly November's adjustments.
  auto reopened = ReopenMonth(*b->ledger, kOct, as_of, Admin(), "late allocations from the scheduler");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  const MonthlyReport live = Report(*b, kOct, as_of);
  EXPECT_FALSE(live.closed);
  for (const auto& [key, cost] : CostByKey(live)) {
    const int64_t frozen = CostByKey(before).count(key) ? CostByKey(before).at(key) : 0;
    const int64_t carried = adj.count(key) ? adj.at(key) : 0;
    EXPECT_EQ(cost, frozen + carried) << key;
  }
  // With October open again, November carries nothing.
  EXPECT_TRUE(Report(*b, kNov, as_of).adjustments.empty());
  auto audit = b->ledger->ListAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->back().detail.find("reopen month=2026-10 reason=late allocations"), std::string::npos);
}

TEST(MonthClose, AClosedMonthFreezesTheCorrectionsItCarriedAndALaterOneCarriesOnlyTheRest) {
  auto b = October();
  ASSERT_TRUE(CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt, Admin()).ok());
  const TimeMs j3 = kOct1 + 19 * kDayMs, j4 = kOct1 + 24 * kDayMs;
  ASSERT_TRUE(b->ledger->PutJobs({MakeJob("j3", "retail", j3, j3 + kDayMs)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j3", "GPU-b", j3, j3 + kDayMs, kFullShare}}).ok());
  auto nov_closed = CloseMonth(*b->ledger, b->ctx, kNov, kDec1 + 2 * kDayMs, Admin());
  ASSERT_TRUE(nov_closed.ok()) << nov_closed.status().ToString();
  ASSERT_TRUE(b->ledger->PutJobs({MakeJob("j4", "factory", j4, j4 + 12 * kHourMs)}).ok());
  ASSERT_TRUE(b->ledger->PutAllocations({{"j4", "GPU-a", j4, j4 + 12 * kHourMs, kFullShare}}).ok());
  const TimeMs as_of = kDec1 + 3 * kDayMs;
  const MonthlyReport nov = Report(*b, kNov, as_of);
  EXPECT_TRUE(nov.closed);
  const auto nov_adj = AdjustmentsFor(nov, kOct);
  EXPECT_EQ(nov_adj, (std::map<std::string, int64_t>{{"j3", 84'000'000}, {kUnallocated, -84'000'000}}));
  const auto dec_adj = AdjustmentsFor(Report(*b, kDec, as_of), kOct);
  EXPECT_EQ(dec_adj, (std::map<std::string, int64_t>{{"j4", 42'000'000}, {kUnallocated, -42'000'000}}));
  // October cannot be reopened while November carries corrections of it.
  auto refused = ReopenMonth(*b->ledger, kOct, as_of, Admin(), "why not");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("reopen 2026-11 first"), std::string::npos);
  EXPECT_EQ(ReopenMonth(*b->ledger, kNov, as_of, Admin(), "").status().code(), StatusCode::kInvalidArgument);
}

TEST(MonthClose, AlteredFrozenBooksAreAnErrorNotServed) {
  auto b = October();
  ASSERT_TRUE(CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt, Admin()).ok());
  auto rec = b->ledger->GetMonthClose("2026-10");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  MonthClose tampered = **rec;
  const size_t at = tampered.body.find(R"("j1","A10G",)");
  ASSERT_NE(at, std::string::npos);
  tampered.body.insert(at + 13, "1");  // one more digit on j1's cost
  ASSERT_TRUE(b->ledger->PutMonthClose(tampered).ok());
  auto r = BuildMonthlyReport(*b->ledger, b->ctx, kOct, kCloseAt, GroupBy::kDepartment, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().ToString();
  // The next month's adjustments read the closed books too: also refused.
  EXPECT_FALSE(BuildMonthlyReport(*b->ledger, b->ctx, kNov, kCloseAt, GroupBy::kDepartment, false).ok());
}

// The same books closed on PostgreSQL give the same body, byte for byte (the checksums
// agree), and the same late writes the same adjustments (GPULEDGER_TEST_PG; skipped without).
TEST(MonthClose, PostgresClosesTheSameBooksAsSqlite) {
  if (std::getenv("GPULEDGER_TEST_PG") == nullptr) GTEST_SKIP() << "GPULEDGER_TEST_PG is not set";
  std::string why;
  const std::optional<std::string> conninfo = testing::NewPostgresDatabase(&why);
  ASSERT_TRUE(conninfo.has_value()) << why;
  auto lite = October();
  auto pg = October(*conninfo);
  ASSERT_NE(pg, nullptr);
  auto a = CloseMonth(*lite->ledger, lite->ctx, kOct, kCloseAt, Admin());
  auto b = CloseMonth(*pg->ledger, pg->ctx, kOct, kCloseAt, Admin());
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << " " << b.status().ToString();
  EXPECT_EQ(a->checksum, b->checksum);
  const TimeMs j3 = kOct1 + 19 * kDayMs;
  for (Books* books : {lite.get(), pg.get()}) {
    ASSERT_TRUE(books->ledger->PutJobs({MakeJob("j3", "retail", j3, j3 + kDayMs)}).ok());
    ASSERT_TRUE(books->ledger->PutAllocations({{"j3", "GPU-b", j3, j3 + kDayMs, kFullShare}}).ok());
  }
  const TimeMs as_of = kNov1 + 10 * kDayMs;
  EXPECT_EQ(AdjustmentsFor(Report(*pg, kNov, as_of), kOct), AdjustmentsFor(Report(*lite, kNov, as_of), kOct));
  EXPECT_EQ(AdjustmentsFor(Report(*pg, kNov, as_of), kOct).at("j3"), 84'000'000);
  EXPECT_EQ(Rendered(Report(*pg, kOct, as_of)), Rendered(Report(*lite, kOct, as_of)));
}

// Any mix of late samples, late jobs with allocations and merged re-sent samples: the
// closed month reads the same, and live = frozen + carried, line by line, to the micro.
TEST(MonthClose, RandomLateWritesAlwaysLandAsTheExactDifference) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto b = October();
    const TimeMs as_of = kNov1 + 20 * kDayMs;
    ASSERT_TRUE(CloseMonth(*b->ledger, b->ctx, kOct, kCloseAt, Admin()).ok());
    const MonthlyReport before = Report(*b, kOct, as_of);
    const std::string rendered = Rendered(before);
    const int writes = 2 + static_cast<int>(rng() % 5);
    for (int w = 0; w < writes; ++w) {
      const std::string gpu = rng() % 2 ? "GPU-a" : "GPU-b";
      // From 8 October on: clear of j1 and j2; each late job holds an eighth of a GPU, at most
      // `writes` of them at once, so no instant exceeds one GPU.
      const TimeMs from = kOct1 + 7 * kDayMs + static_cast<TimeMs>(rng() % (uint64_t{20} * 24)) * kHourMs +
                          static_cast<TimeMs>(rng() % 60) * kMinuteMs;
      const TimeMs len = (1 + static_cast<TimeMs>(rng() % 30)) * kHourMs;
      const TimeMs to = std::min(from + len, kNov1);
      switch (rng() % 3) {
        case 0:
          ASSERT_TRUE(b->ledger
                          ->PutSamples(Samples(gpu, from, to, static_cast<float>(rng() % 100),
                                               static_cast<float>(50 + rng() % 250)))
                          .ok());
          break;
        case 1: {
          const std::string id = "late" + std::to_string(w);
          ASSERT_TRUE(b->ledger->PutJobs({MakeJob(id, w % 2 ? "retail" : "factory", from, to)}).ok());
          ASSERT_TRUE(b->ledger->PutAllocations({{id, gpu, from, to, kFullShare / 8}}).ok());
          break;
        }
        default: {  // j1's samples again, with another power: merged field by field
          const TimeMs j1 = kOct1 + 2 * kDayMs;
          ASSERT_TRUE(b->ledger
                          ->PutSamples(Samples("GPU-a", j1, j1 + (1 + rng() % 6) * kHourMs, 80,
                                               static_cast<float>(100 + rng() % 200)))
                          .ok());
        }
      }
    }
    EXPECT_EQ(Rendered(Report(*b, kOct, as_of)), rendered);
    const MonthlyReport nov = Report(*b, kNov, as_of);
    const auto adj = AdjustmentsFor(nov, kOct);
    ASSERT_TRUE(ReopenMonth(*b->ledger, kOct, as_of, Admin(), "property").ok());
    const MonthlyReport live = Report(*b, kOct, as_of);
    const auto frozen = CostByKey(before);
    const auto now = CostByKey(live);
    std::set<std::string> keys;
    for (const auto& [k, v] : frozen) keys.insert(k);
    for (const auto& [k, v] : now) keys.insert(k);
    for (const auto& [k, v] : adj) keys.insert(k);
    int64_t carried_total = 0;
    for (const std::string& k : keys) {
      const int64_t f = frozen.count(k) ? frozen.at(k) : 0;
      const int64_t n = now.count(k) ? now.at(k) : 0;
      const int64_t a = adj.count(k) ? adj.at(k) : 0;
      EXPECT_EQ(n, f + a) << k;
      carried_total += a;
    }
    EXPECT_EQ(live.total.cost_micros, before.total.cost_micros + carried_total);
  }
}

int Cli(const std::vector<std::string>& args, std::string* out, TimeMs now) {
  std::vector<const char*> argv = {"gpuledger"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream o, e;
  const SimulatedClock clock(now);
  const int rc = RunCli(static_cast<int>(argv.size()), argv.data(), clock, o, e);
  *out = o.str() + e.str();
  return rc;
}

TEST(MonthClose, TheCliClosesListsAndReopensMonths) {
  auto b = October();
  const std::string db = b->dir.path() + "/l.db";
  std::string out;
  ASSERT_EQ(Cli({"close", "--db", db, "--month", "2026-10"}, &out, kCloseAt), 0) << out;
  EXPECT_NE(out.find("closed 2026-10: total "), std::string::npos) << out;
  ASSERT_EQ(Cli({"close", "--db", db, "--month", "2026-10"}, &out, kCloseAt), 1);
  EXPECT_NE(out.find("closed already"), std::string::npos) << out;
  ASSERT_EQ(Cli({"months", "--db", db, "--format", "json"}, &out, kCloseAt), 0) << out;
  const auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j["months"].size(), 2u) << out;  // October (closed) and November (open)
  EXPECT_EQ(j["months"][0]["month"], "2026-10");
  EXPECT_EQ(j["months"][0]["state"], "closed");
  EXPECT_TRUE(j["months"][0]["total"].is_string());
  EXPECT_EQ(j["months"][0]["checksum"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["months"][1]["state"], "open");
  EXPECT_TRUE(j["months"][1]["checksum"].is_null());
  ASSERT_EQ(Cli({"reopen", "--db", db, "--month", "2026-10"}, &out, kCloseAt), 2);  // --reason required
  ASSERT_EQ(Cli({"reopen", "--db", db, "--month", "2026-10", "--reason", "late data"}, &out, kCloseAt), 0)
      << out;
  ASSERT_EQ(Cli({"months", "--db", db}, &out, kCloseAt), 0) << out;
  EXPECT_NE(out.find("2026-10  reopened"), std::string::npos) << out;
  EXPECT_NE(out.find("late data"), std::string::npos) << out;
}

// The API: admins close and reopen (with a reason), admin and finance list the months;
// and a job's efficiency report, scoped as the job is.
TEST(MonthClose, TheApiClosesReopensAndListsForTheRolesAllowed) {
  auto b = October();
  std::map<Role, std::string> tokens;
  for (auto [role, project] :
       {std::pair{Role::kUser, "proj-j1"}, std::pair{Role::kFinance, ""}, std::pair{Role::kAdmin, ""}}) {
    auto t = MakeToken(role, project, "", kCloseAt);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(b->ledger->PutToken(t->record).ok());
    tokens[role] = t->secret;
  }
  auto other = MakeToken(Role::kUser, "proj-j2", "", kCloseAt);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(b->ledger->PutToken(other->record).ok());
  const SimulatedClock clock(kCloseAt);
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = b->dir.path() + "/journal";
  Server server(std::move(b->ledger), clock, opt);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(60, 0);
  auto auth = [&](const std::string& secret) {
    return httplib::Headers{{"Authorization", "Bearer " + secret}};
  };
  auto post = [&](const std::string& path, std::optional<Role> role, const std::string& body,
                  std::string* out) {
    auto res = role ? c.Post(path.c_str(), auth(tokens[*role]), body, "application/json")
                    : c.Post(path.c_str(), body, "application/json");
    if (!res) return -1;
    if (out) *out = res->body;
    return res->status;
  };
  auto get = [&](const std::string& path, const std::string& secret, std::string* out) {
    auto res = c.Get(path.c_str(), auth(secret));
    if (!res) return -1;
    if (out) *out = res->body;
    return res->status;
  };
  std::string body;
  EXPECT_EQ(post("/api/v1/months/2026-10/close", std::nullopt, "", nullptr), 401);
  EXPECT_EQ(post("/api/v1/months/2026-10/close", Role::kFinance, "", nullptr), 403);
  EXPECT_EQ(post("/api/v1/months/2026-13/close", Role::kAdmin, "", nullptr), 400);
  EXPECT_EQ(post("/api/v1/months/2026-11/close", Role::kAdmin, "", &body), 409) << body;  // not ended
  ASSERT_EQ(post("/api/v1/months/2026-10/close", Role::kAdmin, "", &body), 200) << body;
  auto closed = nlohmann::json::parse(body);
  EXPECT_EQ(closed["state"], "closed");
  EXPECT_EQ(closed["checksum"].get<std::string>().size(), 64u);
  EXPECT_EQ(post("/api/v1/months/2026-10/close", Role::kAdmin, "", nullptr), 409);

  EXPECT_EQ(get("/api/v1/months", tokens[Role::kUser], nullptr), 403);
  ASSERT_EQ(get("/api/v1/months", tokens[Role::kFinance], &body), 200) << body;
  auto months = nlohmann::json::parse(body);
  ASSERT_EQ(months["months"].size(), 2u);
  EXPECT_EQ(months["months"][0]["state"], "closed");
  EXPECT_EQ(months["months"][0]["checksum"], closed["checksum"]);

  EXPECT_EQ(post("/api/v1/months/2026-10/reopen", Role::kAdmin, "", &body), 400) << body;
  EXPECT_EQ(post("/api/v1/months/2026-10/reopen", Role::kAdmin, R"({"reason": ""})", &body), 400) << body;
  EXPECT_EQ(post("/api/v1/months/2026-10/reopen", Role::kFinance, R"({"reason": "x"})", nullptr), 403);
  ASSERT_EQ(post("/api/v1/months/2026-10/reopen", Role::kAdmin, R"({"reason": "发票更正"})", &body), 200)
      << body;
  EXPECT_EQ(nlohmann::json::parse(body)["state"], "reopened");
  EXPECT_EQ(nlohmann::json::parse(body)["reopen_reason"], "发票更正");
  EXPECT_EQ(post("/api/v1/months/2026-10/reopen", Role::kAdmin, R"({"reason": "again"})", nullptr), 409);

  // The job report: the job's project and admins read it; another project reads 404.
  ASSERT_EQ(get("/api/v1/jobs/j1/report?lang=zh", tokens[Role::kUser], &body), 200) << body;
  auto rep = nlohmann::json::parse(body);
  EXPECT_EQ(rep["job"], "j1");
  EXPECT_EQ(rep["lang"], "zh");
  EXPECT_TRUE(rep["cost"].is_string());
  ASSERT_EQ(rep["gpus"].size(), 1u);
  EXPECT_EQ(rep["gpus"][0]["gpu_uuid"], "GPU-a");
  EXPECT_EQ(get("/api/v1/jobs/j1/report", tokens[Role::kAdmin], nullptr), 200);
  EXPECT_EQ(get("/api/v1/jobs/j1/report", other->secret, nullptr), 404);
  EXPECT_EQ(get("/api/v1/jobs/j1/report", tokens[Role::kFinance], nullptr), 403);
  EXPECT_EQ(get("/api/v1/jobs/j1/report?lang=fr", tokens[Role::kAdmin], &body), 400) << body;
  EXPECT_EQ(get("/api/v1/jobs/nope/report", tokens[Role::kAdmin], nullptr), 404);
  server.Stop();
}

}  // namespace
}  // namespace gpuledger
