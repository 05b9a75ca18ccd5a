// What the server and the agent's shipper log (common/logger.h) when their background
// work fails, recovers, drops data by retention or finds a damaged journal frame, seen
// through a CapturingLogger; and the journal's damage in /metrics. Real SQLite, real
// sockets (port 0).
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>
#include <sqlite3.h>

#include <thread>

#include "agent/disk_queue.h"
#include "agent/shipper.h"
#include "common/logger.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "server/auth.h"
#include "server/journal.h"
#include "server/server.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

const SimulatedClock kClock(1794744000000);  // 2026-11-15T12:00:00Z
constexpr TimeMs kT0 = 1790900000000;        // 2026-10-02

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Runs SQL on the ledger file from a second connection (what an operator, or a failing
// disk, might do to the server's database behind its back).
void Sql(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(raw);
}

class ServerLogging : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/ledger.db";
    SimOptions o;
    o.seed = 5;
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 1;
    o.gpus_per_node = 1;
    o.load = 0.2;
    auto sim = testing::LoadSimulationInto(std::move(OpenLedger(db_)).value(), o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    auto t = MakeToken(Role::kIngest, "", "", kClock.Now());
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(sim->ledger->PutToken(t->record).ok());
    token_ = t->secret;
    gpu_ = sim->cluster.gpus.at(0).uuid;
  }
  ServerOptions Options() {
    ServerOptions opt;
    opt.port = 0;
    opt.journal_dir = dir_.path() + "/journal";
    opt.journal_flush_interval_ms = kHourMs;  // only the flushes a test asks for
    opt.logger = &log_;
    return opt;
  }
  std::unique_ptr<Server> Start(ServerOptions opt) {
    auto s = std::make_unique<Server>(std::move(OpenLedger(db_)).value(), kClock, std::move(opt));
    Status st = s->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? std::move(s) : nullptr;
  }
  int Write(Server& server, TimeMs t) {
    httplib::Client client("127.0.0.1", server.port());
    const RwLabels labels = {{"Hostname", "node-9"},
                             {"UUID", "GPU-remote-1"},
                             {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                             {"gpu", "0"},
                             {"modelName", "A10G"}};
    auto res =
        client.Post("/api/v1/write", {{"Authorization", "Bearer " + token_}, {"Content-Encoding", "snappy"}},
                    Snappy(RwRequestV1({RwSeriesV1(labels, {{40, t}})})), "application/x-protobuf");
    return res ? res->status : -1;
  }

  testing::TempDir dir_;
  std::string db_, token_, gpu_;
  CapturingLogger log_;
};

TEST_F(ServerLogging, AFlushFailingAHundredTimesIsLoggedOnceThenItsRecoveryWithTheCount) {
  auto server = Start(Options());
  ASSERT_TRUE(server);
  ASSERT_EQ(Write(*server, kT0), 204);
  // Every insert into the samples table now fails, with the same message each time.
  Sql(db_,
      "CREATE TRIGGER refuse BEFORE INSERT ON samples BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"
      "CREATE TRIGGER refuse_blocks BEFORE INSERT ON sample_blocks BEGIN SELECT RAISE(ABORT, 'disk on "
      "fire'); END;");
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(server->FlushJournal().ok()) << i;
  const auto failed = log_.Events("journal_flush_failed");
  ASSERT_EQ(failed.size(), 1u) << log_.Text();
  EXPECT_EQ(failed[0].level, LogLevel::kWarning);
  EXPECT_NE(failed[0].Field("status").find("disk on fire"), std::string::npos) << log_.Text();
  EXPECT_EQ(log_.Count("journal_flush_recovered"), 0u);
  Sql(db_, "DROP TRIGGER refuse; DROP TRIGGER refuse_blocks;");
  ASSERT_TRUE(server->FlushJournal().ok());
  const auto recovered = log_.Events("journal_flush_recovered");
  ASSERT_EQ(recovered.size(), 1u) << log_.Text();
  EXPECT_EQ(recovered[0].Field("failures"), "100");
  server->Stop();
  int64_t stored = 0;
  ASSERT_TRUE((*OpenLedger(db_))
                  ->ScanSamples("GPU-remote-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; })
                  .ok());
  EXPECT_EQ(stored, 1) << "kept through the failures";
  EXPECT_EQ(log_.Count("journal_flush_failed"), 1u) << log_.Text();
}

TEST_F(ServerLogging, ADamagedJournalFrameIsLoggedWithItsPlaceCountedInMetricsAndReplayGoesOn) {
  auto frame = [&](TimeMs t) {
    Sample s;
    s.t = t;
    s.util_pct = 10;
    return EncodeJournalFrame({{gpu_, s}});
  };
  const std::string a = frame(kT0), b = frame(kT0 + 60'000), c = frame(kT0 + 120'000);
  std::string damaged = b;
  damaged[20] ^= 0x01;
  const std::string segment = dir_.path() + "/journal/00000000000000000001.seg";
  PosixFileSystem fs;
  ASSERT_TRUE(fs.Append(segment, a + damaged + c).ok());
  ServerOptions opt = Options();
  opt.raw_retention_ms = 0;
  auto server = Start(opt);
  ASSERT_TRUE(server);
  const auto bad = log_.Events("segment_corrupt");
  ASSERT_EQ(bad.size(), 1u) << log_.Text();
  EXPECT_EQ(bad[0].Field("log"), "journal");
  EXPECT_EQ(bad[0].Field("segment"), segment);
  EXPECT_EQ(bad[0].Field("offset"), std::to_string(a.size()));
  EXPECT_EQ(bad[0].Field("bytes"), std::to_string(b.size()));
  const auto replayed = log_.Events("journal_replayed");
  ASSERT_EQ(replayed.size(), 1u) << log_.Text();
  EXPECT_EQ(replayed[0].Field("samples"), "2");
  EXPECT_EQ(replayed[0].Field("corrupt_frames"), "1");
  httplib::Client client("127.0.0.1", server->port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\ngpuledger_journal_corrupt_frames_total 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\ngpuledger_journal_corrupt_bytes_total " + std::to_string(b.size()) + "\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("\ngpuledger_journal_replayed_samples_total 2\n"), std::string::npos);
  server->Stop();
  std::vector<TimeMs> times;
  ASSERT_TRUE((*OpenLedger(db_))
                  ->ScanSamples(gpu_, {kT0, kT0 + 180'000}, [&](const Sample& s) { times.push_back(s.t); })
                  .ok());
  EXPECT_EQ(times, (std::vector<TimeMs>{kT0, kT0 + 120'000})) << "the frames on both sides of the damage";
}

TEST_F(ServerLogging, RetentionLogsHowManySamplesItDroppedAndItsCutoff) {
  ServerOptions opt = Options();
  opt.raw_retention_ms = kDayMs;
  auto server = Start(opt);  // retention runs at start
  ASSERT_TRUE(server);
  const auto dropped = log_.Events("retention_dropped");
  ASSERT_EQ(dropped.size(), 1u) << log_.Text();
  EXPECT_GT(server->counters().retention_samples_dropped.load(), 0);
  EXPECT_EQ(dropped[0].Field("samples"), std::to_string(server->counters().retention_samples_dropped.load()));
  EXPECT_EQ(dropped[0].Field("cutoff").substr(0, 8), "2026-10-")
      << "the month holding now - 1 day began then";
  EXPECT_EQ(dropped[0].Field("keep_days"), "1");
  server->Stop();
  auto again = Start(opt);  // nothing left to drop: nothing said
  ASSERT_TRUE(again);
  EXPECT_EQ(log_.Count("retention_dropped"), 1u) << log_.Text();
}

TEST(ServerLoggingScrape, AnUnreachableTargetIsLoggedOnceHoweverOftenItIsRetried) {
  testing::TempDir dir;
  CapturingLogger log;
  ServerOptions opt;
  opt.port = 0;
  opt.scrape_targets = {"http://127.0.0.1:1/metrics"};  // nothing listens on port 1
  opt.scrape_interval_ms = 10 * kSecondMs;
  opt.logger = &log;
  SimulatedClock clock(kClock.Now(), SimulatedClock::Waits::kOnThisClock);  // its intervals pass as moved
  Server server(std::move(OpenLedger(dir.path() + "/s.db")).value(), clock, opt);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(clock.AwaitWaiters(2));  // the scraper (one failed scrape) and the maintenance
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(clock.AdvanceAndSettle(10 * kSecondMs));
  server.Stop();
  ASSERT_EQ(server.counters().scrape_errors.load(), 10);
  const auto failed = log.Events("scrape_failed");
  ASSERT_EQ(failed.size(), 1u) << log.Text();
  EXPECT_EQ(failed[0].Field("target"), "http://127.0.0.1:1/metrics");
  EXPECT_NE(failed[0].Field("status").find("UNAVAILABLE: scrape http://127.0.0.1:1/metrics: "),
            std::string::npos)
      << log.Text();
}

TEST(ShipperLogging, AnUnreachableServerIsLoggedOnceHoweverOftenTheShipperRetries) {
  MemFileSystem fs;
  auto queue = DiskQueue::Open(fs, "q", 8 << 20);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE((*queue)->Append({0, "/api/v1/jobs", "application/json", "{}"}).ok());
  CapturingLogger log;
  ShipperOptions o;
  o.url = "http://127.0.0.1:1";
  o.token = "t";
  o.min_backoff_ms = 1;
  o.max_backoff_ms = 2;
  o.logger = &log;
  SimulatedClock clock(kClock.Now(), SimulatedClock::Waits::kOnThisClock);  // its backoff passes as moved
  o.clock = &clock;
  Shipper shipper(**queue, o);
  std::thread run([&] { shipper.Run(); });
  ASSERT_TRUE(clock.AwaitWaiters(1));  // backing off after its first failure
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(clock.AdvanceAndSettle(o.max_backoff_ms));
  shipper.Stop();
  run.join();
  ASSERT_EQ(shipper.counters().failures.load(), 10);
  const auto failed = log.Events("ship_failed");
  ASSERT_EQ(failed.size(), 1u) << log.Text();
  EXPECT_NE(failed[0].Field("status").find("http://127.0.0.1:1"), std::string::npos) << log.Text();
  EXPECT_NE(shipper.last_error().find("POST /api/v1/jobs"), std::string::npos) << shipper.last_error();
}

}  // namespace
}  // namespace gpuledger
