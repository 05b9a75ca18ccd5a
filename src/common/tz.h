// TimeZone: IANA zone rules read from TZif data (RFC 8636), for calendar months in the
// organisation's zone. libstdc++ 12 has no std::chrono::tzdb, so gpuledger reads the
// system's /usr/share/zoneinfo itself. Parsing is pure (FromTzif); Load does the file
// read. Immutable after construction; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

class TimeZone {
 public:
  // Parses TZif version 1-4 bytes. `name` is only used in messages.
  static StatusOr<TimeZone> FromTzif(std::string_view name, std::string_view bytes);
  // Reads <zoneinfo_dir>/<name>; rejects names that are not IANA-shaped.
  static StatusOr<TimeZone> Load(std::string_view name,
                                 std::string_view zoneinfo_dir = "/usr/share/zoneinfo");
  static TimeZone Utc();

  const std::string& name() const { return name_; }

  // UTC offset in seconds in force at t.
  StatusOr<int64_t> OffsetAt(TimeMs t) const;
  // The first instant whose local wall time is at or after `local_s` (seconds since the
  // epoch as if the local wall clock were UTC). Ambiguous times take the earlier
  // instant; times in a spring-forward gap map to the end of the gap.
  StatusOr<TimeMs> LocalToUtc(int64_t local_s) const;

  // [local midnight of the 1st, local midnight of the next 1st) in UTC.
  StatusOr<Window> MonthWindow(YearMonth m) const;
  // The local calendar month that contains t.
  StatusOr<YearMonth> MonthOf(TimeMs t) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_s_;  // ascending, UTC seconds
  std::vector<int32_t> offsets_after_;  // offset in force from transitions_s_[i]
  int32_t initial_offset_ = 0;          // before the first transition
  bool rules_after_last_ = false;       // footer has DST rules beyond the table
};

}  // namespace gpuledger
