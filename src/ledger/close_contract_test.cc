// The Ledger contract for monthly closes (migration 0020), on SQLite and on PostgreSQL
// (GPULEDGER_TEST_PG; skipped without it, as the main contract suite).
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/test_util.h"
#include "ledger/ledger.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

using Factory = std::unique_ptr<Ledger> (*)(const std::string& dir);

std::unique_ptr<Ledger> Sqlite(const std::string& dir) {
  auto l = OpenSqliteLedger(dir + "/ledger.db");
  return l.ok() ? std::move(l).value() : nullptr;
}

std::unique_ptr<Ledger> Postgres(const std::string&) {
  std::string why;
  const std::optional<std::string> conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) {
    ADD_FAILURE() << why;
    return nullptr;
  }
  auto l = OpenPostgresLedger(*conninfo);
  if (!l.ok()) ADD_FAILURE() << l.status().ToString();
  return l.ok() ? std::move(l).value() : nullptr;
}

struct Backend {
  const char* name;
  Factory make;
};

class CloseContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "postgres" && std::getenv("GPULEDGER_TEST_PG") == nullptr) {
      GTEST_SKIP() << "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    }
    ledger_ = GetParam().make(dir_.path());
    ASSERT_NE(ledger_, nullptr);
  }
  static MonthClose Closed(const std::string& month, const std::string& body) {
    MonthClose c;
    c.month = month;
    c.closed_ms = kT0;
    c.closed_by = "cli user=财务";
    c.total_micros = 1'234'560'000;
    c.checksum = std::string(64, 'a');
    c.body = body;
    return c;
  }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_P(CloseContract, AStoredCloseReadsBackFieldForField) {
  ASSERT_TRUE(ledger_->PutMonthClose(Closed("2026-10", R"({"rows":[["j1","GPU-a"]],"名":"值"})")).ok());
  auto got = ledger_->GetMonthClose("2026-10");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const MonthClose& c = **got;
  EXPECT_EQ(c.month, "2026-10");
  EXPECT_TRUE(c.closed);
  EXPECT_EQ(c.closed_ms, kT0);
  EXPECT_EQ(c.closed_by, "cli user=财务");
  EXPECT_EQ(c.reopened_ms, 0);
  EXPECT_EQ(c.total_micros, 1'234'560'000);
  EXPECT_EQ(c.checksum, std::string(64, 'a'));
  EXPECT_EQ(c.body, R"({"rows":[["j1","GPU-a"]],"名":"值"})");
  auto none = ledger_->GetMonthClose("2026-09");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(CloseContract, PutReplacesTheMonthsRowAndAReopenKeepsWhoAndWhy) {
  ASSERT_TRUE(ledger_->PutMonthClose(Closed("2026-10", "first")).ok());
  MonthClose r = Closed("2026-10", "first");
  r.closed = false;
  r.reopened_ms = kT0 + 5;
  r.reopened_by = "token t-1";
  r.reopen_reason = "late invoice";
  ASSERT_TRUE(ledger_->PutMonthClose(r).ok());
  auto got = ledger_->GetMonthClose("2026-10");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->closed);
  EXPECT_EQ((*got)->reopened_ms, kT0 + 5);
  EXPECT_EQ((*got)->reopened_by, "token t-1");
  EXPECT_EQ((*got)->reopen_reason, "late invoice");
  EXPECT_EQ((*got)->body, "first");
}

TEST_P(CloseContract, TheListIsByMonthAndLeavesBodiesOutWhenAsked) {
  ASSERT_TRUE(ledger_->PutMonthClose(Closed("2026-11", "nov")).ok());
  ASSERT_TRUE(ledger_->PutMonthClose(Closed("2026-09", "sep")).ok());
  ASSERT_TRUE(ledger_->PutMonthClose(Closed("2026-10", "oct")).ok());
  auto all = ledger_->ListMonthCloses(/*with_body=*/true);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].month, "2026-09");
  EXPECT_EQ((*all)[1].month, "2026-10");
  EXPECT_EQ((*all)[2].month, "2026-11");
  EXPECT_EQ((*all)[1].body, "oct");
  auto slim = ledger_->ListMonthCloses(/*with_body=*/false);
  ASSERT_TRUE(slim.ok());
  ASSERT_EQ(slim->size(), 3u);
  EXPECT_EQ((*slim)[1].body, "");
  EXPECT_EQ((*slim)[1].checksum, std::string(64, 'a'));
}

TEST_P(CloseContract, AFailedUnitOfWorkTakesTheCloseBackWithIt) {
  Status st = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutMonthClose(Closed("2026-10", "body")));
    return FailedPrecondition("the audit append failed");
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  auto got = ledger_->GetMonthClose("2026-10");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, CloseContract,
                         ::testing::Values(Backend{"sqlite", Sqlite}, Backend{"postgres", Postgres}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpuledger
