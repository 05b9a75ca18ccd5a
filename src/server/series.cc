#include "server/series.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace gpuledger {

Status ReadSeries(SampleStore& store, std::vector<SeriesPart>& parts) {
  size_t total = 0;
  for (SeriesPart& p : parts) {
    ASSIGN_OR_RETURN(p.samples, store.Read(p.gpu_uuid, p.window));
    total += p.samples.size();
    if (total > kMaxSeriesSamples) {
      return InvalidArgument("the range holds more than " + std::to_string(kMaxSeriesSamples) +
                             " samples (over " + std::to_string(total) + " so far): narrow from/to");
    }
  }
  return OkStatus();
}

std::string RenderSeriesJson(const std::string& job, const std::vector<SeriesPart>& parts) {
  using nlohmann::json;
  json series = json::array();
  for (const SeriesPart& p : parts) {
    json values = json::array();
    for (const Sample& s : p.samples) {
      // Floats go out at the precision the chunks keep (docs/formats/chunks.md), so 42.4
      // reads as 42.4 and not as its float's 42.400001525878906.
      auto opt = [](float v, double scale) {
        return v < 0 ? json(nullptr) : json(std::round(static_cast<double>(v) * scale) / scale);
      };
      values.push_back(
          json::array({s.t, opt(s.util_pct, 1e3), opt(s.mem_mib, 1e3), opt(s.power_w, 1e3),
                       s.energy_mj < 0 ? json(nullptr) : json(s.energy_mj), opt(s.sm_active, 1e6)}));
    }
    series.push_back({{"gpu", p.gpu_uuid},
                      {"from", FormatTime(p.window.start)},
                      {"to", FormatTime(p.window.end)},
                      {"share_ppm", p.share_ppm},
                      {"columns", {"t_ms", "util_pct", "mem_mib", "power_w", "energy_mj", "sm_active"}},
                      {"values", std::move(values)}});
  }
  json out = {{"series", std::move(series)}};
  if (!job.empty()) out["job"] = job;
  return out.dump() + "\n";
}

}  // namespace gpuledger
