// Budgets against the books: month-to-date cost per project and department from the
// month in progress, and the submission gate (warn by default, refuse by setting).
#include "submit/budget_books.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kDec1 = 1796083200000;  // 2026-12-01T00:00:00Z
constexpr YearMonth kDec{2026, 12};

class BudgetBooks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/l.db");
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(*l);
    LedgerSettings s;
    s.timezone = "UTC";
    s.default_interval_ms = kMinuteMs;
    s.default_max_gap_ms = 2 * kMinuteMs;
    ASSERT_TRUE(ledger_->SetSettings(s).ok());
    ASSERT_TRUE(ledger_->PutPrices({{"A10G", kDec1 - kDayMs, 10'000'000, 0, "CNY"}}).ok());  // 10 CNY/h
    Gpu g;
    g.uuid = "GPU-a";
    g.node = "n1";
    g.model = "A10G";
    g.in_service_from = kDec1 - kDayMs;
    Gpu g2 = g;
    g2.uuid = "GPU-b";
    ASSERT_TRUE(ledger_->PutGpus({g, g2}).ok());
    // Two running jobs from Dec 1: det (retail) on GPU-a, ocr (retail) on GPU-b.
    ASSERT_TRUE(ledger_->PutJobs({Running("j1", "det"), Running("j2", "ocr")}).ok());
    ASSERT_TRUE(ledger_->PutAllocations({{"j1", "GPU-a", kDec1, 0, kFullShare}, {"j2", "GPU-b", kDec1, 0, kFullShare}})
                    .ok());
    auto ctx = LoadBooksContext(*ledger_);
    ASSERT_TRUE(ctx.ok());
    ctx_ = std::move(*ctx);
  }
  static Job Running(const std::string& id, const std::string& project) {
    Job j;
    j.id = id;
    j.user = "alice";
    j.project = project;
    j.department = "retail";
    j.status = JobStatus::kRunning;
    j.start_ms = kDec1;
    return j;
  }
  static BudgetRecord Budget(BudgetScope scope, const std::string& name, int64_t yuan) {
    BudgetRecord b;
    b.scope = scope;
    b.name = name;
    b.amount_minor = yuan * 100;
    b.currency = "CNY";
    return b;
  }
  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
  BooksContext ctx_;
};

TEST_F(BudgetBooks, MonthToDateCostIsEachScopesJobsCostUpToAsOf) {
  auto mtd = MonthToDateCosts(*ledger_, ctx_, kDec, kDec1 + 10 * kHourMs);
  ASSERT_TRUE(mtd.ok()) << mtd.status().ToString();
  EXPECT_EQ(mtd->costs.Of(BudgetScope::kProject, "det"), 100'000'000);  // 10 h x 10 CNY
  EXPECT_EQ(mtd->costs.Of(BudgetScope::kProject, "ocr"), 100'000'000);
  EXPECT_EQ(mtd->costs.Of(BudgetScope::kDepartment, "retail"), 200'000'000);
  EXPECT_EQ(mtd->DepartmentOf("det"), "retail");
  EXPECT_EQ(mtd->as_of, kDec1 + 10 * kHourMs);
}

TEST_F(BudgetBooks, AMonthNotBegunCostsNothingAndAnEndedOneIsReadWhole) {
  auto jan = MonthToDateCosts(*ledger_, ctx_, {2027, 1}, kDec1 + kHourMs);
  ASSERT_TRUE(jan.ok()) << jan.status().ToString();
  EXPECT_EQ(jan->costs.Of(BudgetScope::kProject, "det"), 0);
  auto dec = MonthToDateCosts(*ledger_, ctx_, kDec, kDec1 + 40 * kDayMs);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->as_of, kDec1 + 31 * kDayMs);
  EXPECT_EQ(dec->costs.Of(BudgetScope::kProject, "det"), int64_t{31} * 24 * 10'000'000);
}

TEST_F(BudgetBooks, StandingsAreOfTheBudgetsInForceOnly) {
  std::vector<BudgetRecord> budgets = {Budget(BudgetScope::kProject, "det", 1000),
                                       Budget(BudgetScope::kProject, "det", 120),
                                       Budget(BudgetScope::kDepartment, "retail", 500)};
  budgets[1].month = kDec;  // December's own wins over every month's
  auto mtd = MonthToDateCosts(*ledger_, ctx_, kDec, kDec1 + 10 * kHourMs);
  ASSERT_TRUE(mtd.ok());
  std::vector<BudgetStanding> s = StandingsInForce(budgets, *mtd, ctx_.prices.currency());
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s[0].budget.amount_minor, 12'000);
  EXPECT_TRUE(s[0].reached_80());  // 100 of 120
  EXPECT_FALSE(s[0].reached_100());
  EXPECT_EQ(s[1].budget.scope, BudgetScope::kDepartment);
  EXPECT_FALSE(s[1].reached_80());  // 200 of 500
}

TEST_F(BudgetBooks, TheGateWarnsByDefaultCountingTheEstimate) {
  ASSERT_TRUE(ledger_->PutBudget(Budget(BudgetScope::kProject, "det", 150)).ok());
  Job next = Running("j3", "det");
  // 100 CNY spent: an estimate of 49 stays under, one of 50 reaches 150.
  auto under = CheckSubmissionBudgets(*ledger_, ctx_, next, 49'000'000, kDec1 + 10 * kHourMs);
  ASSERT_TRUE(under.ok());
  EXPECT_TRUE(under->empty());
  auto at = CheckSubmissionBudgets(*ledger_, ctx_, next, 50'000'000, kDec1 + 10 * kHourMs);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  ASSERT_EQ(at->size(), 1U);
  EXPECT_NE((*at)[0].find("the project budget of 'det' for 2026-12 is 150.00 CNY; its month-to-date cost is "
                          "100.00 CNY"),
            std::string::npos)
      << (*at)[0];
  EXPECT_NE((*at)[0].find("the budget gate warns"), std::string::npos);
}

TEST_F(BudgetBooks, TheGateRefusesWhenSetToRefuseNamingTheBudgetAndTheCost) {
  ASSERT_TRUE(ledger_->PutBudget(Budget(BudgetScope::kDepartment, "retail", 150)).ok());
  ASSERT_TRUE(ledger_->SetBudgetGate({BudgetGateMode::kRefuse, "admin", kDec1}).ok());
  auto r = CheckSubmissionBudgets(*ledger_, ctx_, Running("j3", "det"), 0, kDec1 + 8 * kHourMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("the department budget of 'retail' for 2026-12 is 150.00 CNY; its "
                                      "month-to-date cost is 160.00 CNY"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("nothing registered"), std::string::npos);
  // Another department's submission is not this budget's business.
  Job other = Running("j4", "det");
  other.department = "vision";
  auto fine = CheckSubmissionBudgets(*ledger_, ctx_, other, 0, kDec1 + 8 * kHourMs);
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->empty());
}

}  // namespace
}  // namespace gpuledger
