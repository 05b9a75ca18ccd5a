// The real dlopen path against the tests' fake libnvidia-ml.so.1 (tests/fake_nvml).
#include "gpu/nvml.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/test_util.h"

namespace gpuledger {
namespace {

TEST(Nvml, ReadsScriptedGpusThroughDlopen) {
  testing::TempDir dir;
  const std::string script = dir.path() + "/script";
  {
    // The H100 under load in the nvidia-smi capture (realdata): 100 %, 19818 MiB, 631.95 W.
    std::ofstream(script)
        << "gpu;uuid=GPU-aaaa;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=100,97;"
           "mem_used_mib=19818;power_w=631.95;pids=11327:2566,11328:1542\n"
           "gpu;uuid=GPU-bbbb;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;"
           "mig=MIG-one:1:10240:2048,MIG-two:2:10240:0;pids=4242:2000@MIG-one\n";
  }
  setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);
  auto nvml = NvmlBackend::Open(FAKE_NVML_LIB);
  ASSERT_TRUE(nvml.ok()) << nvml.status().ToString();
  EXPECT_EQ((*nvml)->version(), "driver 0.0.fake");
  auto first = (*nvml)->Read();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  const GpuReading& a = (*first)[0];
  EXPECT_EQ(a.uuid, "GPU-aaaa");
  EXPECT_EQ(a.index, 0);
  EXPECT_EQ(a.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(a.memory_total_mib, 81559);
  EXPECT_FLOAT_EQ(a.util_pct, 100);
  EXPECT_FLOAT_EQ(a.mem_used_mib, 19818);
  EXPECT_FLOAT_EQ(a.power_w, 631.95F);
  EXPECT_GE(a.energy_mj, 1000000);
  ASSERT_EQ(a.processes.size(), 2u);
  EXPECT_EQ(a.processes[0].pid, 11327u);
  EXPECT_EQ(a.processes[0].used_mib, 2566);
  EXPECT_TRUE(a.mig.empty());
  // MIG mode: no GPU utilisation (NVML does not report it), instances and their processes.
  const GpuReading& b = (*first)[1];
  EXPECT_FLOAT_EQ(b.util_pct, -1);
  ASSERT_EQ(b.mig.size(), 2u);
  EXPECT_EQ(b.mig[0].uuid, "MIG-one");
  EXPECT_EQ(b.mig[0].gpu_instance_id, 1u);
  EXPECT_EQ(b.mig[0].memory_used_mib, 2048);
  ASSERT_EQ(b.processes.size(), 1u);
  EXPECT_EQ(b.processes[0].mig_uuid, "MIG-one");
  auto second = (*nvml)->Read();
  ASSERT_TRUE(second.ok());
  EXPECT_FLOAT_EQ((*second)[0].util_pct, 97);  // the next scripted value
  EXPECT_GE((*second)[0].energy_mj, a.energy_mj);
}

TEST(Nvml, NoDriverIsAClearUnavailable) {
  auto nvml = NvmlBackend::Open("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(nvml.ok());
  EXPECT_EQ(nvml.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(nvml.status().message().find("no NVIDIA driver"), std::string::npos) << nvml.status().message();
}

}  // namespace
}  // namespace gpuledger
