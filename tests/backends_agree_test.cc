// The same simulated cluster in an SQLite file and in PostgreSQL produces the same
// books: every monthly report (all groupings, idle shown and shared) renders to the same
// bytes, and so does a job's summary.
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ledger/test_pg.h"
#include "report/render.h"
#include "report/report.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

TEST(BackendsAgree, SqliteAndPostgresKeepTheSameBooks) {
  std::string why;
  const auto conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) GTEST_SKIP() << why;
  SimOptions o;
  o.seed = 11;
  o.month = {2026, 11};
  o.sample_interval_ms = 10 * kMinuteMs;
  o.a10g_nodes = 1;
  o.a100_nodes = 1;
  o.gpus_per_node = 2;
  o.load = 0.2;
  testing::TempDir dir;
  auto pg = OpenPostgresLedger(*conninfo);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  auto in_pg = testing::LoadSimulationInto(std::move(pg).value(), o, "America/New_York");
  ASSERT_TRUE(in_pg.ok()) << in_pg.status().ToString();
  auto in_sqlite = testing::LoadSimulation(dir.path() + "/l.db", o, "America/New_York");
  ASSERT_TRUE(in_sqlite.ok()) << in_sqlite.status().ToString();
  auto ctx_pg = LoadBooksContext(*in_pg->ledger);
  auto ctx_sqlite = LoadBooksContext(*in_sqlite->ledger);
  ASSERT_TRUE(ctx_pg.ok() && ctx_sqlite.ok());
  int compared = 0;
  for (YearMonth m : {o.month.Prev(), o.month}) {
    for (GroupBy by :
         {GroupBy::kDepartment, GroupBy::kProject, GroupBy::kUser, GroupBy::kJob, GroupBy::kGpuModel}) {
      for (bool share_idle : {false, true}) {
        auto a = BuildMonthlyReport(*in_sqlite->ledger, *ctx_sqlite, m, kMaxTimeMs, by, share_idle);
        auto b = BuildMonthlyReport(*in_pg->ledger, *ctx_pg, m, kMaxTimeMs, by, share_idle);
        ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
        EXPECT_EQ(RenderReportJson(*a), RenderReportJson(*b)) << m.ToString() << " by " << GroupByName(by);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 20);
  // Built books are read back the same way too (second read: from storage, not metered).
  auto again = BuildMonthlyReport(*in_pg->ledger, *ctx_pg, o.month, kMaxTimeMs, GroupBy::kJob, false);
  auto first = BuildMonthlyReport(*in_sqlite->ledger, *ctx_sqlite, o.month, kMaxTimeMs, GroupBy::kJob, false);
  ASSERT_TRUE(again.ok() && first.ok());
  EXPECT_EQ(RenderReportJson(*again), RenderReportJson(*first));
}

}  // namespace
}  // namespace gpuledger
