// CSV import: long-form samples parsed per second, and stored into SQLite per second.
#include <benchmark/benchmark.h>

#include "common/test_util.h"
#include "ingest/importers.h"
#include "ledger/ledger.h"

namespace gpuledger {
namespace {

std::string SamplesCsv(int gpus, int steps) {
  std::string out = "timestamp,gpu,metric,value\n";
  for (int i = 0; i < steps; ++i) {
    for (int g = 0; g < gpus; ++g) {
      const std::string ts = std::to_string(1790812800 + i * 10);
      const std::string gpu = "GPU-" + std::to_string(g);
      out += ts + "," + gpu + ",DCGM_FI_DEV_GPU_UTIL," + std::to_string((i * 7 + g) % 101) + "\n";
      out += ts + "," + gpu + ",DCGM_FI_DEV_FB_USED,7270\n";
      out += ts + "," + gpu + ",DCGM_FI_DEV_POWER_USAGE,251.25\n";
    }
  }
  return out;
}

void BM_ParseSamplesCsv(benchmark::State& state) {
  const std::string csv = SamplesCsv(8, 10000);  // 240,000 rows
  int64_t rows = 0;
  for (auto _ : state) {
    auto r = ParseSamplesCsv(csv);
    rows = r->rows;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(csv.size()));
}
BENCHMARK(BM_ParseSamplesCsv)->Unit(benchmark::kMillisecond);

void BM_StoreSamplesSqlite(benchmark::State& state) {
  auto parsed = ParseSamplesCsv(SamplesCsv(8, 10000));
  int64_t stored = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    auto ledger = OpenSqliteLedger(dir.path() + "/b.db");
    std::vector<Gpu> gpus;
    for (int g = 0; g < 8; ++g)
      gpus.push_back({"GPU-" + std::to_string(g), "n", g, "A10G", 23028, 1790000000000, 0, 0, 0});
    (void)(*ledger)->PutGpus(gpus);
    state.ResumeTiming();
    (void)(*ledger)->PutSamples(parsed->samples);
    stored += static_cast<int64_t>(parsed->samples.size());
  }
  state.SetItemsProcessed(stored);
}
BENCHMARK(BM_StoreSamplesSqlite)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace gpuledger
