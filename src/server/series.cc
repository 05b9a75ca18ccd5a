#include "server/series.h"

#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace gpuledger {
namespace {

// The double nearest the shortest decimal that reads back as `v`: JSON then prints that
// decimal.
double ShortestDouble(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

}  // namespace

Status ReadSeries(Ledger& ledger, std::vector<SeriesPart>& parts) {
  size_t total = 0;
  for (SeriesPart& p : parts) {
    p.samples.clear();
    RETURN_IF_ERROR(ledger.ScanSamples(p.gpu_uuid, p.window, [&](const Sample& s) {
      if (++total <= kMaxSeriesSamples) p.samples.push_back(s);
    }));
    if (total > kMaxSeriesSamples) {
      return InvalidArgument("the range holds more than " + std::to_string(kMaxSeriesSamples) +
                             " samples (over " + std::to_string(total) + " so far): narrow from/to");
    }
  }
  return OkStatus();
}

std::string RenderSeriesJson(const std::string& job, const std::vector<SeriesPart>& parts, TimeMs as_of,
                             TimeMs to) {
  using nlohmann::json;
  json series = json::array();
  for (const SeriesPart& p : parts) {
    json values = json::array();
    for (const Sample& s : p.samples) {
      auto opt = [](float v) { return v < 0 ? json(nullptr) : json(ShortestDouble(v)); };
      values.push_back(json::array({s.t, opt(s.util_pct), opt(s.mem_mib), opt(s.power_w),
                                    s.energy_mj < 0 ? json(nullptr) : json(s.energy_mj), opt(s.sm_active),
                                    opt(s.gr_active)}));
    }
    series.push_back(
        {{"gpu", p.gpu_uuid},
         {"from", FormatTime(p.window.start)},
         {"to", FormatTime(p.window.end)},
         {"share_ppm", p.share_ppm},
         {"columns", {"t_ms", "util_pct", "mem_mib", "power_w", "energy_mj", "sm_active", "gr_active"}},
         {"values", std::move(values)}});
  }
  json out = {{"as_of", FormatTime(as_of)}, {"partial", to > as_of}, {"series", std::move(series)}};
  if (!job.empty()) out["job"] = job;
  return out.dump() + "\n";
}

}  // namespace gpuledger
