// Remote write decoding: samples per second per core for dcgm-exporter-shaped requests
// (GPUs x 6 metrics, labels as dcgm-exporter sends them), from snappy body to GPU
// samples. The HTTP server around it is not built yet: this is the decoder's share.
#include <benchmark/benchmark.h>
#include <snappy.h>

#include <cstring>

#include "ingest/dcgm.h"
#include "ingest/proto_writer.h"
#include "ingest/remote_write.h"

namespace gpuledger {
namespace {

using Proto = ProtoWriter;

// 1,000 GPUs x 6 metrics, `per_series` samples each 10 s apart, snappy-compressed.
std::string Body(int per_series) {
  static const char* kMetrics[] = {"DCGM_FI_DEV_GPU_UTIL",          "DCGM_FI_DEV_FB_USED",
                                   "DCGM_FI_DEV_POWER_USAGE",       "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                                   "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_SM_ACTIVE"};
  Proto req;
  for (int g = 0; g < 1000; ++g) {
    for (const char* m : kMetrics) {
      const std::string uuid = "GPU-" + std::to_string(10000000 + g) + "-c086-568a-9f1a-c1e1c934c44c";
      const std::pair<std::string, std::string> labels[] = {{"Hostname", "node-" + std::to_string(g / 8)},
                                                            {"UUID", uuid},
                                                            {"__name__", m},
                                                            {"container", "train"},
                                                            {"device", "nvidia" + std::to_string(g % 8)},
                                                            {"gpu", std::to_string(g % 8)},
                                                            {"modelName", "NVIDIA A10G"},
                                                            {"namespace", "yolo"},
                                                            {"pod", "train-" + std::to_string(g)}};
      Proto ts;
      for (const auto& [k, v] : labels) ts.Bytes(1, Proto().Bytes(1, k).Bytes(2, v).str());
      for (int i = 0; i < per_series; ++i) {
        ts.Bytes(2, Proto()
                        .Double(1, std::strcmp(m, "DCGM_FI_PROF_SM_ACTIVE") == 0 ? 0.5 : 50.0 + i)
                        .Varint(2, static_cast<uint64_t>(1790812800000 + i * 10000))
                        .str());
      }
      req.Bytes(1, ts.str());
    }
  }
  std::string out;
  snappy::Compress(req.str().data(), req.str().size(), &out);
  return out;
}

// range(0): samples per series; range(1): 1 with a warm series cache, as the server has.
void BM_RemoteWriteV1Decode(benchmark::State& state) {
  const int per_series = static_cast<int>(state.range(0));
  const std::string body = Body(per_series);
  SeriesCache cache;
  SeriesCache* use = state.range(1) ? &cache : nullptr;
  if (use) (void)DecodeRemoteWriteV1(SnappyUncompress(body).value(), use);  // learn every series
  int64_t samples = 0;
  for (auto _ : state) {
    auto raw = SnappyUncompress(body);
    auto batch = DecodeRemoteWriteV1(std::move(raw).value(), use);
    auto gpus = SamplesFromDcgm(batch->series);
    if (!gpus.ok()) state.SkipWithError(gpus.status().ToString().c_str());
    samples += batch->samples;
  }
  state.SetItemsProcessed(samples);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.SetLabel(std::to_string(per_series) + " samples per series per request" +
                 (use ? ", series cache warm" : ", no series cache"));
}
BENCHMARK(BM_RemoteWriteV1Decode)->ArgsProduct({{1, 6}, {0, 1}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuledger
