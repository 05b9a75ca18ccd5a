// The GPU metrics gpuledger meters, by our names and dcgm-exporter's, and how a value
// lands in a Sample (with its range checked). Shared by every sample source. Pure;
// thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

enum class MetricField { kUtil, kMem, kPower, kEnergy, kSmActive, kGrActive };

// util | DCGM_FI_DEV_GPU_UTIL, mem_mib | DCGM_FI_DEV_FB_USED, power_w |
// DCGM_FI_DEV_POWER_USAGE, energy_mj | DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,
// sm_active | DCGM_FI_PROF_SM_ACTIVE, gr_active | DCGM_FI_PROF_GR_ENGINE_ACTIVE. Anything
// else: nullopt (not metered).
std::optional<MetricField> MetricFieldOf(std::string_view name);

// Checks the value (finite, not negative, util <= 100, activity ratios <= 1) and sets it.
// Errors name the metric and the value.
Status SetMetric(Sample& s, MetricField field, std::string_view name, double value);

}  // namespace gpuledger
