#include "ingest/metrics.h"

#include <cmath>
#include <string>

#include "common/strings.h"

namespace gpuledger {

std::optional<MetricField> MetricFieldOf(std::string_view name) {
  static constexpr std::pair<std::string_view, MetricField> kNames[] = {
      {"util", MetricField::kUtil},          {"DCGM_FI_DEV_GPU_UTIL", MetricField::kUtil},
      {"mem_mib", MetricField::kMem},        {"DCGM_FI_DEV_FB_USED", MetricField::kMem},
      {"power_w", MetricField::kPower},      {"DCGM_FI_DEV_POWER_USAGE", MetricField::kPower},
      {"energy_mj", MetricField::kEnergy},   {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", MetricField::kEnergy},
      {"sm_active", MetricField::kSmActive}, {"DCGM_FI_PROF_SM_ACTIVE", MetricField::kSmActive},
      {"gr_active", MetricField::kGrActive}, {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", MetricField::kGrActive},
  };
  for (const auto& [n, f] : kNames) {
    if (n == name) return f;
  }
  return std::nullopt;
}

Status SetMetric(Sample& s, MetricField field, std::string_view name, double v) {
  const auto what = [name] { return std::string(name); };  // built only for an error
  if (!std::isfinite(v)) return InvalidArgument(what() + " is not finite");
  if (v < 0) return InvalidArgument(what() + " " + FormatFixed(v, 3) + " is negative");
  switch (field) {
    case MetricField::kUtil:
      if (v > 100) return InvalidArgument(what() + " " + FormatFixed(v, 2) + " exceeds 100 %");
      s.util_pct = static_cast<float>(v);
      break;
    case MetricField::kMem:
      s.mem_mib = static_cast<float>(v);
      break;
    case MetricField::kPower:
      if (v > 5000) return InvalidArgument(what() + " " + FormatFixed(v, 1) + " W exceeds the limit 5000 W");
      s.power_w = static_cast<float>(v);
      break;
    case MetricField::kEnergy:
      if (v > 9e18) return InvalidArgument(what() + " " + FormatFixed(v, 0) + " exceeds 9e18 mJ");
      s.energy_mj = static_cast<int64_t>(std::llround(v));
      break;
    case MetricField::kSmActive:
      if (v > 1) return InvalidArgument(what() + " " + FormatFixed(v, 3) + " exceeds 1");
      s.sm_active = static_cast<float>(v);
      break;
    case MetricField::kGrActive:
      if (v > 1) return InvalidArgument(what() + " " + FormatFixed(v, 3) + " exceeds 1");
      s.gr_active = static_cast<float>(v);
      break;
  }
  return OkStatus();
}

}  // namespace gpuledger
