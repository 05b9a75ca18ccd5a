#include "agent/node_attribution.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace gpuledger {

namespace {

std::vector<std::string_view> SplitNul(std::string_view bytes) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\0', start);
    if (end == std::string_view::npos) end = bytes.size();
    if (end > start) out.push_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool AllHex(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::map<std::string, std::string> ParseEnviron(std::string_view bytes) {
  std::map<std::string, std::string> out;
  for (std::string_view kv : SplitNul(bytes)) {
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view key = kv.substr(0, eq);
    if (key.rfind("GPULEDGER_", 0) == 0 || key == "HOSTNAME")
      out[std::string(key)] = std::string(kv.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> ParseCmdline(std::string_view bytes) {
  std::vector<std::string> out;
  for (std::string_view a : SplitNul(bytes)) out.emplace_back(a);
  return out;
}

CgroupIds ParseCgroup(std::string_view text) {
  CgroupIds ids;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    // "hierarchy:controllers:path"; the path may itself hold ':'.
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view path = line.substr(b + 1);
    size_t seg_start = 0;
    while (seg_start <= path.size()) {
      size_t slash = path.find('/', seg_start);
      if (slash == std::string_view::npos) slash = path.size();
      std::string_view seg = path.substr(seg_start, slash - seg_start);
      seg_start = slash + 1;
      if (seg.size() > 4 && seg.substr(0, 4) == "job_" && AllDigits(seg.substr(4)) && ids.slurm_job.empty()) {
        ids.slurm_job = std::string(seg.substr(4));
      }
      // kubepods: ".../pod<uid>" (cgroupfs) or "kubepods-besteffort-pod<uid_with_underscores>.slice".
      const size_t p = seg.rfind("pod");
      if (ids.pod_uid.empty() && p != std::string_view::npos &&
          path.find("kubepods") != std::string_view::npos) {
        std::string uid(seg.substr(p + 3));
        if (uid.size() > 6 && uid.compare(uid.size() - 6, 6, ".slice") == 0) uid.resize(uid.size() - 6);
        std::replace(uid.begin(), uid.end(), '_', '-');
        if (uid.size() == 36) ids.pod_uid = uid;
      }
      // Docker: "docker-<64 hex>.scope" (systemd) or "/docker/<64 hex>" (cgroupfs); also
      // containerd/cri-o scopes under kubepods ("cri-containerd-<id>.scope", "crio-<id>.scope").
      for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-"}) {
        if (seg.rfind(prefix, 0) == 0 && seg.size() > prefix.size() + 6 &&
            seg.substr(seg.size() - 6) == ".scope") {
          const std::string_view id = seg.substr(prefix.size(), seg.size() - prefix.size() - 6);
          if (AllHex(id) && ids.container_id.empty()) ids.container_id = std::string(id);
        }
      }
      if (AllHex(seg) && seg.size() == 64 && ids.container_id.empty() &&
          path.find("docker") != std::string_view::npos) {
        ids.container_id = std::string(seg);
      }
    }
  }
  return ids;
}

std::string FirstToken(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t j = i;
  while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
  return std::string(text.substr(i, j - i));
}

int64_t ProcessStartMs(std::string_view stat_line, int64_t boot_ms, int64_t ticks_per_s) {
  // "pid (comm) state ppid ..." — comm may hold spaces and ')': fields count from the last ')'.
  const size_t close = stat_line.rfind(')');
  if (close == std::string_view::npos || ticks_per_s <= 0) return 0;
  std::string_view rest = stat_line.substr(close + 1);
  int field = 2;  // rest starts before field 3 (state)
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    ++field;
    if (field == 22) {
      const std::string_view tok = rest.substr(pos, end - pos);
      // 15 digits: 10^15 ticks is over 300,000 years at 100 Hz; more cannot be a start
      // time, and x 1000 below would overflow.
      if (!AllDigits(tok) || tok.size() > 15) return 0;
      return boot_ms + std::stoll(std::string(tok)) * 1000 / ticks_per_s;
    }
    pos = end;
  }
  return 0;
}

NodeAttributor::NodeAttributor(FileSystem& fs, NodePaths paths, ContainerLabelsFn container_labels)
    : fs_(fs), paths_(std::move(paths)), container_labels_(std::move(container_labels)) {}

const NodeAttributor::ProcInfo& NodeAttributor::Process(uint32_t pid) {
  auto it = cache_.find(pid);
  if (it != cache_.end()) return it->second;
  ProcInfo info;
  const std::string dir = paths_.proc + "/" + std::to_string(pid);
  if (auto env = fs_.ReadAll(dir + "/environ"); env.ok()) info.env = ParseEnviron(*env);
  if (auto cg = fs_.ReadAll(dir + "/cgroup"); cg.ok()) info.cgroup = ParseCgroup(*cg);
  if (auto cmd = fs_.ReadAll(dir + "/cmdline"); cmd.ok()) info.cmdline = ParseCmdline(*cmd);
  std::error_code ec;  // the working directory is a link: read it directly (tests: absent)
  const auto cwd = std::filesystem::read_symlink(dir + "/cwd", ec);
  if (!ec) info.cwd = cwd.string();
  if (boot_ms_ < 0) {
    boot_ms_ = 0;
    if (auto stat = fs_.ReadAll(paths_.proc + "/stat"); stat.ok()) {
      const size_t at = stat->find("\nbtime ");
      if (at != std::string::npos) boot_ms_ = std::atoll(stat->c_str() + at + 7) * 1000;
    }
  }
  if (auto st = fs_.ReadAll(dir + "/stat"); st.ok() && boot_ms_ > 0) {
    info.start_ms = ProcessStartMs(*st, boot_ms_, sysconf(_SC_CLK_TCK));
  }
  return cache_.emplace(pid, std::move(info)).first->second;
}

Workload NodeAttributor::OfProcess(uint32_t pid) {
  const ProcInfo& info = Process(pid);
  Workload w;
  w.pid = pid;
  w.cmdline = info.cmdline;
  w.cwd = info.cwd;
  w.process_start_ms = info.start_ms;
  for (const auto& [k, v] : info.env) {
    if (k.rfind("GPULEDGER_", 0) != 0) continue;
    std::string key = k.substr(10);
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    w.fields[key] = v;
  }
  w.hpc_job = info.cgroup.slurm_job;
  w.pod_uid = info.cgroup.pod_uid;
  w.container_id = info.cgroup.container_id;
  if (!w.pod_uid.empty() && info.env.count("HOSTNAME")) w.pod = info.env.at("HOSTNAME");
  if (w.fields.count("job_id") && !w.fields["job_id"].empty()) {
    w.job_id = w.fields["job_id"];
    w.source = "environ";
    return w;
  }
  // A Docker container labelled with its job (docker run --label gpuledger.job_id=...).
  if (!w.container_id.empty() && container_labels_) {
    for (const auto& [k, v] : container_labels_(w.container_id)) {
      if (k.rfind("gpuledger.", 0) == 0 && !v.empty()) w.fields.try_emplace(k.substr(10), v);
    }
    if (w.fields.count("job_id") && !w.fields["job_id"].empty()) {
      w.job_id = w.fields["job_id"];
      w.source = "docker-label";
      return w;
    }
  }
  if (!w.hpc_job.empty() || !w.pod.empty() || !w.container_id.empty()) w.source = "cgroup";
  return w;
}

Workload NodeAttributor::FromProcesses(const GpuReading& g) {
  std::vector<uint32_t> pids;
  for (const GpuProcess& p : g.processes) pids.push_back(p.pid);
  std::sort(pids.begin(), pids.end());
  Workload cgroup_match;
  for (uint32_t pid : pids) {
    Workload w = OfProcess(pid);
    if (w.source == "environ" || w.source == "docker-label") return w;
    if (cgroup_match.empty() && w.source == "cgroup") cgroup_match = std::move(w);
  }
  return cgroup_match;
}

std::map<std::string, int64_t> NodeAttributor::MemoryByJob(const GpuReading& g) {
  std::map<std::string, int64_t> out;
  std::set<std::string> unknown;  // a job with a process whose memory NVML did not report
  for (const GpuProcess& p : g.processes) {
    if (!p.mig_uuid.empty()) continue;  // MIG instances are not metered yet
    const std::string label = OfProcess(p.pid).JobLabel();
    if (label.empty()) continue;  // a process no job claims
    if (p.used_mib < 0) {
      unknown.insert(label);
      continue;
    }
    out[label] += p.used_mib;
  }
  for (const std::string& label : unknown) out.erase(label);
  return out;
}

Workload NodeAttributor::FromFiles(const GpuReading& g) {
  Workload w;
  for (const std::string& name : {std::to_string(g.index), g.uuid}) {
    auto text = fs_.ReadAll(paths_.gpustat + "/" + name);
    if (text.ok() && !FirstToken(*text).empty()) {
      w.hpc_job = FirstToken(*text);
      w.source = "gpustat";
      return w;
    }
  }
  if (!paths_.dcgm_hpc_map.empty()) {
    auto text = fs_.ReadAll(paths_.dcgm_hpc_map + "/" + std::to_string(g.index));
    if (text.ok() && !FirstToken(*text).empty()) {
      w.hpc_job = FirstToken(*text);
      w.source = "dcgm-hpc-map";
    }
  }
  return w;
}

std::vector<Workload> NodeAttributor::Resolve(const std::vector<GpuReading>& gpus) {
  std::set<uint32_t> live;
  std::vector<Workload> out;
  out.reserve(gpus.size());
  for (const GpuReading& g : gpus) {
    for (const GpuProcess& p : g.processes) live.insert(p.pid);
    Workload w = FromProcesses(g);
    if (w.empty()) w = FromFiles(g);
    out.push_back(std::move(w));
  }
  for (auto it = cache_.begin(); it != cache_.end();)
    it = live.count(it->first) ? std::next(it) : cache_.erase(it);
  return out;
}

}  // namespace gpuledger
