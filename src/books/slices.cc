#include "books/slices.h"

#include <algorithm>

#include "meter/minute_rollup.h"

namespace gpuledger {

std::vector<TimeMs> HoursOf(Window w) {
  std::vector<TimeMs> out;
  if (w.length() == 0) return out;
  for (TimeMs h = HourOf(w.start); h < w.end; h += kHourMs) out.push_back(h);
  return out;
}

namespace {

// One run of consecutive hours [first, last]: its samples (from the first hour's start
// to one max gap past the last's end), the sample before it, and whether any sample
// follows the scan.
struct Run {
  std::vector<Sample> samples;
  std::optional<Sample> before;
  bool more_after_scan = false;
};

StatusOr<std::vector<UsageRow>> MeterOne(const GpuSlicing& gpu, Window span, const Run& run,
                                         bool want_minutes, std::vector<MinuteRollup>* minutes) {
  GpuMeterSetup setup;
  setup.gpu_uuid = gpu.gpu_uuid;
  setup.gpu_model = gpu.gpu_model;
  setup.capacity = span;
  setup.cuts = gpu.cuts;
  setup.job_ids = gpu.job_ids;
  setup.holds = gpu.holds;
  setup.options = gpu.options;
  ASSIGN_OR_RETURN(GpuMeter meter, GpuMeter::Create(std::move(setup)));
  const TimeMs hour = HourOf(span.start), hour_end = hour + kHourMs;
  const auto by_t = [](const Sample& s, TimeMs t) { return s.t < t; };
  auto first = std::lower_bound(run.samples.begin(), run.samples.end(), hour, by_t);
  auto past = std::lower_bound(first, run.samples.end(), hour_end, by_t);
  // The meter skips a sample whose utilisation never arrived; the ones that stand for
  // the hour's edges are the nearest it uses.
  const auto usable = [](const Sample& s) { return s.util_pct >= 0; };
  // The last sample before the hour may stand for its first moments.
  auto before = std::find_if(std::make_reverse_iterator(first), run.samples.rend(), usable);
  if (before != run.samples.rend()) {
    meter.Add(*before);
  } else if (run.before) {
    meter.Add(*run.before);
  }
  past = std::find_if(past, run.samples.end(), usable);
  MinuteRoller roller(span);
  for (auto it = first; it != past; ++it) {
    meter.Add(*it);
    if (want_minutes) roller.Add(*it);
  }
  // The first sample after the hour closes its last one, at any distance (it stands
  // for a whole max gap when the stream goes on); with none, the stream ends there
  // unless samples follow the scan.
  bool more_later = false;
  if (past != run.samples.end()) {
    meter.Add(*past);
  } else {
    more_later = run.more_after_scan;
  }
  if (want_minutes) *minutes = roller.Finish();
  return meter.Finish(more_later);
}

}  // namespace

StatusOr<std::vector<HourSlice>> MeterHours(Ledger& ledger, const GpuSlicing& gpu,
                                            const std::vector<TimeMs>& hours, Window clip,
                                            bool want_minutes) {
  std::vector<HourSlice> out;
  const Window bound = gpu.service.Intersect(clip);
  size_t i = 0;
  while (i < hours.size()) {
    size_t j = i;
    while (j + 1 < hours.size() && hours[j + 1] == hours[j] + kHourMs) ++j;
    const Window scan{std::max(hours[i], bound.start), std::min(hours[j] + kHourMs, bound.end)};
    if (scan.length() > 0) {
      Run run;
      ASSIGN_OR_RETURN(run.before, ledger.SampleBefore(gpu.gpu_uuid, hours[i]));
      for (int step = 0; step < 16 && run.before && run.before->util_pct < 0; ++step) {
        ASSIGN_OR_RETURN(run.before, ledger.SampleBefore(gpu.gpu_uuid, run.before->t));
      }
      const TimeMs scan_end = hours[j] + kHourMs + gpu.options.max_gap_ms;
      RETURN_IF_ERROR(ledger.ScanSamples(gpu.gpu_uuid, {hours[i], scan_end},
                                         [&](const Sample& s) { run.samples.push_back(s); }));
      const bool any = run.before.has_value() || !run.samples.empty();
      const auto last_usable = std::find_if(run.samples.rbegin(), run.samples.rend(),
                                            [](const Sample& s) { return s.util_pct >= 0; });
      if (any && (last_usable == run.samples.rend() || last_usable->t < hours[j] + kHourMs)) {
        ASSIGN_OR_RETURN(run.more_after_scan, ledger.HasSampleAtOrAfter(gpu.gpu_uuid, scan_end));
      }
      for (size_t k = i; k <= j; ++k) {
        HourSlice slice;
        slice.hour = hours[k];
        slice.span = Window{hours[k], hours[k] + kHourMs}.Intersect(bound);
        if (slice.span.length() == 0) continue;
        ASSIGN_OR_RETURN(slice.rows, MeterOne(gpu, slice.span, run, want_minutes, &slice.minutes));
        out.push_back(std::move(slice));
      }
    }
    i = j + 1;
  }
  return out;
}

}  // namespace gpuledger
