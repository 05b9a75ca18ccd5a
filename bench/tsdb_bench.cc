// Raw sample chunks: encode/decode speed and bytes per stored sample, on a simulated
// day of 10 s samples of 32 GPUs (YOLO phases, idle gaps). The simulator's values are
// noisier than many real exporters' (util is redrawn every sample), so these sizes lean
// high.
#include <benchmark/benchmark.h>

#include "common/tz.h"
#include "sim/simulator.h"
#include "tsdb/chunk.h"

namespace gpuledger {
namespace {

std::vector<std::vector<Sample>> Day() {
  SimOptions o;
  o.seed = 11;
  o.sample_interval_ms = 10 * kSecondMs;
  auto c = SimulateCluster(o, TimeZone::Utc());
  std::vector<std::vector<Sample>> out;
  for (size_t g = 0; g < c->gpus.size(); ++g) {
    std::vector<Sample> s = SimulateSamples(*c, g);
    s.erase(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2));  // mid-span: jobs running
    s.resize(8640);                                                             // one day
    out.push_back(std::move(s));
  }
  return out;
}

void BM_ChunkEncodeDay(benchmark::State& state) {
  const auto day = Day();
  int64_t bytes = 0, samples = 0;
  for (auto _ : state) {
    bytes = samples = 0;
    for (const auto& s : day) {
      auto chunk = EncodeChunk(s);
      bytes += static_cast<int64_t>(chunk->size());
      samples += static_cast<int64_t>(s.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["bytes_per_gpu_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  // util, memory, power and the energy counter are reported; SM activity is not.
  state.counters["bytes_per_metric_value"] = static_cast<double>(bytes) / static_cast<double>(samples * 4);
}
BENCHMARK(BM_ChunkEncodeDay)->Unit(benchmark::kMillisecond);

void BM_ChunkDecodeDay(benchmark::State& state) {
  std::vector<std::string> chunks;
  int64_t samples = 0;
  for (const auto& s : Day()) {
    chunks.push_back(*EncodeChunk(s));
    samples += static_cast<int64_t>(s.size());
  }
  for (auto _ : state) {
    for (const auto& c : chunks) benchmark::DoNotOptimize(DecodeChunk(c));
  }
  state.SetItemsProcessed(state.iterations() * samples);
}
BENCHMARK(BM_ChunkDecodeDay)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuledger
