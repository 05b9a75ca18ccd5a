#include "agent/node_stats.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(NodeStats, CpuBusyBetweenReadsAndWholeDiskBytes) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/sys/block/nvme0n1/size", "1").ok());
  ASSERT_TRUE(fs.Append("/sys/block/loop0/size", "1").ok());
  ASSERT_TRUE(fs.Append("/proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\nbtime 1\n").ok());
  const char* disk =
      " 259       0 nvme0n1 10 0 2048 5 20 0 4096 9 0 0 0\n"
      " 259       1 nvme0n1p1 10 0 2048 5 20 0 4096 9 0 0 0\n"
      "   7       0 loop0 1 0 999 0 0 0 0 0 0 0 0\n";
  ASSERT_TRUE(fs.Append("/proc/diskstats", disk).ok());
  NodeStats stats(fs, "/proc", "/sys/block");
  auto first = stats.Read();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->cpu_busy.has_value());
  EXPECT_EQ(first->disk.read, 2048u * 512);  // the whole disk only, not its partition or a loop device
  EXPECT_EQ(first->disk.written, 4096u * 512);
  ASSERT_TRUE(fs.RemoveAll("/proc/stat").ok());
  ASSERT_TRUE(fs.Append("/proc/stat", "cpu  250 0 150 800 100 0 0 0 0 0\n").ok());
  auto second = stats.Read();
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->cpu_busy.has_value());
  EXPECT_DOUBLE_EQ(*second->cpu_busy, 200.0 / 300.0);
  EXPECT_FALSE(ParseProcStat("intr 1 2 3").ok());
}

}  // namespace
}  // namespace gpuledger
