// NVML, loaded at run time with dlopen("libnvidia-ml.so.1"): no build-time NVIDIA
// dependency, and the same binary runs on machines without a GPU (Open fails with a
// message saying so). Only the few entry points the agent needs are declared here, with
// the layouts of NVML's public header (nvml.h, API version 12). Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "gpu/gpu_backend.h"

namespace gpuledger {

class NvmlBackend final : public GpuBackend {
 public:
  // Loads the library (`path` empty: libnvidia-ml.so.1 from the loader's search path)
  // and initialises NVML. Unavailable when there is no driver, naming what failed.
  static StatusOr<std::unique_ptr<NvmlBackend>> Open(const std::string& path = "");
  ~NvmlBackend() override;
  NvmlBackend(const NvmlBackend&) = delete;
  NvmlBackend& operator=(const NvmlBackend&) = delete;

  StatusOr<std::vector<GpuReading>> Read() override;
  // "NVML 12.590.48, driver 590.48.01" (what the library reports).
  const std::string& version() const { return version_; }

  struct Api;  // the resolved entry points (nvml.cc)

 private:
  NvmlBackend() = default;
  void* lib_ = nullptr;
  std::unique_ptr<Api> api_;
  std::string version_;
};

}  // namespace gpuledger
