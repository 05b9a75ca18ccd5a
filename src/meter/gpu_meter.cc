#include "meter/gpu_meter.h"

#include <algorithm>

#include "common/int128.h"
#include "common/strings.h"

namespace gpuledger {

StatusOr<GpuMeter> GpuMeter::Create(GpuMeterSetup setup) {
  GpuMeter m(std::move(setup));
  const GpuMeterSetup& s = m.setup_;
  const int jobs = static_cast<int>(s.job_ids.size());
  m.lines_ = jobs + 1;
  std::vector<TimeMs> points = {s.capacity.start, s.capacity.end};
  for (TimeMs c : s.cuts) {
    if (c > s.capacity.start && c < s.capacity.end) points.push_back(c);
  }
  std::vector<TimeMs> cuts(points.begin() + 2, points.end());
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  m.period_starts_.push_back(s.capacity.start);
  m.period_starts_.insert(m.period_starts_.end(), cuts.begin(), cuts.end());
  for (const MeterHold& h : s.holds) {
    if (h.job_slot < 0 || h.job_slot >= jobs) return Internal("meter: hold names a missing job slot");
    const TimeMs a = std::max(h.start_ms, s.capacity.start), b = std::min(h.end_ms, s.capacity.end);
    if (a < b) points.push_back(a), points.push_back(b);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const TimeMs a = points[i], b = points[i + 1];
    Segment seg{a, b, 0, static_cast<int>(m.actives_.size()), 0};
    seg.period = static_cast<int>(std::upper_bound(m.period_starts_.begin(), m.period_starts_.end(), a) -
                                  m.period_starts_.begin()) -
                 1;
    int64_t total = 0;
    for (const MeterHold& h : s.holds) {
      if (h.start_ms <= a && h.end_ms >= b) {
        m.actives_.push_back({h.job_slot, h.share_ppm, h.start_ms});
        ++seg.n_active;
        total += h.share_ppm;
      }
    }
    if (total > kFullShare) {
      std::string who;
      for (int k = 0; k < seg.n_active; ++k) {
        const Active& act = m.actives_[static_cast<size_t>(seg.first_active) + static_cast<size_t>(k)];
        who += (k ? ", " : "") + s.job_ids[static_cast<size_t>(act.slot)];
      }
      return InvalidArgument("GPU " + s.gpu_uuid + " is allocated " +
                             FormatFixed(static_cast<double>(total) / 1e4, 2) + " % (limit 100 %) at " +
                             FormatTime(a) + " by jobs " + who);
    }
    m.segments_.push_back(seg);
  }
  m.cells_.resize(m.period_starts_.size() * static_cast<size_t>(m.lines_));
  m.seen_dense_.assign(static_cast<size_t>(jobs), 0);
  m.has_pending_.assign(static_cast<size_t>(jobs), 0);
  m.clip_end_ = s.capacity.end;
  return m;
}

void GpuMeter::Add(const Sample& s) {
  ++stats_.samples;
  if (s.util_pct < 0) {  // its utilisation never arrived: not a sample the meter can use
    ++stats_.without_util;
    return;
  }
  if (has_prev_) {
    if (s.t < prev_.t) {
      ++stats_.late;
      return;
    }
    if (s.t == prev_.t) {
      ++stats_.duplicates;
      prev_ = s;
      return;
    }
    const TimeMs end = std::min(s.t, prev_.t + setup_.options.max_gap_ms);
    int64_t energy = -1;
    bool dipped = false;
    if (s.t - prev_.t <= setup_.options.max_gap_ms && prev_.energy_mj >= 0 && s.energy_mj >= 0) {
      if (s.energy_mj >= prev_.energy_mj) {
        energy = s.energy_mj - prev_.energy_mj;
      } else if (s.energy_mj <= EnergyBoundMj(s.t - prev_.t)) {
        ++stats_.counter_resets;  // the counter restarted (driver reload) since prev_: count from zero
        energy = s.energy_mj;
      } else {
        // A decrease to a value no counter started within the interval could reach: a
        // glitch. The interval counts nothing; the next delta, taken from this reading,
        // carries its energy (plus the dip, which is noise and bounded like any delta).
        ++stats_.energy_dips;
        energy = 0;
        dipped = true;
      }
    }
    Close(prev_, end, energy, dipped);
  }
  prev_ = s;
  has_prev_ = true;
}

void GpuMeter::Close(const Sample& s, TimeMs end, int64_t energy_mj, bool dipped) {
  const TimeMs full_start = s.t;
  if (energy_mj < 0 && s.power_w >= 0) {
    energy_mj =
        static_cast<int64_t>(static_cast<double>(s.power_w) * static_cast<double>(end - s.t));  // W x ms = mJ
  }
  // No interval counts more than the power bound allows over its length, whether its
  // energy came from the counter or from a power reading.
  const int64_t bound = EnergyBoundMj(end - s.t);
  bool flagged = dipped;
  if (energy_mj > bound) {
    flagged = true;
    ++stats_.energy_clamped;
    stats_.energy_clamped_mj += energy_mj - bound;
    energy_mj = bound;
  }
  const TimeMs a = std::max(s.t, setup_.capacity.start), b = std::min(end, clip_end_);
  if (a >= b) return;
  // Energy of the sample's span, pro rata to the part inside capacity: the difference of
  // the floors at the part's two ends, so the parts of a span that capacity windows
  // side by side (the books' hour slices) add up to the whole, to the mJ.
  int64_t e = energy_mj < 0 ? 0 : energy_mj;
  if (a != full_start || b != end) {
    auto upto = [&](TimeMs x) {
      return static_cast<int64_t>(static_cast<Int128>(e) * (x - full_start) / (end - full_start));
    };
    e = upto(b) - upto(a);
  }
  while (cursor_ < segments_.size() && segments_[cursor_].end <= a) ++cursor_;
  TimeMs pos = a;
  int64_t e_left = e;
  for (size_t i = cursor_; i < segments_.size() && pos < b; ++i) {
    const Segment& seg = segments_[i];
    const TimeMs pb = std::min(b, seg.end);
    const int64_t pe = pb == b ? e_left : static_cast<int64_t>(static_cast<Int128>(e) * (pb - pos) / (b - a));
    e_left -= pe;
    // A flagged interval counts once, on the lines of its first piece: the piece where
    // its sample was taken (a slice that begins inside the interval does not count it).
    Piece(seg, pos, pb, s, pe, flagged && pos == full_start);
    pos = pb;
  }
}

int64_t GpuMeter::EnergyBoundMj(DurationMs ms) const {
  return static_cast<int64_t>(setup_.options.max_power_w * static_cast<double>(ms));
}

void GpuMeter::Piece(const Segment& seg, TimeMs a, TimeMs b, const Sample& s, int64_t energy_mj, bool flag) {
  const int64_t d = b - a;
  const double util = s.util_pct;
  const int64_t mem = s.mem_mib < 0 ? 0 : static_cast<int64_t>(s.mem_mib);
  const bool busy = util >= 1, dense = util > setup_.options.dense_util_pct,
             idle = util < setup_.options.idle_util_pct;
  int64_t held = 0, e_held = 0;
  auto add = [&](Cell& c, int64_t ns, int64_t e, bool reading_is_ours) {
    c.covered_ns += ns;
    if (busy) c.busy_ns += ns;
    if (dense) c.dense_ns += ns;
    c.util_ns += static_cast<int64_t>(static_cast<double>(ns) * util / 100.0);
    c.energy_mj += e;
    if (flag && ns > 0) ++c.energy_flags;
    // Memory is an instant reading: it belongs to whoever held the GPU when it was taken,
    // though the time the sample stands for runs on into the next holder's hold.
    if (reading_is_ours) c.peak_mem_mib = std::max(c.peak_mem_mib, mem);
  };
  for (int k = 0; k < seg.n_active; ++k) {
    const Active& act = actives_[static_cast<size_t>(seg.first_active) + static_cast<size_t>(k)];
    const int64_t ns = d * act.share_ppm;
    const auto e = static_cast<int64_t>(static_cast<Int128>(energy_mj) * act.share_ppm / kFullShare);
    held += act.share_ppm;
    e_held += e;
    Cell& c = CellAt(seg.period, act.slot + 1);
    add(c, ns, e, s.t >= act.hold_start);
    const auto slot = static_cast<size_t>(act.slot);
    if (dense) {
      if (has_pending_[slot]) {
        for (size_t p = 0; p < period_starts_.size(); ++p) {
          Cell& pc = CellAt(static_cast<int>(p), act.slot + 1);
          pc.steady_ns += pc.pending_ns;
          pc.pending_ns = 0;
        }
        has_pending_[slot] = 0;
      }
      seen_dense_[slot] = 1;
      c.steady_ns += ns;
    } else if (idle) {
      c.idle_ns += ns;
    } else if (seen_dense_[slot]) {
      c.pending_ns += ns;
      has_pending_[slot] = 1;
    } else {
      c.loading_ns += ns;
    }
  }
  Cell& u = CellAt(seg.period, 0);
  add(u, d * (kFullShare - held), energy_mj - e_held, true);
}

std::vector<UsageRow> GpuMeter::Finish(bool more_later) {
  if (has_prev_) {
    const DurationMs last = more_later ? setup_.options.max_gap_ms
                                       : std::min(setup_.options.interval_ms, setup_.options.max_gap_ms);
    Close(prev_, prev_.t + last, -1, false);
    has_prev_ = false;
  }
  // Allocated and unallocated capacity come from the holds alone, samples or not, up to
  // the clip.
  for (const Segment& seg : segments_) {
    const int64_t len = std::min(seg.end, clip_end_) - seg.start;
    if (len <= 0) break;
    int64_t held = 0;
    for (int k = 0; k < seg.n_active; ++k) {
      const Active& act = actives_[static_cast<size_t>(seg.first_active) + static_cast<size_t>(k)];
      CellAt(seg.period, act.slot + 1).gpu_ns += len * act.share_ppm;
      held += act.share_ppm;
    }
    CellAt(seg.period, 0).gpu_ns += len * (kFullShare - held);
  }
  std::vector<UsageRow> rows;
  for (size_t p = 0; p < period_starts_.size(); ++p) {
    const TimeMs ps = period_starts_[p];
    if (ps >= clip_end_) break;
    const TimeMs pe =
        std::min(p + 1 < period_starts_.size() ? period_starts_[p + 1] : setup_.capacity.end, clip_end_);
    for (int line = 0; line < lines_; ++line) {
      Cell& c = CellAt(static_cast<int>(p), line);
      c.tail_ns += c.pending_ns;
      c.pending_ns = 0;
      if (c.gpu_ns == 0 && c.covered_ns == 0) continue;
      UsageRow r;
      r.job_id = line == 0 ? "" : setup_.job_ids[static_cast<size_t>(line - 1)];
      r.gpu_uuid = setup_.gpu_uuid;
      r.gpu_model = setup_.gpu_model;
      r.period_start = ps;
      r.period_end = pe;
      r.gpu_ns = c.gpu_ns;
      r.covered_ns = c.covered_ns;
      r.busy_ns = c.busy_ns;
      r.dense_ns = c.dense_ns;
      r.util_ns = c.util_ns;
      r.energy_mj = c.energy_mj;
      r.energy_flags = c.energy_flags;
      r.peak_mem_mib = c.peak_mem_mib;
      r.loading_ns = c.loading_ns;
      r.steady_ns = c.steady_ns;
      r.tail_ns = c.tail_ns;
      r.idle_ns = c.idle_ns;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

}  // namespace gpuledger
