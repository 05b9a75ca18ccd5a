#include "tsdb/sample_store.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z

std::vector<Sample> Stream(TimeMs from, int n, float util) {
  std::vector<Sample> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    out[static_cast<size_t>(i)].t = from + i * 10'000;
    out[static_cast<size_t>(i)].util_pct = util;
    out[static_cast<size_t>(i)].energy_mj = 1'000'000 + i * 2'000'000LL;
  }
  return out;
}

TEST(SampleStore, AppendsAcrossDaysAndReadsAWindow) {
  MemFileSystem fs;
  SampleStore store(fs, "/data");
  // 2 h of samples that cross midnight UTC: two day files.
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 - kHourMs, 720, 50)).ok());
  auto all = store.Read("GPU-1", {kT0 - kDayMs, kT0 + kDayMs});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 720u);
  auto second_hour = store.Read("GPU-1", {kT0, kT0 + kHourMs});
  EXPECT_EQ(second_hour->size(), 360u);
  EXPECT_EQ(*fs.List("/data"), (std::vector<std::string>{"2026-09-30", "2026-10-01"}));
  EXPECT_TRUE(store.Read("GPU-2", {kT0, kT0 + kHourMs})->empty());
  EXPECT_FALSE(store.Append("../etc", Stream(kT0, 1, 1)).ok());
}

TEST(SampleStore, ALaterAppendWinsForTheSameTime) {
  MemFileSystem fs;
  SampleStore store(fs, "/data");
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0, 10, 50)).ok());
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + 50'000, 10, 90)).ok());  // overlaps the last 5
  auto got = store.Read("GPU-1", {kT0, kT0 + kDayMs});
  ASSERT_EQ(got->size(), 15u);
  EXPECT_FLOAT_EQ((*got)[4].util_pct, 50);
  EXPECT_FLOAT_EQ((*got)[5].util_pct, 90);
}

TEST(SampleStore, ACrashLosesOnlyTheUnacknowledgedTornAppend) {
  MemFileSystem fs;
  SampleStore store(fs, "/data");
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0, 100, 50)).ok());  // acknowledged: synced
  // A second append is half written when the machine dies: simulate by appending
  // unsynced bytes through the file system, then crashing with a torn tail.
  const std::string path = "/data/2026-10-01/GPU-1.chunks";
  ASSERT_TRUE(fs.Append(path, std::string("\x40\x00\x00\x00\xde\xad\xbe\xef partial", 16)).ok());
  fs.Crash(/*torn_bytes=*/16);
  StoreReadStats stats;
  auto got = store.Read("GPU-1", {kT0, kT0 + kDayMs}, &stats);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), 100u);
  EXPECT_EQ(stats.torn_frames, 1);
  // And the store keeps appending after it.
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + kHourMs, 10, 70)).ok());
  EXPECT_EQ(store.Read("GPU-1", {kT0, kT0 + kDayMs})->size(), 100u);  // behind the torn frame: see docs
}

TEST(SampleStore, DiskFullFailsTheAppendAndKeepsWhatWasStored) {
  MemFileSystem fs;
  SampleStore store(fs, "/data");
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0, 100, 50)).ok());
  fs.SetCapacity(*store.SizeBytes() + 10);
  Status full = store.Append("GPU-1", Stream(kT0 + kHourMs, 1000, 60));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();
  EXPECT_EQ(store.Read("GPU-1", {kT0, kT0 + kDayMs})->size(), 100u);
}

TEST(SampleStore, RetentionDropsWholeOldDays) {
  MemFileSystem fs;
  SampleStore store(fs, "/data");
  for (int d = 0; d < 5; ++d) ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + d * kDayMs, 10, 50)).ok());
  auto dropped = store.DropBefore(kT0 + 2 * kDayMs + kHourMs);  // days 0 and 1 end before the cutoff
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 2);
  EXPECT_EQ(store.Read("GPU-1", {kT0, kT0 + 5 * kDayMs})->size(), 30u);
}

TEST(SampleStore, CompactionRewritesAFinishedDayAsOneChunkAndReadsTheSame) {
  MemFileSystem fs;
  SampleStore store(fs, "s");
  // 30 flushes of 6 samples each, one overwritten by a later append, then a torn append.
  for (int f = 0; f < 30; ++f) ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + f * 60'000, 6, 40)).ok());
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0, 1, 99)).ok());
  ASSERT_TRUE(fs.Append("s/2026-10-01/GPU-1.chunks", std::string("\x40\0\0\0half", 8)).ok());
  auto before = store.Read("GPU-1", {kT0, kT0 + kDayMs});
  ASSERT_TRUE(before.ok());
  const int64_t bytes_before = *store.SizeBytes();
  // The day is not over at its own end minus a second: nothing happens.
  EXPECT_EQ(*store.CompactBefore(kT0 + kDayMs - 1000), 0);
  auto rewritten = store.CompactBefore(kT0 + kDayMs);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(*rewritten, 1);
  StoreReadStats stats;
  auto after = store.Read("GPU-1", {kT0, kT0 + kDayMs}, &stats);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(stats.chunks, 1);
  EXPECT_EQ(stats.torn_frames, 0);
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].t, (*before)[i].t);
    EXPECT_FLOAT_EQ((*after)[i].util_pct, (*before)[i].util_pct);
  }
  EXPECT_FLOAT_EQ((*after)[0].util_pct, 99);  // the later append still wins
  EXPECT_LT(*store.SizeBytes(), bytes_before / 3);
  EXPECT_EQ(*store.CompactBefore(kT0 + kDayMs), 0);  // marked done
}

TEST(SampleStore, ACrashDuringCompactionLeavesTheOriginal) {
  MemFileSystem fs;
  SampleStore store(fs, "s");
  for (int f = 0; f < 3; ++f) ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + f * 60'000, 6, 40)).ok());
  // A compaction that wrote its temporary file but never renamed it.
  ASSERT_TRUE(fs.Append("s/2026-10-01/GPU-1.chunks.tmp", "partial").ok());
  fs.Crash();
  auto got = store.Read("GPU-1", {kT0, kT0 + kDayMs});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 18u);
  ASSERT_TRUE(store.CompactBefore(kT0 + kDayMs).ok());  // the leftover is replaced, not read
  EXPECT_EQ(store.Read("GPU-1", {kT0, kT0 + kDayMs})->size(), 18u);
}

TEST(SampleStore, WorksOnTheRealFileSystem) {
  testing::TempDir dir;
  PosixFileSystem fs;
  SampleStore store(fs, dir.path() + "/samples");
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0, 360, 42)).ok());
  auto got = store.Read("GPU-1", {kT0, kT0 + kDayMs});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 360u);
  EXPECT_EQ(got->back().energy_mj, 1'000'000 + 359 * 2'000'000LL);
  ASSERT_TRUE(store.Append("GPU-1", Stream(kT0 + 3600'000, 10, 50)).ok());
  ASSERT_EQ(*store.CompactBefore(kT0 + kDayMs), 1);  // through a real rename
  StoreReadStats stats;
  EXPECT_EQ(store.Read("GPU-1", {kT0, kT0 + kDayMs}, &stats)->size(), 370u);
  EXPECT_EQ(stats.chunks, 1);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the standard check value
}

}  // namespace
}  // namespace gpuledger
