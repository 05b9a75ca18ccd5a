// Report periods: a date range in the organisation's time zone (`--from/--to`, like
// sreport's start and end) cut into days, weeks or months, each period a half-open UTC
// window. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "common/tz.h"

namespace gpuledger {

// How a range is cut: not at all (one period), by local day, by ISO week (Monday to
// Sunday, clipped to the range) or by calendar month (clipped to the range).
enum class Grain { kRange, kDay, kWeek, kMonth };
StatusOr<Grain> ParseGrain(std::string_view s);  // range | day | week | month
std::string_view GrainName(Grain g);

struct Period {
  std::string label;  // "2026-10" (a month), "2026-10-05" (a day, or the week from it), "2026-10-01..2026-10-31"
  Window window;      // UTC instants
  // The period is one whole calendar month: it reads the month's books (closed, with the
  // month before and its adjustments) rather than a window of them.
  std::optional<YearMonth> month;
};

struct DateRange {
  std::string first_day, last_day;  // local dates, YYYY-MM-DD, both inside the range
  Window window;                    // [local midnight of first_day, local midnight after last_day)
  Grain grain = Grain::kRange;
  std::vector<Period> periods;  // in time order, covering window exactly
};

// At most this many periods in one range (a year by day, or more by week or month).
inline constexpr size_t kMaxPeriods = 400;

// `from` and `to` are local dates (YYYY-MM-DD) or months (YYYY-MM: its first day for
// from, its last for to); `to` is inclusive. Errors name the argument and the value.
StatusOr<DateRange> MakeDateRange(const TimeZone& tz, std::string_view from, std::string_view to, Grain grain);

}  // namespace gpuledger
