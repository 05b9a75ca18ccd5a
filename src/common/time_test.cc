#include "common/time.h"

#include <gtest/gtest.h>

#include "common/tz.h"

namespace gpuledger {
namespace {

TEST(ParseTime, AcceptsRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(*ParseTime("2026-10-01T00:00:00Z"), 1790812800000);
  EXPECT_EQ(*ParseTime("2026-10-01T08:00:00+08:00"), 1790812800000);
  EXPECT_EQ(*ParseTime("2026-10-01 00:00:00.250Z"), 1790812800250);
  EXPECT_EQ(*ParseTime("1790812800"), 1790812800000);
  EXPECT_EQ(*ParseTime("1790812800.5"), 1790812800500);
}

TEST(ParseTime, RejectsMalformedAndOutOfRangeNamingTheValue) {
  for (const char* bad : {"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-10-01T00:00:00", "yesterday",
                          "", "nan", "2026-10-01T00:00:00Zjunk"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
  Status s = ParseTime("1990-01-01T00:00:00Z").status();
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("1990-01-01T00:00:00Z"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("2000-01-01"), std::string::npos) << s.message();
}

TEST(FormatTime, RoundTrips) {
  for (TimeMs t : {kMinTimeMs, TimeMs{1790812800250}, kMaxTimeMs - 1})
    EXPECT_EQ(*ParseTime(FormatTime(t)), t);
}

TEST(ParseDuration, GoStyle) {
  EXPECT_EQ(*ParseDuration("48h"), 48 * kHourMs);
  EXPECT_EQ(*ParseDuration("1h30m"), 90 * kMinuteMs);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_FALSE(ParseDuration("5 parsecs").ok());
  EXPECT_FALSE(ParseDuration("0s").ok());
}

TEST(TimeZone, ShanghaiMonthStartsAtLocalMidnight) {
  auto tz = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  Window w = *tz->MonthWindow({2026, 10});
  EXPECT_EQ(FormatTime(w.start), "2026-09-30T16:00:00Z");
  EXPECT_EQ(FormatTime(w.end), "2026-10-31T16:00:00Z");
  EXPECT_EQ(*tz->MonthOf(w.start), (YearMonth{2026, 10}));
  EXPECT_EQ(*tz->MonthOf(w.start - 1), (YearMonth{2026, 9}));
}

TEST(TimeZone, NewYorkMonthsFollowDaylightSaving) {
  auto tz = TimeZone::Load("America/New_York");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  // October starts in EDT (-4), December in EST (-5): November is 30 days and 1 hour.
  Window nov = *tz->MonthWindow({2026, 11});
  EXPECT_EQ(FormatTime(nov.start), "2026-11-01T04:00:00Z");
  EXPECT_EQ(FormatTime(nov.end), "2026-12-01T05:00:00Z");
  EXPECT_EQ(nov.length(), 30 * kDayMs + kHourMs);
  // March loses an hour.
  Window mar = *tz->MonthWindow({2026, 3});
  EXPECT_EQ(mar.length(), 31 * kDayMs - kHourMs);
  // A wall time inside the spring-forward gap maps to the end of the gap.
  const int64_t gap_local = DaysFromCivil(2026, 3, 8) * 86400 + 2 * 3600 + 30 * 60;  // 02:30 does not exist
  EXPECT_EQ(FormatTime(*tz->LocalToUtc(gap_local)), "2026-03-08T07:00:00Z");
  // An ambiguous wall time (01:30 on the fall-back day) takes the earlier instant.
  const int64_t amb_local = DaysFromCivil(2026, 11, 1) * 86400 + 1 * 3600 + 30 * 60;
  EXPECT_EQ(FormatTime(*tz->LocalToUtc(amb_local)), "2026-11-01T05:30:00Z");
}

TEST(TimeZone, RejectsBadNamesAndBytes) {
  EXPECT_EQ(TimeZone::Load("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(TimeZone::FromTzif("x", "TZif2").ok());
  EXPECT_FALSE(TimeZone::FromTzif("x", std::string(60, 'A')).ok());
}

}  // namespace
}  // namespace gpuledger
