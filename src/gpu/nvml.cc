#include "gpu/nvml.h"

#include <dlfcn.h>

#include "gpu/nvml_abi.h"

namespace gpuledger {

struct NvmlBackend::Api {
  nvmlInit_v2_fn init = nullptr;
  nvmlShutdown_fn shutdown = nullptr;
  nvmlErrorString_fn error_string = nullptr;
  nvmlSystemGetDriverVersion_fn driver_version = nullptr;
  nvmlDeviceGetCount_v2_fn count = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn handle = nullptr;
  nvmlDeviceGetUUID_fn uuid = nullptr;
  nvmlDeviceGetName_fn name = nullptr;
  nvmlDeviceGetMemoryInfo_fn memory = nullptr;
  nvmlDeviceGetUtilizationRates_fn util = nullptr;
  nvmlDeviceGetPowerUsage_fn power = nullptr;
  // Optional: older drivers or GPUs lack them; the field then reads -1.
  nvmlDeviceGetTotalEnergyConsumption_fn energy = nullptr;
  nvmlDeviceGetComputeRunningProcesses_fn processes = nullptr;
  nvmlDeviceGetMigMode_fn mig_mode = nullptr;
  nvmlDeviceGetMaxMigDeviceCount_fn mig_count = nullptr;
  nvmlDeviceGetMigDeviceHandleByIndex_fn mig_handle = nullptr;
  nvmlDeviceGetGpuInstanceId_fn gpu_instance_id = nullptr;

  std::string Error(nvmlReturn_t r) const {
    return std::string(error_string ? error_string(r) : "error") + " (NVML " + std::to_string(r) + ")";
  }
};

namespace {

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
  return out != nullptr;
}

constexpr unsigned kTextLen = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE, ..._NAME_V2_BUFFER_SIZE
constexpr int64_t kMiB = 1 << 20;

std::vector<GpuProcess> Processes(const NvmlBackend::Api& api, nvmlDevice_t d, const std::string& mig_uuid) {
  std::vector<GpuProcess> out;
  if (!api.processes) return out;
  std::vector<nvmlProcessInfo_t> buf(16);
  for (int attempt = 0; attempt < 4; ++attempt) {
    unsigned n = static_cast<unsigned>(buf.size());
    const nvmlReturn_t r = api.processes(d, &n, buf.data());
    if (r == NVML_ERROR_INSUFFICIENT_SIZE) {
      buf.resize(static_cast<size_t>(n) + 8);  // processes may start between the calls
      continue;
    }
    if (r != NVML_SUCCESS) return out;
    for (unsigned i = 0; i < n && i < buf.size(); ++i) {
      GpuProcess p;
      p.pid = buf[i].pid;
      // NVML reports "not available" as all ones (NVML_VALUE_NOT_AVAILABLE).
      p.used_mib = buf[i].usedGpuMemory == ~0ULL ? -1 : static_cast<int64_t>(buf[i].usedGpuMemory) / kMiB;
      p.mig_uuid = mig_uuid;
      out.push_back(p);
    }
    return out;
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<NvmlBackend>> NvmlBackend::Open(const std::string& path) {
  const std::string name = path.empty() ? "libnvidia-ml.so.1" : path;
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return Unavailable("no NVIDIA driver: cannot load " + name + " (" + (why ? why : "unknown") + ")");
  }
  std::unique_ptr<NvmlBackend> src(new NvmlBackend());
  src->lib_ = lib;
  src->api_ = std::make_unique<Api>();
  Api& a = *src->api_;
  const bool required =
      Resolve(lib, "nvmlInit_v2", a.init) && Resolve(lib, "nvmlShutdown", a.shutdown) &&
      Resolve(lib, "nvmlErrorString", a.error_string) && Resolve(lib, "nvmlDeviceGetCount_v2", a.count) &&
      Resolve(lib, "nvmlDeviceGetHandleByIndex_v2", a.handle) && Resolve(lib, "nvmlDeviceGetUUID", a.uuid) &&
      Resolve(lib, "nvmlDeviceGetName", a.name) && Resolve(lib, "nvmlDeviceGetMemoryInfo", a.memory) &&
      Resolve(lib, "nvmlDeviceGetUtilizationRates", a.util) &&
      Resolve(lib, "nvmlDeviceGetPowerUsage", a.power);
  if (!required) {
    return Unavailable(name + " lacks an NVML entry point gpuledger needs (" + std::string(dlerror()) + ")");
  }
  Resolve(lib, "nvmlSystemGetDriverVersion", a.driver_version);
  Resolve(lib, "nvmlDeviceGetTotalEnergyConsumption", a.energy);
  if (!Resolve(lib, "nvmlDeviceGetComputeRunningProcesses_v3", a.processes))
    Resolve(lib, "nvmlDeviceGetComputeRunningProcesses_v2", a.processes);
  Resolve(lib, "nvmlDeviceGetMigMode", a.mig_mode);
  Resolve(lib, "nvmlDeviceGetMaxMigDeviceCount", a.mig_count);
  Resolve(lib, "nvmlDeviceGetMigDeviceHandleByIndex", a.mig_handle);
  Resolve(lib, "nvmlDeviceGetGpuInstanceId", a.gpu_instance_id);
  if (nvmlReturn_t r = a.init(); r != NVML_SUCCESS) {
    return Unavailable("NVML did not initialise: " + a.Error(r));
  }
  char version[kTextLen] = {};
  if (a.driver_version && a.driver_version(version, kTextLen) == NVML_SUCCESS) {
    src->version_ = std::string("driver ") + version;
  }
  return src;
}

NvmlBackend::~NvmlBackend() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (lib_) dlclose(lib_);
}

StatusOr<std::vector<GpuReading>> NvmlBackend::Read() {
  const Api& a = *api_;
  unsigned count = 0;
  if (nvmlReturn_t r = a.count(&count); r != NVML_SUCCESS) {
    return Unavailable("NVML device count: " + a.Error(r));
  }
  std::vector<GpuReading> out;
  out.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    nvmlDevice_t d = nullptr;
    if (a.handle(i, &d) != NVML_SUCCESS) continue;  // e.g. a GPU fallen off the bus
    GpuReading g;
    g.index = static_cast<int>(i);
    char text[kTextLen] = {};
    if (a.uuid(d, text, kTextLen) != NVML_SUCCESS) continue;  // nothing to name it by
    g.uuid = text;
    if (a.name(d, text, kTextLen) == NVML_SUCCESS) g.name = text;
    nvmlMemory_t mem{};
    if (a.memory(d, &mem) == NVML_SUCCESS) {
      g.memory_total_mib = static_cast<int64_t>(mem.total / kMiB);
      g.mem_used_mib = static_cast<float>(static_cast<double>(mem.used) / kMiB);
    }
    nvmlUtilization_t u{};
    if (a.util(d, &u) == NVML_SUCCESS) g.util_pct = static_cast<float>(u.gpu);
    unsigned mw = 0;
    if (a.power(d, &mw) == NVML_SUCCESS) g.power_w = static_cast<float>(mw) / 1000.0F;
    unsigned long long mj = 0;
    if (a.energy && a.energy(d, &mj) == NVML_SUCCESS) g.energy_mj = static_cast<int64_t>(mj);
    unsigned current = 0, pending = 0;
    const bool mig = a.mig_mode && a.mig_count && a.mig_handle &&
                     a.mig_mode(d, &current, &pending) == NVML_SUCCESS && current == NVML_DEVICE_MIG_ENABLE;
    if (!mig) {
      g.processes = Processes(a, d, "");
    } else {
      unsigned slots = 0;
      a.mig_count(d, &slots);
      for (unsigned s = 0; s < slots; ++s) {
        nvmlDevice_t m = nullptr;
        if (a.mig_handle(d, s, &m) != NVML_SUCCESS) continue;  // an empty slot
        MigInstance inst;
        if (a.uuid(m, text, kTextLen) != NVML_SUCCESS) continue;
        inst.uuid = text;
        if (a.gpu_instance_id) a.gpu_instance_id(m, &inst.gpu_instance_id);
        nvmlMemory_t mm{};
        if (a.memory(m, &mm) == NVML_SUCCESS) {
          inst.memory_total_mib = static_cast<int64_t>(mm.total / kMiB);
          inst.memory_used_mib = static_cast<int64_t>(mm.used / kMiB);
        }
        for (GpuProcess& p : Processes(a, m, inst.uuid)) g.processes.push_back(std::move(p));
        g.mig.push_back(std::move(inst));
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace gpuledger
