// Instants, half-open windows and their text forms. Pure; thread-safe.
// An instant is int64 milliseconds since the Unix epoch, UTC (Prometheus' resolution).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

using TimeMs = int64_t;
using DurationMs = int64_t;

inline constexpr DurationMs kSecondMs = 1000;
inline constexpr DurationMs kMinuteMs = 60 * kSecondMs;
inline constexpr DurationMs kHourMs = 60 * kMinuteMs;
inline constexpr DurationMs kDayMs = 24 * kHourMs;

// The instants gpuledger accepts: 2000-01-01T00:00:00Z up to (not including) 2100.
inline constexpr TimeMs kMinTimeMs = 946684800000;
inline constexpr TimeMs kMaxTimeMs = 4102444800000;

// `t` floored to a multiple of `span` (also before 1970): the UTC hour, day or minute
// holding it.
inline TimeMs FloorTo(TimeMs t, DurationMs span) {
  const TimeMs r = t % span;
  return t - (r < 0 ? r + span : r);
}

// [start, end): every window in gpuledger is half-open, so adjacent windows never
// count the same millisecond twice.
struct Window {
  TimeMs start = 0;
  TimeMs end = 0;

  DurationMs length() const { return end > start ? end - start : 0; }
  bool Contains(TimeMs t) const { return t >= start && t < end; }
  Window Intersect(const Window& o) const {
    Window w{start > o.start ? start : o.start, end < o.end ? end : o.end};
    if (w.end < w.start) w.end = w.start;
    return w;
  }
  bool operator==(const Window&) const = default;
};

// Days since 1970-01-01 for a proleptic Gregorian civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// "2026-10-01T08:00:00Z", "2026-10-01T08:00:00.250+08:00", "2026-10-01 08:00:00Z",
// or Unix seconds with an optional fraction ("1759305600", "1759305600.5").
StatusOr<TimeMs> ParseTime(std::string_view text);
// Checks that t lies in [kMinTimeMs, kMaxTimeMs); names the value and the range if not.
Status CheckTimeInRange(TimeMs t, std::string_view what);

// RFC 3339 in UTC with millisecond precision only when needed: "2026-10-01T08:00:00Z".
std::string FormatTime(TimeMs t);

// Go-style durations: "48h", "90m", "10s", "1h30m", "250ms". Positive only.
StatusOr<DurationMs> ParseDuration(std::string_view text);

// "YYYY-MM" -> year and month.
struct YearMonth {
  int year = 0;
  int month = 0;  // 1..12
  YearMonth Next() const { return month == 12 ? YearMonth{year + 1, 1} : YearMonth{year, month + 1}; }
  YearMonth Prev() const { return month == 1 ? YearMonth{year - 1, 12} : YearMonth{year, month - 1}; }
  std::string ToString() const;
  auto operator<=>(const YearMonth&) const = default;
};
StatusOr<YearMonth> ParseYearMonth(std::string_view text);

}  // namespace gpuledger
