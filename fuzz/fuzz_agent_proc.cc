// Fuzz target: what the agent reads from /proc. A process's environment and command
// line are written by whoever started it (untrusted); cgroup paths and stat lines are
// the kernel's but carry names users choose; the Docker daemon's answers carry labels.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/docker_labels.h"
#include "agent/node_attribution.h"
#include "agent/node_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const auto& [k, v] : gpuledger::ParseEnviron(in)) {
    if (k.empty()) __builtin_trap();
  }
  (void)gpuledger::ParseCmdline(in);
  const gpuledger::CgroupIds ids = gpuledger::ParseCgroup(in);
  if (!ids.pod_uid.empty() && ids.pod_uid.size() != 36) __builtin_trap();
  (void)gpuledger::FirstToken(in);
  if (gpuledger::ProcessStartMs(in, 1000, 100) < 0) __builtin_trap();
  (void)gpuledger::ParseProcStat(in);
  (void)gpuledger::ParseDiskstats(in, {"sda", "nvme0n1"});
  (void)gpuledger::ParseContainerLabels(in);  // what a Docker daemon answers
  return 0;
}
