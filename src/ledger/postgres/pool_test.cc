// The PostgreSQL pool (pool.h): a read on one connection while another is inside a unit
// of work, and writes going on by themselves after every connection was dropped.
#include "ledger/postgres/pool.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

class PostgresPool : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto conninfo = testing::NewPostgresDatabase(&why);
    if (!conninfo) GTEST_SKIP() << why;
    PostgresOptions o;
    o.connections = 2;
    o.clock = &clock_;
    auto l = OpenPostgresLedger(*conninfo, o);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    auto admin = pg::Conn::Open(*conninfo);
    ASSERT_TRUE(admin.ok());
    admin_ = std::move(*admin);
    Status gpus = ledger_->PutGpus({{"GPU-pool-1", "n1", 0, "A10G", 24'576, 1'790'000'000'000, 0, 0, 0}});
    ASSERT_TRUE(gpus.ok()) << gpus.ToString();
  }
  Status PutSample(TimeMs t) {
    GpuSample g;
    g.gpu_uuid = "GPU-pool-1";
    g.sample.t = t;
    g.sample.util_pct = 50;
    return ledger_->PutSamples({g});
  }

  SimulatedClock clock_{1'790'812'800'000};
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<pg::Conn> admin_;
};

TEST_F(PostgresPool, AReadDoesNotWaitForAnotherThreadsUnitOfWork) {
  EXPECT_TRUE(ledger_->thread_safe());
  std::promise<void> inside, release;
  std::thread writer([&] {
    Status s = ledger_->InTransaction([&]() -> Status {
      RETURN_IF_ERROR(PutSample(1'790'812'800'000));
      inside.set_value();
      release.get_future().wait();  // holds its connection, mid-transaction
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  inside.get_future().wait();
  auto gpus = ledger_->ListGpus();  // on the pool's other connection
  ASSERT_TRUE(gpus.ok()) << gpus.status().ToString();
  EXPECT_EQ(gpus->size(), 1u);
  int seen = 0;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-pool-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++seen; }).ok());
  EXPECT_EQ(seen, 0) << "the unit of work has not committed";
  release.set_value();
  writer.join();
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-pool-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++seen; }).ok());
  EXPECT_EQ(seen, 1);
}

TEST_F(PostgresPool, WritesGoOnAfterEveryConnectionWasDropped) {
  ASSERT_TRUE(PutSample(1'790'812'800'000).ok());
  ASSERT_TRUE(admin_
                  ->Exec("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND pid <> pg_backend_pid()")
                  .ok());
  Status s = PutSample(1'790'812'810'000);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const LedgerHealth h = ledger_->Health();
  EXPECT_EQ(h.backend, "postgresql");
  EXPECT_TRUE(h.reachable);
  EXPECT_GE(h.losses, 1);
  EXPECT_GE(h.reconnects, 1);
  EXPECT_TRUE(ledger_->Ping().ok());
  int seen = 0;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-pool-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++seen; }).ok());
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace gpuledger
