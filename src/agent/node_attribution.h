// Attribution on the node: which job holds a GPU, from whatever the site has. In order:
//   1. the environment of a process on the GPU: GPULEDGER_JOB_ID (and the other
//      GPULEDGER_* fields submission injects, which also register the job);
//   2. the cgroup of a process on the GPU: a Slurm job (".../job_<id>/..."), a
//      Kubernetes pod (".../kubepods.../pod<uid>/...": the pod's name is the HOSTNAME in
//      the process environment), or a Docker container (".../docker-<id>.scope") whose
//      labels (gpuledger.job_id, gpuledger.user, ...) name the job;
//   3. a Slurm prolog mapping file in the jobstats style: <gpustat dir>/<index or UUID>
//      holding "<jobid> <uid>";
//   4. dcgm-exporter's HPC job-mapping directory: a file named by the GPU index holding
//      job ids, one per line (the first is taken).
// 1 and 2 need a process on the GPU; 3 and 4 also cover a GPU that a job holds while it
// is idle. On a time-sliced GPU the lowest pid that resolves wins. Parsers are pure and
// fuzzed; the resolver reads through an injected FileSystem rooted where told (tests use
// an in-memory /proc). Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "gpu/gpu_backend.h"

namespace gpuledger {

struct Workload {
  std::string job_id;   // a gpuledger job id (environment)
  std::string hpc_job;  // a Slurm job id (cgroup, prolog file, dcgm mapping)
  std::string pod;      // a Kubernetes pod name
  std::string pod_uid;
  std::string container_id;  // Docker
  std::string source;        // environ | docker-label | cgroup | gpustat | dcgm-hpc-map; empty: nothing found
  uint32_t pid = 0;          // the process it came from (0: a mapping file)
  // GPULEDGER_* variables of that process, keys without the prefix, lower case
  // ("job_id", "user", "project", "run_dir", ...).
  std::map<std::string, std::string> fields;
  std::vector<std::string> cmdline;
  std::string cwd;
  int64_t process_start_ms = 0;  // when that process started (0: unknown)

  bool empty() const { return source.empty(); }
  // The label gpuledger's server attributes by: hpc_job carries a job id or a Slurm id.
  std::string JobLabel() const { return !job_id.empty() ? job_id : hpc_job; }
};

// NUL-separated KEY=VALUE (as /proc/<pid>/environ): only GPULEDGER_* and HOSTNAME kept.
std::map<std::string, std::string> ParseEnviron(std::string_view bytes);
// NUL-separated arguments (as /proc/<pid>/cmdline).
std::vector<std::string> ParseCmdline(std::string_view bytes);
struct CgroupIds {
  std::string slurm_job, pod_uid, container_id;
};
// /proc/<pid>/cgroup text (v1 or v2 lines "hierarchy:controllers:path").
CgroupIds ParseCgroup(std::string_view text);
// The first whitespace-separated token of a mapping file's first non-empty line.
std::string FirstToken(std::string_view text);
// Process start from /proc/<pid>/stat (field 22, clock ticks after boot), as Unix ms
// given the boot time (ms) and ticks per second; 0 when the line is malformed or the
// start is beyond any clock (over 15 digits of ticks).
int64_t ProcessStartMs(std::string_view stat_line, int64_t boot_ms, int64_t ticks_per_s);

struct NodePaths {
  std::string proc = "/proc";
  std::string gpustat = "/run/gpustat";
  std::string dcgm_hpc_map;  // dcgm-exporter's --hpc-job-mapping-dir; empty: not used
};

// Container id -> its labels (DockerLabels::Labels in production; a map in tests).
using ContainerLabelsFn = std::function<std::map<std::string, std::string>(const std::string& container_id)>;

class NodeAttributor {
 public:
  NodeAttributor(FileSystem& fs, NodePaths paths, ContainerLabelsFn container_labels = nullptr);
  // Resolves every GPU of one reading. Process details are cached by pid and dropped
  // when the pid leaves every GPU.
  std::vector<Workload> Resolve(const std::vector<GpuReading>& gpus);
  // Each job's own memory on one GPU this round: the NVML figures of the processes whose
  // workload names it (environment, container label or cgroup; the job label as
  // Workload::JobLabel), summed, in MiB. A job with a process whose memory NVML did not
  // report is left out (the figure would be short); MIG processes are not counted. Call
  // after Resolve of the same reading (it reads the process cache).
  std::map<std::string, int64_t> MemoryByJob(const GpuReading& g);

 private:
  struct ProcInfo {
    std::map<std::string, std::string> env;
    CgroupIds cgroup;
    std::vector<std::string> cmdline;
    std::string cwd;
    int64_t start_ms = 0;
  };
  const ProcInfo& Process(uint32_t pid);
  // The workload one process names, with its source (environ, docker-label, cgroup) or
  // none.
  Workload OfProcess(uint32_t pid);
  Workload FromProcesses(const GpuReading& g);
  Workload FromFiles(const GpuReading& g);
  FileSystem& fs_;
  NodePaths paths_;
  ContainerLabelsFn container_labels_;
  std::map<uint32_t, ProcInfo> cache_;
  int64_t boot_ms_ = -1;
};

}  // namespace gpuledger
