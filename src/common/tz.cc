#include "common/tz.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace gpuledger {

namespace {

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool Has(size_t n) const { return pos_ + n <= b_.size(); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    return v;
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    return static_cast<int64_t>(v);
  }
  uint8_t U8() { return static_cast<unsigned char>(b_[pos_++]); }
  void Skip(size_t n) { pos_ += n; }
  std::string_view Rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

struct Counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

}  // namespace

StatusOr<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view bytes) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("time zone '" + std::string(name) + "': " + std::string(why));
  };
  Reader r(bytes);
  auto header = [&](Counts& c, char& version) -> bool {
    if (!r.Has(44)) return false;
    char m[4] = {static_cast<char>(r.U8()), static_cast<char>(r.U8()), static_cast<char>(r.U8()),
                 static_cast<char>(r.U8())};
    if (std::string_view(m, 4) != "TZif") return false;
    version = static_cast<char>(r.U8());
    r.Skip(15);
    c = {r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32()};
    return true;
  };
  Counts c{};
  char version = 0;
  if (!header(c, version)) return bad("not TZif data (bad magic or truncated header)");
  constexpr uint32_t kLimit = 100000;
  if (c.time > kLimit || c.type > 256 || c.type == 0 || c.chars > kLimit || c.leap > kLimit || c.isut > 256 ||
      c.isstd > 256) {
    return bad("implausible counts in header");
  }
  size_t v1 = size_t{c.time} * 5 + size_t{c.type} * 6 + c.chars + size_t{c.leap} * 8 + c.isstd + c.isut;
  int time_size = 4;
  if (version >= '2') {
    if (!r.Has(v1)) return bad("truncated version 1 data block");
    r.Skip(v1);
    if (!header(c, version)) return bad("missing version 2+ header");
    if (c.time > kLimit || c.type > 256 || c.type == 0 || c.chars > kLimit || c.leap > kLimit ||
        c.isut > 256 || c.isstd > 256) {
      return bad("implausible counts in version 2+ header");
    }
    time_size = 8;
  }
  const size_t need = size_t{c.time} * (time_size + 1) + size_t{c.type} * 6 + c.chars +
                      size_t{c.leap} * (time_size + 4) + c.isstd + c.isut;
  if (!r.Has(need)) return bad("truncated data block");
  TimeZone tz;
  tz.name_ = std::string(name);
  std::vector<int64_t> times(c.time);
  for (auto& t : times) t = time_size == 8 ? r.I64() : static_cast<int32_t>(r.U32());
  std::vector<uint8_t> idx(c.time);
  for (auto& i : idx) i = r.U8();
  std::vector<int32_t> type_off(c.type);
  std::vector<bool> type_dst(c.type);
  for (uint32_t i = 0; i < c.type; ++i) {
    type_off[i] = static_cast<int32_t>(r.U32());
    type_dst[i] = r.U8() != 0;
    r.Skip(1);
    if (type_off[i] < -25 * 3600 || type_off[i] > 26 * 3600) return bad("offset out of range");
  }
  r.Skip(c.chars + size_t{c.leap} * (time_size + 4) + c.isstd + c.isut);
  for (uint32_t i = 0; i < c.time; ++i) {
    if (idx[i] >= c.type) return bad("transition names a missing local time type");
    if (i > 0 && times[i] <= times[i - 1]) return bad("transitions not ascending");
  }
  // RFC 8636 3.2: the first type is the one in force before the first transition.
  tz.initial_offset_ = type_off[0];
  tz.transitions_s_ = std::move(times);
  for (uint8_t i : idx) tz.offsets_after_.push_back(type_off[i]);
  if (version >= '2') {
    std::string_view footer = r.Rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      size_t end = footer.find('\n', 1);
      std::string_view rule = footer.substr(1, end == std::string_view::npos ? 0 : end - 1);
      tz.rules_after_last_ = rule.find(',') != std::string_view::npos;
    }
  }
  return tz;
}

StatusOr<TimeZone> TimeZone::Load(std::string_view name, std::string_view zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  bool ok_name =
      !name.empty() && name.size() < 64 && name.find("..") == std::string_view::npos && name[0] != '/';
  for (char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' || ch == '+')) {
      ok_name = false;
    }
  }
  if (!ok_name) {
    return InvalidArgument("time zone '" + std::string(name) +
                           "' is not an IANA zone name such as Asia/Shanghai");
  }
  std::string path = std::string(zoneinfo_dir) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("time zone '" + std::string(name) + "' not found at " + path +
                    " (is the tzdata package installed?)");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return FromTzif(name, ss.str());
}

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  return tz;
}

StatusOr<int64_t> TimeZone::OffsetAt(TimeMs t) const {
  const int64_t s = t >= 0 ? t / 1000 : (t - 999) / 1000;
  auto it = std::upper_bound(transitions_s_.begin(), transitions_s_.end(), s);
  if (it == transitions_s_.begin()) return initial_offset_;
  if (it == transitions_s_.end() && rules_after_last_) {
    return OutOfRange("time zone '" + name_ + "': " + FormatTime(t) +
                      " is past the zone's transition table (last " +
                      FormatTime(transitions_s_.back() * 1000) +
                      "); rules beyond it are not supported, install a 'fat' tzdata");
  }
  return offsets_after_[static_cast<size_t>(it - transitions_s_.begin()) - 1];
}

StatusOr<TimeMs> TimeZone::LocalToUtc(int64_t local_s) const {
  // Candidate offsets: those in force a day either side cover every real transition.
  int64_t candidates[3];
  ASSIGN_OR_RETURN(candidates[0], OffsetAt((local_s - 86400) * 1000));
  ASSIGN_OR_RETURN(candidates[1], OffsetAt(local_s * 1000));
  ASSIGN_OR_RETURN(candidates[2], OffsetAt((local_s + 86400) * 1000));
  bool found = false;
  int64_t best = 0;
  for (int64_t off : candidates) {
    const int64_t u = local_s - off;
    ASSIGN_OR_RETURN(int64_t actual, OffsetAt(u * 1000));
    if (actual == off && (!found || u < best)) {
      best = u;
      found = true;
    }
  }
  if (found) return best * 1000;
  // A gap: the wall clock jumped over local_s; the first later instant is the transition.
  const int64_t lo = local_s - std::max({candidates[0], candidates[1], candidates[2]});
  auto it = std::lower_bound(transitions_s_.begin(), transitions_s_.end(), lo);
  if (it == transitions_s_.end()) return Internal("time zone '" + name_ + "': no transition for gap");
  return *it * 1000;
}

StatusOr<Window> TimeZone::MonthWindow(YearMonth m) const {
  const YearMonth n = m.Next();
  const int64_t a = DaysFromCivil(m.year, static_cast<unsigned>(m.month), 1) * 86400;
  const int64_t b = DaysFromCivil(n.year, static_cast<unsigned>(n.month), 1) * 86400;
  Window w;
  ASSIGN_OR_RETURN(w.start, LocalToUtc(a));
  ASSIGN_OR_RETURN(w.end, LocalToUtc(b));
  return w;
}

StatusOr<YearMonth> TimeZone::MonthOf(TimeMs t) const {
  ASSIGN_OR_RETURN(int64_t off, OffsetAt(t));
  const int64_t local_ms = t + off * 1000;
  const int64_t days = local_ms >= 0 ? local_ms / kDayMs : (local_ms - kDayMs + 1) / kDayMs;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, y, mo, d);
  return YearMonth{static_cast<int>(y), static_cast<int>(mo)};
}

}  // namespace gpuledger
