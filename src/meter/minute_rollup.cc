#include "meter/minute_rollup.h"

#include <algorithm>

namespace gpuledger {

void MinuteRoller::Add(const Sample& s) {
  if (!window_.Contains(s.t) || s.util_pct < 0) return;  // as the meter: no utilisation, no sample
  const TimeMs minute = s.t - s.t % kMinuteMs;
  if (cur_.samples > 0 && minute > cur_.minute_ms) Flush();
  // Older than the minute being filled or one already closed: late, dropped as the meter does.
  if ((cur_.samples > 0 && minute < cur_.minute_ms) || (!out_.empty() && minute <= out_.back().minute_ms))
    return;
  cur_.minute_ms = minute;
  ++cur_.samples;
  util_sum_ += s.util_pct;
  cur_.util_max_pct = std::max(cur_.util_max_pct, s.util_pct);
  cur_.mem_max_mib = std::max(cur_.mem_max_mib, s.mem_mib);
  if (s.power_w >= 0) {
    power_sum_ += s.power_w;
    ++power_n_;
  }
}

void MinuteRoller::Flush() {
  if (cur_.samples == 0) return;
  cur_.util_mean_pct = static_cast<float>(util_sum_ / cur_.samples);
  cur_.power_mean_w = power_n_ ? static_cast<float>(power_sum_ / power_n_) : -1.0f;
  out_.push_back(cur_);
  cur_ = MinuteRollup();
  util_sum_ = power_sum_ = 0;
  power_n_ = 0;
}

std::vector<MinuteRollup> MinuteRoller::Finish() {
  Flush();
  return std::move(out_);
}

}  // namespace gpuledger
