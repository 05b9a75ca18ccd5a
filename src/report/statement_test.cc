// A statement sent on a schedule: when it is due (in the ledger's time zone, the month
// before this one once the day and hour have passed), and the notice that carries it,
// whose fields keep within the outbox's limit by leaving out users, never totals.
#include "report/statement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gpuledger {
namespace {

TEST(StatementDue, TheMonthBeforeIsDueOnceTheDayAndHourPassInTheZone) {
  auto tz = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  // October's statement on 2 November at 09:00 in Shanghai: 01:00 UTC.
  auto send = StatementSendTime(*tz, {2026, 10}, 2, 9);
  ASSERT_TRUE(send.ok()) << send.status().ToString();
  EXPECT_EQ(FormatTime(*send), "2026-11-02T01:00:00Z");
  auto due = [&](TimeMs t, int day = 2, int hour = 9) {
    auto m = StatementMonthDue(*tz, day, hour, t);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? m->ToString() : std::string();
  };
  EXPECT_EQ(due(*send - 1), "2026-09");  // not yet: September's is the latest due
  EXPECT_EQ(due(*send), "2026-10");
  EXPECT_EQ(due(*send + 20 * kDayMs), "2026-10");
  // January's is due in February, December's in the new year.
  auto jan = StatementSendTime(*tz, {2027, 1}, 28, 23);
  ASSERT_TRUE(jan.ok());
  EXPECT_EQ(FormatTime(*jan), "2027-02-28T15:00:00Z");
  auto dec = StatementSendTime(*tz, {2026, 12}, 1, 0);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(FormatTime(*dec), "2026-12-31T16:00:00Z");
  EXPECT_EQ(due(*dec, 1, 0), "2026-12");
  EXPECT_EQ(due(*dec - 1, 1, 0), "2026-11");
  EXPECT_EQ(StatementSendTime(*tz, {2026, 10}, 29, 9).status().message(),
            "statement schedule day 29 hour 9 (allowed day 1..28, hour 0..23)");
}

ProjectStatement Statement(int users) {
  ProjectStatement s;
  s.month = {2026, 10};
  s.project = "yolo-edge";
  s.department = "vision";
  s.currency = Currency{"CNY", 2};
  s.rank = 2;
  s.projects = 5;
  s.prev_cost_micros = 700'000'000;
  for (int i = 0; i < users; ++i) {
    StatementUser u;
    u.user = "user-" + std::to_string(i);
    u.jobs = 1;
    u.gpu_hours = 2.5;
    u.cost_micros = 10'000'000;
    s.users.push_back(u);
    s.jobs += 1;
    s.gpu_hours += 2.5;
    s.cost_micros += u.cost_micros;
  }
  for (StatementUser& u : s.users) u.share = 1.0 / users;
  return s;
}

std::string Field(const Notice& n, const std::string& name) {
  for (const auto& [k, v] : n.fields) {
    if (k == name) return v;
  }
  return "(none)";
}

TEST(StatementNotice, CarriesTheTotalsTheTextAndTheJsonUnderItsCauseKey) {
  const Notice n = StatementNotice(Statement(3), 1793000000000, 8192);
  EXPECT_EQ(n.cause_key, "statement/yolo-edge/2026-10");
  EXPECT_EQ(n.event, "statement.monthly");
  EXPECT_EQ(n.project, "yolo-edge");
  EXPECT_EQ(n.department, "vision");
  EXPECT_EQ(n.audiences, (std::vector<Audience>{Audience::kStatement}));
  EXPECT_EQ(Field(n, "cost"), "30.00");
  EXPECT_EQ(Field(n, "gpu_hours"), "7.5");
  EXPECT_EQ(Field(n, "prev_cost"), "700.00");
  EXPECT_EQ(Field(n, "rank"), "2 of 5");
  EXPECT_EQ(Field(n, "users"), "3");
  EXPECT_EQ(Field(n, "users_omitted"), "(none)");
  EXPECT_EQ(Field(n, "statement_text"), RenderStatementText(Statement(3)));
  const auto j = nlohmann::json::parse(Field(n, "statement_json"));
  EXPECT_EQ(j, nlohmann::json::parse(RenderStatementJson(Statement(3))));
}

TEST(StatementNotice, UsersPastTheFieldLimitAreLeftOutOfTextAndJsonAlikeAndTheTotalsStay) {
  const ProjectStatement s = Statement(500);
  ASSERT_GT(RenderStatementJson(s, -1).size(), 8192u);
  const Notice n = StatementNotice(s, 0, 8192);
  const std::string text = Field(n, "statement_text"), json = Field(n, "statement_json");
  EXPECT_LE(text.size(), 8192u);
  EXPECT_LE(json.size(), 8192u);
  const auto j = nlohmann::json::parse(json);
  const size_t shown = j["users"].size();
  ASSERT_GT(shown, 10u);
  EXPECT_EQ(Field(n, "users_omitted"), std::to_string(500 - shown));
  EXPECT_EQ(j["users"].back()["user"], "user-" + std::to_string(shown - 1));
  EXPECT_NE(text.find("  user-" + std::to_string(shown - 1) + " "), std::string::npos);
  EXPECT_EQ(text.find("  user-" + std::to_string(shown) + " "), std::string::npos);
  EXPECT_NE(text.find("... and " + std::to_string(500 - shown) +
                      " more users (gpuledger statement --project yolo-edge --month 2026-10)"),
            std::string::npos);
  // The totals are the whole project's.
  EXPECT_EQ(j["cost"], "5000.00");
  EXPECT_EQ(Field(n, "cost"), "5000.00");
  EXPECT_EQ(Field(n, "users"), "500");
  // One more user would not have fitted.
  ProjectStatement more = s;
  more.users.resize(shown + 1);
  EXPECT_TRUE(RenderStatementJson(more, -1).size() > 8192u || RenderStatementText(more).size() > 8192u);
}

}  // namespace
}  // namespace gpuledger
