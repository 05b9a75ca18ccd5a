// Change ids become visible in the order they are drawn (postgres_ledger.cc,
// RecordChange): a writer that records a change waits while another transaction that
// records one is open, so books built at change N never miss a change below N that
// commits later. Against the test cluster; skipped without one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z
constexpr int64_t kChangeOrderLock = 7152027;

TEST(PostgresChangeOrder, AWriterRecordingAChangeWaitsForAnOpenOneThatDrewFirst) {
  std::string why;
  auto conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) GTEST_SKIP() << why;
  auto ledger = OpenPostgresLedger(*conninfo);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_TRUE((*ledger)->PutGpus({{"GPU-0", "node", 0, "A10G", 23028, kT0, 0, 0, 0}}).ok());

  // Another writer, mid-transaction, holding the order lock as RecordChange takes it.
  auto other = pg::Conn::Open(*conninfo);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN").ok());
  ASSERT_TRUE((*other)->Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kChangeOrderLock) + ")").ok());

  std::atomic<bool> done{false};
  Status put;
  std::thread writer([&] {
    Sample s;
    s.t = kT0 + 60'000;
    s.util_pct = 50;
    s.mem_mib = 1000;
    s.power_w = 100;
    s.energy_mj = 1000;
    put = (*ledger)->PutSamples({{"GPU-0", s}});
    done = true;
  });
  // The write shows up waiting on the lock (a condition polled for, not a timing).
  auto watcher = pg::Conn::Open(*conninfo);
  ASSERT_TRUE(watcher.ok());
  bool waiting = false;
  for (int i = 0; i < 3000 && !waiting && !done; ++i) {
    auto r = (*watcher)->Exec(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = " +
        std::to_string(kChangeOrderLock));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    waiting = r->Int(0, 0) > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting) << "the sample write recorded its change without waiting for the open transaction";
  EXPECT_FALSE(done);
  ASSERT_TRUE((*other)->Exec("COMMIT").ok());
  writer.join();
  EXPECT_TRUE(put.ok()) << put.ToString();
  auto latest = (*ledger)->LatestChangeOverlapping({kT0, kT0 + kDayMs});
  ASSERT_TRUE(latest.ok());
  EXPECT_GT(*latest, 0);
}

}  // namespace
}  // namespace gpuledger
