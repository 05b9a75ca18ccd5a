// Node CPU and disk I/O from /proc, to see a training's data-loading phase next to its
// GPU samples: busy CPU fraction between two reads, and bytes read and written by whole
// disks (counters). Parsers pure; NodeStats reads through an injected FileSystem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace gpuledger {

struct CpuTimes {
  uint64_t busy = 0, total = 0;  // clock ticks since boot
};
// The aggregate "cpu" line of /proc/stat.
StatusOr<CpuTimes> ParseProcStat(std::string_view text);
struct DiskBytes {
  uint64_t read = 0, written = 0;
};
// Sums /proc/diskstats over the named devices (sectors of 512 bytes).
DiskBytes ParseDiskstats(std::string_view text, const std::vector<std::string>& devices);

struct NodeReading {
  std::optional<double> cpu_busy;  // 0..1 since the previous read; none on the first
  DiskBytes disk;
};

class NodeStats {
 public:
  NodeStats(FileSystem& fs, std::string proc = "/proc", std::string sys_block = "/sys/block");
  StatusOr<NodeReading> Read();

 private:
  FileSystem& fs_;
  std::string proc_, sys_block_;
  std::vector<std::string> disks_;  // whole disks: /sys/block minus loop, ram, zram, dm-, md
  std::optional<CpuTimes> last_;
};

}  // namespace gpuledger
