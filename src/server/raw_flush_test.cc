#include "server/raw_flush.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z

class RawFlushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/l.db");
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    ASSERT_TRUE(ledger_->PutGpus({Gpu{"GPU-1", "node-1", 0, "A10G", 23028, kT0 - kDayMs, 0, 0, 0}}).ok());
  }
  // What the server does per request: note, then commit.
  void Store(RawFlusher& f, std::vector<TimeMs> times) {
    std::vector<GpuSample> batch;
    for (TimeMs t : times) {
      Sample s;
      s.t = t;
      s.util_pct = 50;
      batch.push_back({"GPU-1", s});
    }
    ASSERT_TRUE(f.Note(batch).ok());
    ASSERT_TRUE(ledger_->PutSamples(batch).ok());
  }
  std::vector<TimeMs> Chunked(RawFlusher& f) {
    std::vector<TimeMs> out;
    auto read = f.store().Read("GPU-1", {kMinTimeMs, kMaxTimeMs});
    EXPECT_TRUE(read.ok());
    if (read.ok()) {
      for (const Sample& s : *read) out.push_back(s.t);
    }
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
  MemFileSystem fs_;
};

TEST_F(RawFlushTest, AFlushMovesMergedSamplesAndClearsTheMark) {
  RawFlusher f(fs_, "raw");
  ASSERT_TRUE(f.Recover(*ledger_).ok());
  Store(f, {kT0, kT0 + 10'000});
  Sample mem;  // a second request with another field of the same time
  mem.t = kT0;
  mem.util_pct = -1;
  mem.mem_mib = 7270;
  ASSERT_TRUE(f.Note({{"GPU-1", mem}}).ok());
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", mem}}).ok());
  EXPECT_EQ(f.pending(), 3u);  // kT0 noted twice
  auto dirty = f.TakeDirty();
  auto read = RawFlusher::ReadBack(*ledger_, dirty);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(f.Write(*read).ok());
  ASSERT_TRUE(f.MarkFlushed().ok());
  auto got = f.store().Read("GPU-1", {kMinTimeMs, kMaxTimeMs});
  ASSERT_EQ(got->size(), 2u);
  EXPECT_FLOAT_EQ((*got)[0].util_pct, 50);
  EXPECT_FLOAT_EQ((*got)[0].mem_mib, 7270);
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(*fs_.ReadAll("raw/pending"), "none\n" + std::to_string(kT0) + "\nnone\n");
}

TEST_F(RawFlushTest, ACrashBeforeTheFlushIsRecoveredFromTheLedger) {
  {
    RawFlusher f(fs_, "raw");
    ASSERT_TRUE(f.Recover(*ledger_).ok());
    Store(f, {kT0, kT0 + 10'000});
    fs_.Crash();  // nothing flushed
  }
  RawFlusher again(fs_, "raw");
  auto n = again.Recover(*ledger_);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Chunked(again), (std::vector<TimeMs>{kT0, kT0 + 10'000}));
}

TEST_F(RawFlushTest, WritesDuringAFlushAndBackfillsStayCoveredByTheMark) {
  {
    RawFlusher f(fs_, "raw");
    ASSERT_TRUE(f.Recover(*ledger_).ok());
    Store(f, {kT0 + kHourMs});
    auto dirty = f.TakeDirty();
    Store(f, {kT0 + kHourMs + 10'000});  // arrives while the flush runs
    ASSERT_TRUE(f.Write(*RawFlusher::ReadBack(*ledger_, dirty)).ok());
    ASSERT_TRUE(f.MarkFlushed().ok());
    Store(f, {kT0});  // a backfill from an hour earlier
    fs_.Crash();
  }
  RawFlusher again(fs_, "raw");
  ASSERT_TRUE(again.Recover(*ledger_).ok());
  EXPECT_EQ(Chunked(again), (std::vector<TimeMs>{kT0, kT0 + kHourMs, kT0 + kHourMs + 10'000}));
}

TEST_F(RawFlushTest, AFailedWriteIsRetriedByTheNextFlush) {
  RawFlusher f(fs_, "raw");
  ASSERT_TRUE(f.Recover(*ledger_).ok());
  Store(f, {kT0});
  fs_.SetCapacity(0);  // the disk is full
  auto dirty = f.TakeDirty();
  EXPECT_EQ(f.Write(*RawFlusher::ReadBack(*ledger_, dirty)).code(), StatusCode::kResourceExhausted);
  f.Restore(dirty);
  EXPECT_EQ(f.pending(), 1u);
  fs_.SetCapacity(int64_t{1} << 30);
  dirty = f.TakeDirty();
  ASSERT_TRUE(f.Write(*RawFlusher::ReadBack(*ledger_, dirty)).ok());
  ASSERT_TRUE(f.MarkFlushed().ok());
  EXPECT_EQ(Chunked(f), (std::vector<TimeMs>{kT0}));
}

}  // namespace
}  // namespace gpuledger
