#include "report/periods.h"

#include <algorithm>

namespace gpuledger {

StatusOr<Grain> ParseGrain(std::string_view s) {
  if (s == "range") return Grain::kRange;
  if (s == "day") return Grain::kDay;
  if (s == "week") return Grain::kWeek;
  if (s == "month") return Grain::kMonth;
  return InvalidArgument("--grain '" + std::string(s) + "' is not one of range, day, week, month");
}

std::string_view GrainName(Grain g) {
  switch (g) {
    case Grain::kDay:
      return "day";
    case Grain::kWeek:
      return "week";
    case Grain::kMonth:
      return "month";
    case Grain::kRange:
      break;
  }
  return "range";
}

namespace {

std::string DateText(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

bool TwoDigits(std::string_view s, size_t at, unsigned& v) {
  if (s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return false;
  v = static_cast<unsigned>((s[at] - '0') * 10 + (s[at + 1] - '0'));
  return true;
}

// A local date as days since 1970-01-01; a month names its first day, or its last
// (`last`).
StatusOr<int64_t> ParseDay(std::string_view arg, std::string_view text, bool last) {
  if (text.size() == 7) {
    auto m = ParseYearMonth(text);
    if (!m.ok()) return InvalidArgument(std::string(arg) + ": " + m.status().message());
    if (!last) return DaysFromCivil(m->year, static_cast<unsigned>(m->month), 1);
    const YearMonth n = m->Next();
    return DaysFromCivil(n.year, static_cast<unsigned>(n.month), 1) - 1;
  }
  unsigned mo = 0, d = 0;
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' && TwoDigits(text, 5, mo) &&
                      TwoDigits(text, 8, d);
  auto ym = shaped ? ParseYearMonth(text.substr(0, 7)) : StatusOr<YearMonth>(InvalidArgument(""));
  if (ym.ok() && d >= 1) {
    const int64_t days = DaysFromCivil(ym->year, mo, d);
    if (DateText(days) == text) return days;  // day within the month (no 2026-02-30)
  }
  return InvalidArgument(std::string(arg) + " '" + std::string(text) +
                         "' is not a date (YYYY-MM-DD) or month (YYYY-MM) between 2000-01 and 2099-12");
}

StatusOr<TimeMs> Midnight(const TimeZone& tz, int64_t days) { return tz.LocalToUtc(days * 86400); }

}  // namespace

StatusOr<DateRange> MakeDateRange(const TimeZone& tz, std::string_view from, std::string_view to,
                                  Grain grain) {
  ASSIGN_OR_RETURN(const int64_t first, ParseDay("--from", from, false));
  ASSIGN_OR_RETURN(const int64_t last, ParseDay("--to", to, true));
  if (last < first) {
    return InvalidArgument("--to " + DateText(last) + " is before --from " + DateText(first) +
                           " (--to is inclusive: the last day in the range)");
  }
  DateRange r;
  r.first_day = DateText(first);
  r.last_day = DateText(last);
  r.grain = grain;
  ASSIGN_OR_RETURN(r.window.start, Midnight(tz, first));
  ASSIGN_OR_RETURN(r.window.end, Midnight(tz, last + 1));
  // Period starts as local days: every day, each Monday, each 1st, and the range's first.
  std::vector<int64_t> starts{first};
  for (int64_t d = first + 1; d <= last && grain != Grain::kRange; ++d) {
    int64_t y;
    unsigned m, day;
    CivilFromDays(d, y, m, day);
    const bool monday = ((d % 7) + 7 + 3) % 7 == 0;  // 1970-01-01 was a Thursday
    if (grain == Grain::kDay || (grain == Grain::kWeek && monday) || (grain == Grain::kMonth && day == 1)) {
      starts.push_back(d);
      if (starts.size() > kMaxPeriods) {
        return InvalidArgument("--from " + r.first_day + " --to " + r.last_day + " by " +
                               std::string(GrainName(grain)) + " is more than " +
                               std::to_string(kMaxPeriods) +
                               " periods: take a coarser --grain or a shorter range");
      }
    }
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t end = i + 1 < starts.size() ? starts[i + 1] : last + 1;  // exclusive
    Period p;
    ASSIGN_OR_RETURN(p.window.start, Midnight(tz, starts[i]));
    ASSIGN_OR_RETURN(p.window.end, Midnight(tz, end));
    int64_t y, ey;
    unsigned m, d, em, ed;
    CivilFromDays(starts[i], y, m, d);
    CivilFromDays(end, ey, em, ed);
    const bool whole_month = d == 1 && ed == 1 && (ey * 12 + em) == (y * 12 + m) + 1;
    if (whole_month) p.month = YearMonth{static_cast<int>(y), static_cast<int>(m)};
    if (whole_month && grain != Grain::kRange) {
      p.label = p.month->ToString();
    } else if (grain == Grain::kDay || grain == Grain::kWeek) {
      p.label = DateText(starts[i]);
    } else {
      p.label = DateText(starts[i]) + ".." + DateText(end - 1);
    }
    r.periods.push_back(std::move(p));
  }
  return r;
}

}  // namespace gpuledger
