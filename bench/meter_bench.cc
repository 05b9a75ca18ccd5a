// Metering engine throughput: samples per second per core, for one GPU's stream with
// the allocation shapes a cluster has (exclusive jobs, time-sliced halves, month cuts).
#include <benchmark/benchmark.h>

#include "meter/gpu_meter.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

std::vector<Sample> Stream(int64_t n, DurationMs step) {
  std::vector<Sample> out(static_cast<size_t>(n));
  uint64_t x = 88172645463325252ULL;
  for (int64_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    Sample& s = out[static_cast<size_t>(i)];
    s.t = kT0 + i * step;
    s.util_pct = static_cast<float>(x % 101);
    s.mem_mib = 7000;
    s.power_w = 250;
    s.energy_mj = i * 2'500'000;
  }
  return out;
}

GpuMeterSetup Setup(int64_t n, DurationMs step, bool shared) {
  GpuMeterSetup s;
  s.gpu_uuid = "GPU-bench";
  s.gpu_model = "A10G";
  s.capacity = {kT0, kT0 + n * step};
  s.cuts = {kT0 + n * step / 2};
  // A job every ~10 hours with gaps between: 1 or 2 holders at a time.
  for (int j = 0; j * 10 * kHourMs < n * step; ++j) {
    s.job_ids.push_back("job-" + std::to_string(j));
    const TimeMs a = kT0 + j * 10 * kHourMs + kHourMs;
    s.holds.push_back({j, a, a + 8 * kHourMs, shared ? kFullShare / 2 : kFullShare});
    if (shared) {
      s.job_ids.push_back("job-" + std::to_string(j) + "b");
      s.holds.push_back(
          {static_cast<int>(s.job_ids.size()) - 1, a + kHourMs, a + 9 * kHourMs, kFullShare / 2});
    }
  }
  // Renumber slots to match job_ids positions for the shared case.
  if (shared) {
    for (size_t i = 0; i < s.holds.size(); ++i) s.holds[i].job_slot = static_cast<int>(i);
  }
  return s;
}

void BM_MeterGpuMonth(benchmark::State& state) {
  const DurationMs step = 10 * kSecondMs;
  const int64_t n = 30 * kDayMs / step;  // a month of 10 s samples: 259,200
  const bool shared = state.range(0) != 0;
  const auto samples = Stream(n, step);
  const GpuMeterSetup setup = Setup(n, step, shared);
  for (auto _ : state) {
    auto m = GpuMeter::Create(setup);
    for (const Sample& s : samples) m->Add(s);
    auto rows = m->Finish();
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(shared ? "time-sliced halves" : "exclusive jobs");
}
BENCHMARK(BM_MeterGpuMonth)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuledger
