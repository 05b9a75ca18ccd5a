#include "server/gpu_registration.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr TimeMs kNow = 1790812800000;  // 2026-10-01T00:00:00Z

TEST(GpuRegistration, UpdatesWhatItNamesAndKeepsTheRest) {
  auto regs = ParseGpuRegistrationJson(
      R"({"gpus": [{"uuid": "GPU-1", "model": "NVIDIA A10G", "memory_mib": 23028, "sample_interval_ms": 1000}]})",
      kNow);
  ASSERT_TRUE(regs.ok()) << regs.status().ToString();
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ((*regs)[0].gpu.model, "A10G");          // canonical
  EXPECT_EQ((*regs)[0].gpu.in_service_from, kNow);  // default: now
  Gpu stored{"GPU-1", "node-3", 5, "A10G", 0, kNow - kDayMs, 0, 0, 60 * kSecondMs};
  const Gpu merged = MergeGpuRegistration(stored, (*regs)[0]);
  EXPECT_EQ(merged.index, 5);  // no index given: the stored one stays
  EXPECT_EQ(merged.node, "node-3");
  EXPECT_EQ(merged.memory_mib, 23028);
  EXPECT_EQ(merged.sample_interval_ms, 1000);
  EXPECT_EQ(merged.max_gap_ms, 60 * kSecondMs);
  EXPECT_EQ(merged.in_service_from, kNow - kDayMs);  // the earlier
  EXPECT_EQ(MergeGpuRegistration(std::nullopt, (*regs)[0]).in_service_from, kNow);
}

TEST(GpuRegistration, RefusesWhatItCannotStoreNamingTheFieldAndValue) {
  auto check = [](const std::string& body, const std::string& says) {
    auto r = ParseGpuRegistrationJson(body, kNow);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().message();
  };
  check(R"({"gpus": [{"model": "A10G"}]})", "gpus[0].uuid is missing");
  check(R"({"gpus": [{"uuid": "GPU-1"}]})", "gpus[0].model is missing");
  check(R"({"gpus": [{"uuid": "GPU-1", "model": "A10G", "index": 4096}]})", "gpus[0].index 4096 is outside");
  check(R"({"gpus": [{"uuid": "GPU-1", "model": "A10G", "memory_mib": "lots"}]})",
        "gpus[0].memory_mib must be an integer");
  check(R"({"gpus": [{"uuid": "GPU-1", "model": "A10G", "sample_interval_ms": -5}]})",
        "gpus[0].sample_interval_ms -5 is outside");
  check(R"({"gpus": [{"uuid": "GPU-1", "model": "A10G", "colour": "red"}]})",
        "unknown field 'gpus[0].colour'");
  check(R"({"gpu": []})", "send {\"gpus\"");
  std::string many = R"({"gpus": [)";
  for (int i = 0; i < 1025; ++i) many += std::string(i ? "," : "") + R"({"uuid": "G", "model": "A10G"})";
  check(many + "]}", "1025 GPUs, over the limit of 1024");
}

}  // namespace
}  // namespace gpuledger
