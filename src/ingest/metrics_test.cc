#include "ingest/metrics.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(SetMetric, ExtremeValuesAreNamedInTheRefusal) {
  Sample s;
  // 1e308 used to read "GPU_UTIL ? exceeds 100 %": too long for fixed notation.
  const Status huge = SetMetric(s, MetricField::kUtil, "DCGM_FI_DEV_GPU_UTIL", 1e308);
  EXPECT_EQ(huge.message(), "DCGM_FI_DEV_GPU_UTIL 1e+308 exceeds 100 %");
  EXPECT_EQ(SetMetric(s, MetricField::kPower, "DCGM_FI_DEV_POWER_USAGE", 1e300).message(),
            "DCGM_FI_DEV_POWER_USAGE 1e+300 W exceeds the limit 5000 W");
  EXPECT_EQ(SetMetric(s, MetricField::kUtil, "DCGM_FI_DEV_GPU_UTIL", -1e200).message(),
            "DCGM_FI_DEV_GPU_UTIL -1e+200 is negative");
  EXPECT_EQ(SetMetric(s, MetricField::kUtil, "DCGM_FI_DEV_GPU_UTIL", 100.5).message(),
            "DCGM_FI_DEV_GPU_UTIL 100.50 exceeds 100 %");
}

}  // namespace
}  // namespace gpuledger
