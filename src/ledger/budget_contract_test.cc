// The Ledger contract for budgets and the budget gate (migration 0019), on SQLite and on
// PostgreSQL (GPULEDGER_TEST_PG; skipped without it, as the main contract suite).
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

class BudgetContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "postgres" && std::getenv("GPULEDGER_TEST_PG") == nullptr) {
      GTEST_SKIP() << "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    }
    ledger_ = GetParam().make(dir_.path());
    ASSERT_NE(ledger_, nullptr);
  }
  static BudgetRecord Budget(BudgetScope scope, const std::string& name, std::optional<YearMonth> month,
                             int64_t amount) {
    BudgetRecord b;
    b.scope = scope;
    b.name = name;
    b.month = month;
    b.amount_minor = amount;
    b.currency = "CNY";
    b.set_by = "admin-token";
    b.set_ms = kT0;
    return b;
  }
  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_P(BudgetContract, BudgetsAreListedProjectsFirstByNameEveryMonthBeforeItsMonths) {
  const BudgetRecord dept = Budget(BudgetScope::kDepartment, "vision", std::nullopt, 5'000'000);
  const BudgetRecord dec = Budget(BudgetScope::kProject, "yolo-edge", YearMonth{2026, 12}, 200'000);
  const BudgetRecord nov = Budget(BudgetScope::kProject, "yolo-edge", YearMonth{2026, 11}, 150'000);
  const BudgetRecord every = Budget(BudgetScope::kProject, "yolo-edge", std::nullopt, 100'000);
  const BudgetRecord other = Budget(BudgetScope::kProject, "aoi", std::nullopt, 1);
  for (const BudgetRecord& b : {dept, dec, nov, every, other}) ASSERT_TRUE(ledger_->PutBudget(b).ok());
  auto all = ledger_->ListBudgets();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (std::vector<BudgetRecord>{other, every, nov, dec, dept}));
}

TEST_P(BudgetContract, PuttingTheSameScopeAndMonthReplacesTheBudget) {
  ASSERT_TRUE(ledger_->PutBudget(Budget(BudgetScope::kProject, "p", YearMonth{2026, 12}, 100)).ok());
  BudgetRecord again = Budget(BudgetScope::kProject, "p", YearMonth{2026, 12}, 250);
  again.set_by = "dept-token";
  again.set_ms = kT0 + 5;
  ASSERT_TRUE(ledger_->PutBudget(again).ok());
  auto all = ledger_->ListBudgets();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<BudgetRecord>{again});
}

TEST_P(BudgetContract, DeleteRemovesOnlyTheNamedMonthAndSaysWhetherThereWasOne) {
  ASSERT_TRUE(ledger_->PutBudget(Budget(BudgetScope::kProject, "p", YearMonth{2026, 12}, 100)).ok());
  ASSERT_TRUE(ledger_->PutBudget(Budget(BudgetScope::kProject, "p", std::nullopt, 100)).ok());
  auto gone = ledger_->DeleteBudget(BudgetScope::kProject, "p", YearMonth{2026, 12});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(*gone);
  auto again = ledger_->DeleteBudget(BudgetScope::kProject, "p", YearMonth{2026, 12});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto dept = ledger_->DeleteBudget(BudgetScope::kDepartment, "p", std::nullopt);
  ASSERT_TRUE(dept.ok());
  EXPECT_FALSE(*dept);
  auto all = ledger_->ListBudgets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1U);
  EXPECT_FALSE((*all)[0].month.has_value());
}

TEST_P(BudgetContract, AFailedUnitOfWorkTakesTheBudgetBackWithIt) {
  Status s = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutBudget(Budget(BudgetScope::kProject, "p", std::nullopt, 100)));
    return InvalidArgument("refused after the write");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  auto all = ledger_->ListBudgets();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_P(BudgetContract, AnAmountOfZeroIsRefusedByTheStore) {
  EXPECT_FALSE(ledger_->PutBudget(Budget(BudgetScope::kProject, "p", std::nullopt, 0)).ok());
}

TEST_P(BudgetContract, TheGateIsWarnUntilSetAndKeepsWhoSetIt) {
  auto g = ledger_->GetBudgetGate();
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->mode, BudgetGateMode::kWarn);
  EXPECT_EQ(g->set_ms, 0);
  ASSERT_TRUE(ledger_->SetBudgetGate({BudgetGateMode::kRefuse, "admin-token", kT0}).ok());
  ASSERT_TRUE(ledger_->SetBudgetGate({BudgetGateMode::kRefuse, "admin-2", kT0 + 9}).ok());
  g = ledger_->GetBudgetGate();
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->mode, BudgetGateMode::kRefuse);
  EXPECT_EQ(g->set_by, "admin-2");
  EXPECT_EQ(g->set_ms, kT0 + 9);
}

TEST_P(BudgetContract, AnAlertIsStoredOncePerCauseAndListedByMonth) {
  BudgetAlertRow a{"budget/project/p/2026-12/80", BudgetScope::kProject, "p", YearMonth{2026, 12}, "budget.80",
                   kT0, R"({"share":"81 %"})"};
  BudgetAlertRow b{"budget/department/d/2026-12/100", BudgetScope::kDepartment, "d", YearMonth{2026, 12},
                   "budget.100", kT0 + 5, "{}"};
  BudgetAlertRow nov = a;
  nov.cause_key = "budget/project/p/2026-11/80";
  nov.month = YearMonth{2026, 11};
  for (const BudgetAlertRow& r : {b, a, nov}) {
    auto fresh = ledger_->PutBudgetAlert(r);
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    EXPECT_TRUE(*fresh);
  }
  BudgetAlertRow again = a;
  again.at_ms = kT0 + 99;
  again.data_json = R"({"share":"90 %"})";
  auto fresh = ledger_->PutBudgetAlert(again);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(*fresh);  // the cause was recorded: nothing written
  auto dec = ledger_->ListBudgetAlerts(YearMonth{2026, 12});
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(*dec, (std::vector<BudgetAlertRow>{a, b}));
  auto jan = ledger_->ListBudgetAlerts(YearMonth{2027, 1});
  ASSERT_TRUE(jan.ok());
  EXPECT_TRUE(jan->empty());
}

TEST_P(BudgetContract, AFailedUnitOfWorkTakesTheAlertBackWithIt) {
  Status s = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutBudgetAlert({"budget/project/p/2026-12/80", BudgetScope::kProject, "p",
                                             YearMonth{2026, 12}, "budget.80", kT0, "{}"})
                        .status());
    return Unavailable("the notice could not be stored");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  auto dec = ledger_->ListBudgetAlerts(YearMonth{2026, 12});
  ASSERT_TRUE(dec.ok());
  EXPECT_TRUE(dec->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, BudgetContract,
                         ::testing::Values(Backend{"sqlite", Sqlite}, Backend{"postgres", Postgres}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpuledger
