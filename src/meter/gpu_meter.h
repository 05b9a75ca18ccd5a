// GpuMeter: the metering engine for one GPU. Pure and streaming: feed one GPU's
// samples in time order, then Finish() returns a UsageRow per (period, line), where a
// line is a job holding the GPU or the unallocated capacity. The rules it implements are
// in docs/METERING.md. Thread-compatible: one meter per GPU, any number in parallel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/types.h"

namespace gpuledger {

struct MeterOptions {
  DurationMs interval_ms = 10 * kSecondMs;  // what the last sample of a run stands for
  DurationMs max_gap_ms = 30 * kSecondMs;   // the most any one sample stands for
  double dense_util_pct = 70;               // "effective compute density" threshold (util > this)
  double idle_util_pct = 5;                 // below this a held GPU counts as idle
  // The most power any interval's energy may imply (docs/METERING.md, "Energy"): the
  // GPU's power limit where the caller knows it, else this default bound, above the
  // board power of every GPU sold today (B200 1,000 W, GB200 1,200 W).
  double max_power_w = kDefaultMaxPowerW;
  static constexpr double kDefaultMaxPowerW = 1'500;
};

// One job's hold on this GPU, already clipped by the caller to whatever it knows.
struct MeterHold {
  int job_slot = 0;  // 0..jobs-1, the caller's index of the job on this GPU
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  int64_t share_ppm = kFullShare;
};

struct GpuMeterSetup {
  std::string gpu_uuid;
  std::string gpu_model;
  Window capacity;                   // the GPU's service time within the metered window
  std::vector<TimeMs> cuts;          // period boundaries inside capacity (months, price changes)
  std::vector<std::string> job_ids;  // job_slot -> job id
  std::vector<MeterHold> holds;
  MeterOptions options;
};

struct MeterStats {
  int64_t samples = 0;
  int64_t late = 0;               // older than the previous sample of the GPU: dropped
  int64_t duplicates = 0;         // same timestamp as the previous one: the later replaces it
  int64_t counter_resets = 0;     // a decrease to a value a fresh counter could reach: counted from zero
  int64_t energy_dips = 0;        // a decrease no fresh counter explains: noise, the interval counts nothing
  int64_t energy_clamped = 0;     // intervals whose energy implied more than max_power_w
  int64_t energy_clamped_mj = 0;  // what those intervals counted beyond the bound, dropped
  int64_t without_util = 0;       // utilisation never reported: skipped (docs/METERING.md)
};

class GpuMeter {
 public:
  // Fails if holds overlap beyond one whole GPU, or a hold names a missing slot.
  static StatusOr<GpuMeter> Create(GpuMeterSetup setup);

  void Add(const Sample& s);
  // Ends the metered window at `end` (within capacity) from now on, as if capacity had
  // ended there: the books meter the hour holding as-of once and, on a copy per read,
  // clip it at that read's as-of (books/open_hour.h). Valid while nothing fed so far
  // closed past `end`: every sample added is at or before it.
  void ClipAt(TimeMs end) { clip_end_ = std::min(clip_end_, std::max(end, setup_.capacity.start)); }
  // Closes the last sample and returns the rows, ordered by period then line
  // (unallocated first). Rows with no time are left out. `more_later`: the GPU has
  // samples after the last one fed (beyond one max gap), so the last stands for one
  // max gap; otherwise it ends the stream and stands for min(interval, max gap).
  std::vector<UsageRow> Finish(bool more_later = false);
  const MeterStats& stats() const { return stats_; }

 private:
  struct Segment {
    TimeMs start, end;
    int period;
    int first_active, n_active;  // into actives_
  };
  struct Active {
    int slot;
    int64_t share_ppm;
    TimeMs hold_start;  // a reading taken before this belongs to whoever held the GPU then
  };
  struct Cell {
    int64_t gpu_ns = 0, covered_ns = 0, busy_ns = 0, dense_ns = 0, util_ns = 0, energy_mj = 0;
    int64_t peak_mem_mib = 0, loading_ns = 0, steady_ns = 0, tail_ns = 0, idle_ns = 0;
    int64_t energy_flags = 0;  // intervals begun here whose energy was a dip or clamped
    int64_t pending_ns =
        0;  // low-util time after a dense sample: steady if another dense one follows, else tail
  };

  explicit GpuMeter(GpuMeterSetup setup) : setup_(std::move(setup)) {}
  Cell& CellAt(int period, int line) {
    return cells_[static_cast<size_t>(period) * static_cast<size_t>(lines_) + static_cast<size_t>(line)];
  }
  // `dipped`: the counter dipped over the interval (its energy is 0): flagged.
  void Close(const Sample& s, TimeMs end, int64_t energy_mj, bool dipped);
  // The most energy max_power_w allows over `ms` milliseconds, in mJ (W x ms = mJ).
  int64_t EnergyBoundMj(DurationMs ms) const;
  // `flag`: the piece carries a flagged interval's start; each line it touches counts it.
  void Piece(const Segment& seg, TimeMs a, TimeMs b, const Sample& s, int64_t energy_mj, bool flag);

  GpuMeterSetup setup_;
  std::vector<TimeMs> period_starts_;
  std::vector<Segment> segments_;
  std::vector<Active> actives_;
  std::vector<Cell> cells_;
  std::vector<uint8_t> seen_dense_;   // per slot
  std::vector<uint8_t> has_pending_;  // per slot
  int lines_ = 1;
  size_t cursor_ = 0;
  TimeMs clip_end_ = 0;  // capacity.end unless ClipAt moved it earlier
  bool has_prev_ = false;
  Sample prev_;
  MeterStats stats_;
};

}  // namespace gpuledger
