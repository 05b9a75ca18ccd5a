// UsageTotals: sums of usage rows and the ratios read off them (density, mean util,
// phase shares). A figure with no data behind it (a ratio over no time, the energy of
// time no sample covers) is std::nullopt, shown as null / "—" / an empty CSV field,
// never 0. Pure; thread-compatible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "common/int128.h"
#include "domain/types.h"

namespace gpuledger {

// Sums of GPU-ns and mJ are 128-bit: one row (a GPU's period) fits int64, but a month of
// 3,444 GPUs is past 2^63 GPU-ns, and 100,000 GPUs over a year reach ~3.2e21.
using GpuNsSum = Int128;

struct UsageTotals {
  GpuNsSum gpu_ns = 0, covered_ns = 0, busy_ns = 0, dense_ns = 0, util_ns = 0, energy_mj = 0;
  int64_t peak_mem_mib = 0;
  GpuNsSum loading_ns = 0, steady_ns = 0, tail_ns = 0, idle_ns = 0;
  int64_t energy_flags = 0;  // intervals whose energy was a dip or clamped (UsageRow)

  // UsageRow and UsageTotals carry the same fields: sum either.
  template <typename T>
  void Add(const T& r) {
    gpu_ns += r.gpu_ns;
    covered_ns += r.covered_ns;
    busy_ns += r.busy_ns;
    dense_ns += r.dense_ns;
    util_ns += r.util_ns;
    energy_mj += r.energy_mj;
    peak_mem_mib = std::max(peak_mem_mib, r.peak_mem_mib);
    loading_ns += r.loading_ns;
    steady_ns += r.steady_ns;
    tail_ns += r.tail_ns;
    idle_ns += r.idle_ns;
    energy_flags += r.energy_flags;
  }
  // a / b, or nothing when there is no b to divide by.
  static std::optional<double> Ratio(GpuNsSum a, GpuNsSum b) {
    if (b == 0) return std::nullopt;
    return static_cast<double>(a) / static_cast<double>(b);
  }
  double gpu_hours() const { return static_cast<double>(gpu_ns) / static_cast<double>(kGpuNsPerGpuHour); }
  double busy_hours() const { return static_cast<double>(busy_ns) / static_cast<double>(kGpuNsPerGpuHour); }
  double covered_hours() const {
    return static_cast<double>(covered_ns) / static_cast<double>(kGpuNsPerGpuHour);
  }
  double dense_hours() const { return static_cast<double>(dense_ns) / static_cast<double>(kGpuNsPerGpuHour); }
  // Effective compute density: time with util > 70 % over the time with samples ...
  std::optional<double> density() const { return Ratio(dense_ns, covered_ns); }
  // ... and over all allocated time (no-data time counts against it).
  std::optional<double> density_allocated() const { return Ratio(dense_ns, gpu_ns); }
  std::optional<double> mean_util_pct() const {
    const auto r = Ratio(util_ns, covered_ns);
    return r ? std::optional<double>(100.0 * *r) : std::nullopt;
  }
  // A phase's share of the time with samples (loading_ns, steady_ns, tail_ns, idle_ns).
  std::optional<double> phase_share(GpuNsSum phase_ns) const { return Ratio(phase_ns, covered_ns); }
  // No sample, no energy reading: unknown, not 0 kWh.
  std::optional<double> energy_kwh() const {
    if (covered_ns == 0) return std::nullopt;
    return static_cast<double>(energy_mj) / static_cast<double>(kMjPerKwh);
  }
  // The peak memory reading, where some sample was taken.
  std::optional<double> peak_mem_gib() const {
    if (covered_ns == 0) return std::nullopt;
    return static_cast<double>(peak_mem_mib) / 1024.0;
  }
  GpuNsSum no_data_ns() const { return gpu_ns - covered_ns; }
};

}  // namespace gpuledger
