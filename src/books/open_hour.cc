#include "books/open_hour.h"

#include <algorithm>

namespace gpuledger {

namespace {

bool SameHolds(const std::vector<MeterHold>& a, const std::vector<MeterHold>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const MeterHold& x, const MeterHold& y) {
    return x.job_slot == y.job_slot && x.start_ms == y.start_ms && x.end_ms == y.end_ms &&
           x.share_ppm == y.share_ppm;
  });
}

bool SameSetup(const GpuSlicing& a, const GpuSlicing& b) {
  const MeterOptions &x = a.options, &y = b.options;
  return a.gpu_uuid == b.gpu_uuid && a.gpu_model == b.gpu_model && a.service == b.service &&
         a.cuts == b.cuts && a.job_ids == b.job_ids && SameHolds(a.holds, b.holds) &&
         x.interval_ms == y.interval_ms && x.max_gap_ms == y.max_gap_ms &&
         x.dense_util_pct == y.dense_util_pct && x.idle_util_pct == y.idle_util_pct &&
         x.max_power_w == y.max_power_w;
}

bool Usable(const Sample& s) { return s.util_pct >= 0; }

bool SameSample(const Sample& a, const Sample& b) {
  return a.t == b.t && a.util_pct == b.util_pct && a.mem_mib == b.mem_mib && a.power_w == b.power_w &&
         a.energy_mj == b.energy_mj && a.sm_active == b.sm_active && a.gr_active == b.gr_active;
}

}  // namespace

Status OpenHours::BeginRead(Ledger& ledger, TimeMs hour, int64_t latest) {
  if (hour != hour_) {  // a new hour: the last one is whole now, and stored
    gpus_.clear();
    hour_ = hour;
  }
  changed_.clear();
  if (seen_change_ >= 0 && latest != seen_change_ && !gpus_.empty()) {
    ASSIGN_OR_RETURN(changed_, ledger.SliceChangesSince(seen_change_, {hour, kMaxTimeMs}));
  }
  if (latest < seen_change_) {  // another ledger, or one restored: nothing kept holds
    gpus_.clear();
    closed_ = {};
  }
  seen_change_ = latest;
  for (auto& [gpu, k] : gpus_) k.met = false;
  return OkStatus();
}

void OpenHours::Reset() {
  gpus_.clear();
  closed_ = {};
  changed_.clear();
  hour_ = 0;
  seen_change_ = -1;
}

void OpenHours::EndRead() {
  std::erase_if(gpus_, [](const auto& e) { return !e.second.met; });
}

bool OpenHours::StillValid(const Kept& k, const GpuSlicing& gpu, Window full, TimeMs as_of) const {
  if (!(k.full == full) || as_of < k.fed_until || !SameSetup(k.setup, gpu)) return false;
  // A change starting at the meter's last sample only gives that sample a successor (the
  // meter has not closed it yet); one starting before it may have altered what was fed.
  return std::all_of(changed_.begin(), changed_.end(),
                     [&](const Window& c) { return c.start >= k.fed_until; });
}

StatusOr<OpenHours::Kept> OpenHours::Start(Ledger& ledger, const GpuSlicing& gpu, Window full) {
  ++rebuilt_;
  GpuMeterSetup setup;
  setup.gpu_uuid = gpu.gpu_uuid;
  setup.gpu_model = gpu.gpu_model;
  setup.capacity = full;
  setup.cuts = gpu.cuts;
  setup.job_ids = gpu.job_ids;
  setup.holds = gpu.holds;
  setup.options = gpu.options;
  ASSIGN_OR_RETURN(GpuMeter meter, GpuMeter::Create(std::move(setup)));
  // The last usable sample before the hour may stand for its first moments (as MeterHours
  // takes it: up to 16 unusable ones back).
  ASSIGN_OR_RETURN(std::optional<Sample> before, ledger.SampleBefore(gpu.gpu_uuid, hour_));
  for (int step = 0; step < 16 && before && !Usable(*before); ++step) {
    ASSIGN_OR_RETURN(before, ledger.SampleBefore(gpu.gpu_uuid, before->t));
  }
  if (before && Usable(*before)) meter.Add(*before);
  Kept k{gpu, full, std::move(meter), hour_ - 1, std::nullopt, false};
  return k;
}

StatusOr<HourSlice> OpenHours::Meter(Ledger& ledger, const GpuSlicing& gpu, TimeMs hour, Window clip) {
  HourSlice out;
  out.hour = hour;
  const Window in_service = Window{hour, hour + kHourMs}.Intersect(gpu.service);
  const Window full = in_service.Intersect({clip.start, kMaxTimeMs});
  out.span = in_service.Intersect(clip);
  if (out.span.length() == 0 || hour != hour_) return Internal("open hour: asked for an hour not begun");
  const TimeMs as_of = out.span.end;
  auto it = gpus_.find(gpu.gpu_uuid);
  if (it == gpus_.end() || !StillValid(it->second, gpu, full, as_of)) {
    ASSIGN_OR_RETURN(Kept fresh, Start(ledger, gpu, full));
    it = gpus_.insert_or_assign(gpu.gpu_uuid, std::move(fresh)).first;
  }
  // What arrived since, up to one max gap past the hour (whether the stream goes on
  // beyond that is asked below, only when the hour's end needs it). The scan starts at
  // the last sample fed: a late field merged into it (its GPU's first, so the change
  // the ledger recorded starts there) is seen, and the hour metered again.
  const TimeMs hour_end = hour + kHourMs, scan_end = hour_end + gpu.options.max_gap_ms;
  std::vector<Sample> fresh;
  for (int pass = 0; pass < 2; ++pass) {
    Kept& k = it->second;
    fresh.clear();
    const TimeMs from = k.last_fed ? k.fed_until : k.fed_until + 1;
    RETURN_IF_ERROR(
        ledger.ScanSamples(gpu.gpu_uuid, {from, scan_end}, [&](const Sample& s) { fresh.push_back(s); }));
    if (!k.last_fed || fresh.empty() || fresh.front().t != k.fed_until) break;  // none fed, or it is gone
    if (SameSample(fresh.front(), *k.last_fed)) {
      fresh.erase(fresh.begin());
      break;
    }
    ASSIGN_OR_RETURN(Kept again, Start(ledger, gpu, full));
    it->second = std::move(again);
  }
  Kept& k = it->second;
  k.met = true;
  samples_fed_ += static_cast<int64_t>(fresh.size());
  auto after =
      std::upper_bound(fresh.begin(), fresh.end(), as_of, [](TimeMs t, const Sample& s) { return t < s.t; });
  for (auto s = fresh.begin(); s != after; ++s) k.meter->Add(*s);
  if (after != fresh.begin()) {
    k.fed_until = std::max(k.fed_until, (after - 1)->t);
    k.last_fed = *(after - 1);
  }
  // A copy finishes the hour at as-of: the first usable sample after as-of closes the
  // last one before it (its time and energy count up to as-of); with none within the
  // scan, the stream goes on only if a sample lies at or after scan_end.
  GpuMeter copy = *k.meter;
  copy.ClipAt(as_of);
  bool closed_after_hour = false;
  for (auto s = after; s != fresh.end(); ++s) {
    copy.Add(*s);
    if (s->t >= hour_end && Usable(*s)) {
      closed_after_hour = true;
      break;
    }
  }
  bool more_later = false;
  if (!closed_after_hour) {
    ASSIGN_OR_RETURN(more_later, ledger.HasSampleAtOrAfter(gpu.gpu_uuid, scan_end));
  }
  out.rows = copy.Finish(!closed_after_hour && more_later);
  return out;
}

}  // namespace gpuledger
