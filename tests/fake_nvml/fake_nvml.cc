// A fake libnvidia-ml.so.1 for tests: the entry points gpuledger's agent loads, serving
// scripted values, so CI exercises the real dlopen path without a GPU.
//
// The script is the file named by $FAKE_NVML_SCRIPT, re-read whenever it changes. One
// GPU per line, fields separated by ';':
//   gpu;uuid=GPU-1;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=100,97;
//   mem_used_mib=19818;power_w=631.95;pids=4242:2566,4243:1542
// util, mem_used_mib and power_w may list several values: each read takes the next, in
// a cycle. The energy counter grows with power x wall time since the library loaded.
// MIG: mig=MIG-a:1:10240:2048,MIG-b:2:10240:0 (uuid:gpu instance:total MiB:used MiB)
// turns MIG mode on; a process in an instance is written pid:MiB@MIG-a.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "gpu/nvml_abi.h"

// A device handle: GPU index, and MIG slot or -1.
struct nvmlDevice_st {
  int gpu;
  int mig;
};

namespace {

struct Proc {
  unsigned pid = 0;
  unsigned long long mib = 0;
  std::string mig;
};
struct Mig {
  std::string uuid;
  unsigned gi = 0;
  unsigned long long total_mib = 0, used_mib = 0;
};
struct Gpu {
  std::string uuid = "GPU-fake", name = "NVIDIA Fake GPU";
  unsigned long long memory_total_mib = 16384;
  std::vector<double> util = {0}, mem_used = {0}, power = {0};
  size_t util_i = 0, mem_i = 0, power_i = 0;
  std::vector<Proc> procs;
  std::vector<Mig> mig;
};

std::mutex mu;
std::vector<Gpu> gpus;
std::vector<std::unique_ptr<nvmlDevice_st>> handles;
long long script_mtime = -1;
const auto loaded = std::chrono::steady_clock::now();
bool initialised = false;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

std::vector<double> Numbers(const std::string& s) {
  std::vector<double> out;
  for (const std::string& x : Split(s, ',')) out.push_back(std::strtod(x.c_str(), nullptr));
  return out.empty() ? std::vector<double>{0} : out;
}

// Re-reads the script when it changed; keeps the cycles' positions per GPU.
void Load() {
  const char* path = std::getenv("FAKE_NVML_SCRIPT");
  if (!path) return;
  struct stat st {};
  if (stat(path, &st) != 0) return;
  const long long mtime = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  if (mtime == script_mtime) return;
  script_mtime = mtime;
  std::ifstream in(path);
  std::vector<Gpu> next;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("gpu;", 0) != 0) continue;
    Gpu g;
    for (const std::string& f : Split(line.substr(4), ';')) {
      const size_t eq = f.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = f.substr(0, eq), v = f.substr(eq + 1);
      if (k == "uuid") g.uuid = v;
      if (k == "name") g.name = v;
      if (k == "memory_total_mib") g.memory_total_mib = std::strtoull(v.c_str(), nullptr, 10);
      if (k == "util") g.util = Numbers(v);
      if (k == "mem_used_mib") g.mem_used = Numbers(v);
      if (k == "power_w") g.power = Numbers(v);
      if (k == "pids") {
        for (const std::string& p : Split(v, ',')) {
          Proc proc;
          const size_t at = p.find('@');
          proc.mig = at == std::string::npos ? "" : p.substr(at + 1);
          const std::string head = p.substr(0, at);
          proc.pid = static_cast<unsigned>(std::strtoul(head.c_str(), nullptr, 10));
          const size_t colon = head.find(':');
          if (colon != std::string::npos) proc.mib = std::strtoull(head.c_str() + colon + 1, nullptr, 10);
          g.procs.push_back(proc);
        }
      }
      if (k == "mig") {
        for (const std::string& m : Split(v, ',')) {
          const std::vector<std::string> parts = Split(m, ':');
          if (parts.size() != 4) continue;
          g.mig.push_back({parts[0], static_cast<unsigned>(std::strtoul(parts[1].c_str(), nullptr, 10)),
                           std::strtoull(parts[2].c_str(), nullptr, 10),
                           std::strtoull(parts[3].c_str(), nullptr, 10)});
        }
      }
    }
    for (const Gpu& old : gpus) {
      if (old.uuid == g.uuid) {
        g.util_i = old.util_i;
        g.mem_i = old.mem_i;
        g.power_i = old.power_i;
      }
    }
    next.push_back(std::move(g));
  }
  gpus = std::move(next);
}

Gpu* Find(nvmlDevice_t d) {
  if (!d || d->gpu < 0 || static_cast<size_t>(d->gpu) >= gpus.size()) return nullptr;
  return &gpus[static_cast<size_t>(d->gpu)];
}

nvmlDevice_t Handle(int gpu, int mig) {
  for (auto& h : handles) {
    if (h->gpu == gpu && h->mig == mig) return h.get();
  }
  handles.push_back(std::make_unique<nvmlDevice_st>(nvmlDevice_st{gpu, mig}));
  return handles.back().get();
}

double Next(const std::vector<double>& v, size_t& i) { return v[i++ % v.size()]; }

nvmlReturn_t CopyText(const std::string& s, char* out, unsigned len) {
  if (s.size() + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return NVML_SUCCESS;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) nvmlReturn_t nvmlInit_v2() {
  std::lock_guard lock(mu);
  initialised = true;
  Load();
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlShutdown() {
  std::lock_guard lock(mu);
  initialised = false;
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) const char* nvmlErrorString(nvmlReturn_t r) {
  return r == NVML_SUCCESS ? "Success" : "Fake NVML error";
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlSystemGetDriverVersion(char* out, unsigned len) {
  return CopyText("0.0.fake", out, len);
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* n) {
  std::lock_guard lock(mu);
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  Load();
  *n = static_cast<unsigned>(gpus.size());
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i,
                                                                                  nvmlDevice_t* d) {
  std::lock_guard lock(mu);
  if (i >= gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  *d = Handle(static_cast<int>(i), -1);
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* out,
                                                                      unsigned len) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->mig >= 0) return CopyText(g->mig[static_cast<size_t>(d->mig)].uuid, out, len);
  return CopyText(g->uuid, out, len);
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* out,
                                                                      unsigned len) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  return g ? CopyText(g->name, out, len) : NVML_ERROR_INVALID_ARGUMENT;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  constexpr unsigned long long kMiB = 1 << 20;
  if (d->mig >= 0) {
    const Mig& mig = g->mig[static_cast<size_t>(d->mig)];
    m->total = mig.total_mib * kMiB;
    m->used = mig.used_mib * kMiB;
  } else {
    m->total = g->memory_total_mib * kMiB;
    m->used = static_cast<unsigned long long>(Next(g->mem_used, g->mem_i) * kMiB);
  }
  m->free = m->total - m->used;
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d,
                                                                                  nvmlUtilization_t* u) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  if (!g->mig.empty()) return NVML_ERROR_NOT_SUPPORTED;  // as on a real MIG-enabled GPU
  u->gpu = static_cast<unsigned>(Next(g->util, g->util_i));
  u->memory = 0;
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned* mw) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  *mw = static_cast<unsigned>(Next(g->power, g->power_i) * 1000.0);
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(
    nvmlDevice_t d, unsigned long long* mj) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - loaded).count();
  *mj = 1000000ULL + static_cast<unsigned long long>(g->power[0] * ms);  // W x ms = mJ
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(
    nvmlDevice_t d, unsigned* n, nvmlProcessInfo_t* out) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  const std::string in = d->mig >= 0 ? g->mig[static_cast<size_t>(d->mig)].uuid : "";
  std::vector<nvmlProcessInfo_t> list;
  for (const Proc& p : g->procs) {
    if (p.mig != in) continue;
    list.push_back(
        {p.pid, p.mib << 20, d->mig >= 0 ? g->mig[static_cast<size_t>(d->mig)].gi : 0xFFFFFFFFu, 0});
  }
  if (list.size() > *n) {
    *n = static_cast<unsigned>(list.size());
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  *n = static_cast<unsigned>(list.size());
  if (!list.empty()) std::memcpy(out, list.data(), list.size() * sizeof(nvmlProcessInfo_t));
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned* current,
                                                                         unsigned* pending) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  *current = *pending = g->mig.empty() ? 0u : static_cast<unsigned>(NVML_DEVICE_MIG_ENABLE);
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d,
                                                                                   unsigned* n) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  *n = g->mig.empty() ? 0 : 7;
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d,
                                                                                        unsigned i,
                                                                                        nvmlDevice_t* out) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  if (i >= g->mig.size()) return NVML_ERROR_NOT_FOUND;
  *out = Handle(d->gpu, static_cast<int>(i));
  return NVML_SUCCESS;
}
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned* id) {
  std::lock_guard lock(mu);
  Gpu* g = Find(d);
  if (!g || d->mig < 0) return NVML_ERROR_INVALID_ARGUMENT;
  *id = g->mig[static_cast<size_t>(d->mig)].gi;
  return NVML_SUCCESS;
}

}  // extern "C"
