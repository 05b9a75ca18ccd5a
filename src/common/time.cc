#include "common/time.h"

#include <charconv>
#include <cstdio>

#include "common/strings.h"

namespace gpuledger {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned DaysInMonth(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

StatusOr<TimeMs> ParseRfc3339(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("time '" + std::string(s) + "' is not RFC 3339 (" + std::string(why) +
                           "); expected e.g. 2026-10-01T08:00:00Z");
  };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return bad("malformed date or time");
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo) || h > 23 || mi > 59 ||
      sec > 60) {
    return bad("field out of range");
  }
  if (sec == 60) sec = 59;  // leap second: Unix time has none; clamp.
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad("empty fraction");
    for (int i = n; i < 3; ++i) frac_ms *= 10;
  }
  int64_t offset_s = 0;
  if (pos >= s.size()) return bad("missing zone, e.g. Z or +08:00");
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad("malformed zone offset");
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("missing zone, e.g. Z or +08:00");
  }
  if (pos != s.size()) return bad("trailing characters");
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000 + frac_ms;
}

}  // namespace

StatusOr<TimeMs> ParseTime(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return InvalidArgument("time is empty");
  TimeMs t;
  if (s.size() >= 5 && s[4] == '-') {
    ASSIGN_OR_RETURN(t, ParseRfc3339(s));
  } else {
    // Unix seconds, optional fraction (up to millisecond precision is kept).
    ASSIGN_OR_RETURN(double secs, ParseDouble(s, "Unix time"));
    if (!(secs >= 0 && secs < 1e11)) {
      return InvalidArgument("Unix time '" + std::string(s) + "' is out of range");
    }
    t = static_cast<TimeMs>(secs * 1000.0 + 0.5);
  }
  RETURN_IF_ERROR(CheckTimeInRange(t, "time '" + std::string(s) + "'"));
  return t;
}

Status CheckTimeInRange(TimeMs t, std::string_view what) {
  if (t < kMinTimeMs || t >= kMaxTimeMs) {
    return OutOfRange(std::string(what) + " = " + FormatTime(t) +
                      " is outside the accepted range [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z)");
  }
  return OkStatus();
}

std::string FormatTime(TimeMs t) {
  int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  const int64_t ms = t - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[64];
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y),
                  m, d, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60), static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60));
  }
  return buf;
}

StatusOr<DurationMs> ParseDuration(std::string_view text) {
  std::string_view s = Trim(text);
  auto bad = [&](std::string_view why) {
    return InvalidArgument("duration '" + std::string(s) + "' " + std::string(why) +
                           "; expected e.g. 48h, 90m, 1h30m, 10s, 250ms");
  };
  if (s.empty()) return bad("is empty");
  DurationMs total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return bad("has no number before its unit");
    int64_t n = 0;
    auto r = std::from_chars(s.data() + start, s.data() + pos, n);
    if (r.ec != std::errc() || n > 1'000'000'000) return bad("has a number out of range");
    size_t ustart = pos;
    while (pos < s.size() && (s[pos] < '0' || s[pos] > '9')) ++pos;
    std::string_view unit = s.substr(ustart, pos - ustart);
    DurationMs mult;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = kSecondMs;
    else if (unit == "m")
      mult = kMinuteMs;
    else if (unit == "h")
      mult = kHourMs;
    else if (unit == "d")
      mult = kDayMs;
    else
      return bad("has unknown unit '" + std::string(unit) + "'");
    total += n * mult;
    if (total > 100LL * 365 * kDayMs) return bad("exceeds 100 years");
  }
  if (total <= 0) return bad("is not positive");
  return total;
}

std::string YearMonth::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

StatusOr<YearMonth> ParseYearMonth(std::string_view text) {
  int y, m;
  if (text.size() != 7 || !Digits(text, 0, 4, y) || text[4] != '-' || !Digits(text, 5, 2, m) || m < 1 ||
      m > 12 || y < 2000 || y > 2099) {
    return InvalidArgument("month '" + std::string(text) + "' is not YYYY-MM between 2000-01 and 2099-12");
  }
  return YearMonth{y, m};
}

}  // namespace gpuledger
