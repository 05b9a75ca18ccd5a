#include "agent/node_stats.h"

#include <algorithm>
#include <sstream>

namespace gpuledger {

StatusOr<CpuTimes> ParseProcStat(std::string_view text) {
  if (text.rfind("cpu ", 0) != 0) return InvalidArgument("/proc/stat does not start with the 'cpu' line");
  const size_t nl = text.find('\n');
  std::istringstream in(std::string(text.substr(4, nl == std::string_view::npos ? text.size() - 4 : nl - 4)));
  CpuTimes t;
  uint64_t v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {  // user nice system idle iowait irq softirq steal
    t.total += v;
    if (i != 3 && i != 4) t.busy += v;
  }
  if (t.total == 0) return InvalidArgument("/proc/stat 'cpu' line has no counters");
  return t;
}

DiskBytes ParseDiskstats(std::string_view text, const std::vector<std::string>& devices) {
  DiskBytes d;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string major, minor, name;
    uint64_t reads = 0, rmerged = 0, rsectors = 0, rms = 0, writes = 0, wmerged = 0, wsectors = 0;
    if (!(f >> major >> minor >> name >> reads >> rmerged >> rsectors >> rms >> writes >> wmerged >>
          wsectors))
      continue;
    if (std::find(devices.begin(), devices.end(), name) == devices.end()) continue;
    d.read += rsectors * 512;
    d.written += wsectors * 512;
  }
  return d;
}

NodeStats::NodeStats(FileSystem& fs, std::string proc, std::string sys_block)
    : fs_(fs), proc_(std::move(proc)), sys_block_(std::move(sys_block)) {
  if (auto names = fs_.List(sys_block_); names.ok()) {
    for (const std::string& n : *names) {
      bool virt = false;
      for (const char* p : {"loop", "ram", "zram", "dm-", "md"}) virt = virt || n.rfind(p, 0) == 0;
      if (!virt) disks_.push_back(n);
    }
  }
}

StatusOr<NodeReading> NodeStats::Read() {
  NodeReading r;
  ASSIGN_OR_RETURN(std::string stat, fs_.ReadAll(proc_ + "/stat"));
  ASSIGN_OR_RETURN(CpuTimes now, ParseProcStat(stat));
  if (last_ && now.total > last_->total) {
    r.cpu_busy = static_cast<double>(now.busy - std::min(now.busy, last_->busy)) /
                 static_cast<double>(now.total - last_->total);
  }
  last_ = now;
  if (auto disk = fs_.ReadAll(proc_ + "/diskstats"); disk.ok()) r.disk = ParseDiskstats(*disk, disks_);
  return r;
}

}  // namespace gpuledger
