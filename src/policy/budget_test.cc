#include "policy/budget.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

const Currency kCny{"CNY", 2};
// December 2026 in a UTC+8 zone: 31 days.
constexpr TimeMs kDecStart = 1'796'083'200'000 - 8 * kHourMs;  // 2026-12-01T00:00+08:00
constexpr Window kDec{kDecStart, kDecStart + 31 * kDayMs};
constexpr YearMonth kDecMonth{2026, 12};

BudgetRecord Project(int64_t amount_minor, std::optional<YearMonth> month = std::nullopt) {
  BudgetRecord b;
  b.scope = BudgetScope::kProject;
  b.name = "yolo-edge";
  b.month = month;
  b.amount_minor = amount_minor;
  b.currency = "CNY";
  return b;
}

int64_t Yuan(int64_t y) { return y * kMicrosPerUnit; }

TEST(BudgetRule, EightyPercentIsReachedExactlyAtTheBoundaryNotOneMicroBefore) {
  const BudgetRecord b = Project(1'000'000);  // 10,000.00 CNY
  BudgetStanding below = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + kDayMs, Yuan(8000) - 1);
  BudgetStanding at = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + kDayMs, Yuan(8000));
  EXPECT_EQ(at.budget_micros, Yuan(10000));
  EXPECT_FALSE(below.reached_80());
  EXPECT_TRUE(at.reached_80());
  EXPECT_FALSE(at.reached_100());
}

TEST(BudgetRule, HundredPercentIsReachedAtTheBudgetItself) {
  const BudgetRecord b = Project(1'000'000);
  EXPECT_FALSE(EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.end, Yuan(10000) - 1).reached_100());
  EXPECT_TRUE(EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.end, Yuan(10000)).reached_100());
}

TEST(BudgetRule, NoProjectionBeforeTheMinimumElapsedShare) {
  const BudgetRecord b = Project(1'000'000);
  // 7 days of 31 is 22.6 %: below the default 25 %.
  BudgetStanding early = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + 7 * kDayMs, Yuan(5000));
  EXPECT_FALSE(early.projected_micros.has_value());
  EXPECT_FALSE(early.projected_overrun());
  BudgetRuleOptions o;
  o.min_elapsed_for_projection = 0.2;
  BudgetStanding allowed = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + 7 * kDayMs, Yuan(5000), o);
  ASSERT_TRUE(allowed.projected_micros.has_value());
}

TEST(BudgetRule, ProjectionIsMonthToDateOverTheElapsedShareRounded) {
  const BudgetRecord b = Project(1'000'000);
  // 3,100 CNY after 10 of 31 days: 9,610 CNY over the month, under the budget.
  BudgetStanding s = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + 10 * kDayMs, Yuan(3100));
  ASSERT_TRUE(s.projected_micros.has_value());
  EXPECT_EQ(*s.projected_micros, Yuan(9610));
  EXPECT_FALSE(s.projected_overrun());
  // 3,300 after 10 days: 10,230 projected, over.
  BudgetStanding over = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + 10 * kDayMs, Yuan(3300));
  EXPECT_EQ(*over.projected_micros, Yuan(10230));
  EXPECT_TRUE(over.projected_overrun());
  EXPECT_NEAR(over.elapsed, 10.0 / 31.0, 1e-12);
}

TEST(BudgetRule, AProjectedOverrunIsNotWarnedOnceTheBudgetIsReached) {
  BudgetStanding s = EvaluateBudget(Project(1'000'000), kCny, kDecMonth, kDec, kDec.start + 20 * kDayMs, Yuan(10000));
  EXPECT_TRUE(s.reached_100());
  EXPECT_FALSE(s.projected_overrun());
}

TEST(BudgetRule, AsOfAfterTheMonthCountsTheWholeMonth) {
  BudgetStanding s = EvaluateBudget(Project(100), kCny, kDecMonth, kDec, kDec.end + kDayMs, Yuan(1));
  EXPECT_DOUBLE_EQ(s.elapsed, 1.0);
  EXPECT_EQ(*s.projected_micros, Yuan(1));
}

TEST(BudgetRule, AMonthsOwnBudgetWinsOverEveryMonths) {
  std::vector<BudgetRecord> all = {Project(500), Project(900, kDecMonth), Project(700, YearMonth{2026, 11})};
  BudgetRecord dept = Project(300);
  dept.scope = BudgetScope::kDepartment;
  dept.name = "vision";
  all.push_back(dept);
  const BudgetRecord* dec = EffectiveBudget(all, BudgetScope::kProject, "yolo-edge", kDecMonth);
  ASSERT_NE(dec, nullptr);
  EXPECT_EQ(dec->amount_minor, 900);
  const BudgetRecord* jan = EffectiveBudget(all, BudgetScope::kProject, "yolo-edge", {2027, 1});
  ASSERT_NE(jan, nullptr);
  EXPECT_EQ(jan->amount_minor, 500);
  EXPECT_EQ(EffectiveBudget(all, BudgetScope::kProject, "vision", kDecMonth), nullptr);
  ASSERT_NE(EffectiveBudget(all, BudgetScope::kDepartment, "vision", kDecMonth), nullptr);
}

TEST(BudgetRule, NoticesCarryOneCauseKeyPerThresholdAndMonth) {
  BudgetStanding s = EvaluateBudget(Project(1'000'000), kCny, kDecMonth, kDec, kDec.start + 20 * kDayMs, Yuan(10500));
  std::vector<Notice> n = BudgetNotices(s, kCny, "vision");
  ASSERT_EQ(n.size(), 2U);
  EXPECT_EQ(n[0].cause_key, "budget/project/yolo-edge/2026-12/80");
  EXPECT_EQ(n[0].event, "budget.80");
  EXPECT_EQ(n[1].cause_key, "budget/project/yolo-edge/2026-12/100");
  EXPECT_EQ(n[1].event, "budget.100");
  EXPECT_EQ(n[1].project, "yolo-edge");
  EXPECT_EQ(n[1].department, "vision");
  EXPECT_EQ(n[1].audiences,
            (std::vector<Audience>{Audience::kFinance, Audience::kDeptAdmin, Audience::kProjectChannel}));
  const auto field = [&](const std::string& k) {
    for (const auto& [name, v] : n[1].fields) {
      if (name == k) return v;
    }
    return std::string("(none)");
  };
  EXPECT_EQ(field("budget"), "10000.00 CNY");
  EXPECT_EQ(field("month_to_date"), "10500.00 CNY");
  EXPECT_EQ(field("share"), "105 %");
}

TEST(BudgetRule, DepartmentNoticesGoToFinanceAndTheDepartmentAdminOnly) {
  BudgetRecord b = Project(1000);
  b.scope = BudgetScope::kDepartment;
  b.name = "vision";
  BudgetStanding s = EvaluateBudget(b, kCny, kDecMonth, kDec, kDec.start + 40 * kHourMs, Yuan(9));
  std::vector<Notice> n = BudgetNotices(s, kCny);
  ASSERT_EQ(n.size(), 1U);
  EXPECT_EQ(n[0].cause_key, "budget/department/vision/2026-12/80");
  EXPECT_EQ(n[0].department, "vision");
  EXPECT_TRUE(n[0].project.empty());
  EXPECT_EQ(n[0].audiences, (std::vector<Audience>{Audience::kFinance, Audience::kDeptAdmin}));
}

TEST(BudgetRule, NothingIsDueBelowEightyPercentWithoutAnOverrunProjected) {
  BudgetStanding s = EvaluateBudget(Project(1'000'000), kCny, kDecMonth, kDec, kDec.start + 20 * kDayMs, Yuan(5000));
  EXPECT_TRUE(BudgetNotices(s, kCny).empty());
}

TEST(BudgetRule, ScopeCostsSumJobsByProjectAndDepartment) {
  ScopeCosts c = SumScopeCosts({{"j1", 10}, {"j2", 5}, {"j3", 7}, {"unknown", 100}},
                               {{"j1", {"a", "vision"}}, {"j2", {"b", "vision"}}, {"j3", {"a", "nlp"}}});
  EXPECT_EQ(c.Of(BudgetScope::kProject, "a"), 17);
  EXPECT_EQ(c.Of(BudgetScope::kProject, "b"), 5);
  EXPECT_EQ(c.Of(BudgetScope::kDepartment, "vision"), 15);
  EXPECT_EQ(c.Of(BudgetScope::kDepartment, "nlp"), 7);
  EXPECT_EQ(c.Of(BudgetScope::kDepartment, "none"), 0);
}

TEST(BudgetGate, CountsTheSubmissionsOwnEstimate) {
  BudgetStanding s = EvaluateBudget(Project(1'000'000), kCny, kDecMonth, kDec, kDec.start + kDayMs, Yuan(9990));
  EXPECT_FALSE(CheckBudgetGate(s, Yuan(9), kCny).hit);
  GateVerdict v = CheckBudgetGate(s, Yuan(10), kCny);
  EXPECT_TRUE(v.hit);
  EXPECT_EQ(v.message,
            "the project budget of 'yolo-edge' for 2026-12 is 10000.00 CNY; its month-to-date cost is 9990.00 CNY "
            "and this submission's estimate 10.00 CNY takes it to 10000.00 CNY (100 % of the budget)");
}

TEST(BudgetGate, ABudgetAlreadySpentIsHitWithoutAnEstimate) {
  BudgetStanding s = EvaluateBudget(Project(100), kCny, kDecMonth, kDec, kDec.start + kDayMs, Yuan(2));
  GateVerdict v = CheckBudgetGate(s, 0, kCny);
  EXPECT_TRUE(v.hit);
  EXPECT_NE(v.message.find("its month-to-date cost is 2.00 CNY (200 % of the budget)"), std::string::npos);
}

TEST(BudgetValidation, RefusesEmptyNamesZeroAmountsAndAnotherCurrency) {
  EXPECT_TRUE(ValidateBudget(Project(1), kCny).ok());
  BudgetRecord b = Project(0);
  EXPECT_NE(ValidateBudget(b, kCny).message().find("above zero (seen 0"), std::string::npos);
  b = Project(1);
  b.name = "";
  EXPECT_FALSE(ValidateBudget(b, kCny).ok());
  b = Project(1);
  b.currency = "USD";
  EXPECT_NE(ValidateBudget(b, kCny).message().find("not the ledger's currency CNY"), std::string::npos);
  b = Project(900'000'000'000'001);  // 9e12 CNY and a fen
  EXPECT_FALSE(ValidateBudget(b, kCny).ok());
  EXPECT_TRUE(ValidateBudget(Project(900'000'000'000'000), kCny).ok());
}

}  // namespace
}  // namespace gpuledger
