#include "report/periods.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TimeMs T(const char* s) { return *ParseTime(s); }

TEST(DateRange, DaysWeeksAndMonthsCoverTheRangeInTheZone) {
  auto tz = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(tz.ok());
  auto r = MakeDateRange(*tz, "2026-09-28", "2026-10-06", Grain::kDay);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->window, (Window{T("2026-09-27T16:00:00Z"), T("2026-10-06T16:00:00Z")}));
  ASSERT_EQ(r->periods.size(), 9u);
  EXPECT_EQ(r->periods[0].label, "2026-09-28");
  EXPECT_EQ(r->periods[8].label, "2026-10-06");
  for (size_t i = 0; i < r->periods.size(); ++i) {
    EXPECT_EQ(r->periods[i].window.length(), kDayMs);
    EXPECT_FALSE(r->periods[i].month);
    if (i > 0) {
      EXPECT_EQ(r->periods[i].window.start, r->periods[i - 1].window.end);
    }
  }
  // ISO weeks: Monday 2026-09-28 to Sunday 2026-10-04, then from Monday 2026-10-05.
  r = MakeDateRange(*tz, "2026-09-28", "2026-10-06", Grain::kWeek);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->periods.size(), 2u);
  EXPECT_EQ(r->periods[0].label, "2026-09-28");
  EXPECT_EQ(r->periods[0].window, (Window{T("2026-09-27T16:00:00Z"), T("2026-10-04T16:00:00Z")}));
  EXPECT_EQ(r->periods[1].label, "2026-10-05");
  EXPECT_EQ(r->periods[1].window.length(), 2 * kDayMs);  // clipped to the range
  // Months: a clipped month is a window; a whole one is the month's books.
  r = MakeDateRange(*tz, "2026-09-15", "2026-10", Grain::kMonth);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->periods.size(), 2u);
  EXPECT_EQ(r->periods[0].label, "2026-09-15..2026-09-30");
  EXPECT_FALSE(r->periods[0].month);
  EXPECT_EQ(r->periods[1].label, "2026-10");
  ASSERT_TRUE(r->periods[1].month);
  EXPECT_EQ(*r->periods[1].month, (YearMonth{2026, 10}));
  EXPECT_EQ(r->periods[1].window, *tz->MonthWindow({2026, 10}));
  // No grain: one period, the month's books when it is exactly one month.
  r = MakeDateRange(*tz, "2026-10", "2026-10", Grain::kRange);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->periods.size(), 1u);
  EXPECT_TRUE(r->periods[0].month);
  EXPECT_EQ(r->periods[0].label, "2026-10-01..2026-10-31");
  EXPECT_EQ(r->first_day, "2026-10-01");
  EXPECT_EQ(r->last_day, "2026-10-31");
}

TEST(DateRange, DaysFollowTheZonesClockChanges) {
  auto tz = TimeZone::Load("America/New_York");
  ASSERT_TRUE(tz.ok());
  auto r = MakeDateRange(*tz, "2026-11-01", "2026-11-02", Grain::kDay);  // DST ends on the 1st
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->periods.size(), 2u);
  EXPECT_EQ(r->periods[0].window.length(), 25 * kHourMs);
  EXPECT_EQ(r->periods[1].window.length(), 24 * kHourMs);
  EXPECT_EQ(r->periods[0].window.start, T("2026-11-01T04:00:00Z"));
}

TEST(DateRange, RefusesWhatIsNotARangeNamingTheValue) {
  const TimeZone utc = TimeZone::Utc();
  auto bad = MakeDateRange(utc, "2026-02-30", "2026-03-01", Grain::kDay);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--from '2026-02-30'"), std::string::npos) << bad.status().message();
  bad = MakeDateRange(utc, "2026-10-01", "26-10-02", Grain::kDay);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--to '26-10-02'"), std::string::npos);
  bad = MakeDateRange(utc, "2026-10-05", "2026-10-04", Grain::kDay);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("before --from 2026-10-05"), std::string::npos);
  bad = MakeDateRange(utc, "2025-01-01", "2026-12-31", Grain::kDay);  // 730 days
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("more than 400 periods"), std::string::npos)
      << bad.status().message();
  EXPECT_TRUE(MakeDateRange(utc, "2025-01-01", "2026-12-31", Grain::kWeek).ok());
  EXPECT_FALSE(ParseGrain("hour").ok());
  EXPECT_EQ(GrainName(*ParseGrain("week")), "week");
}

}  // namespace
}  // namespace gpuledger
