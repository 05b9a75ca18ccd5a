// How the SQLite ledger lays raw samples out (docs/formats/ledger.md): finished hours
// sealed into one chunk per GPU, the open hour as rows, sealing bounded per write. What
// a read returns is the contract suite's business (ledger_contract_test.cc); these
// tests look at the tables themselves.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/test_util.h"
#include "ledger/ledger.h"
#include "ledger/sample_blocks.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z, an hour boundary

// One integer from a query on the ledger file (read-only, beside the open ledger).
int64_t Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string Uuid(int g) { return "GPU-" + std::to_string(g); }

std::unique_ptr<Ledger> OpenWithGpus(const std::string& path, int gpus) {
  auto ledger = OpenSqliteLedger(path);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  std::vector<Gpu> list;
  for (int g = 0; g < gpus; ++g)
    list.push_back({Uuid(g), "node", g % 8, "A10G", 23028, kT0 - kDayMs, 0, 0, 0});
  EXPECT_TRUE((*ledger)->PutGpus(list).ok());
  return std::move(ledger).value();
}

// A busy GPU's reading (noisy power, a rising counter) at sample i.
Sample Reading(int g, int64_t i) {
  Sample s;
  s.t = kT0 + i * 10'000;
  s.util_pct = static_cast<float>(85 + (i * 7 + g) % 15);
  s.mem_mib = 18000;
  s.power_w = static_cast<float>(250.0 + static_cast<double>((i * 7919 + g * 104729) % 100'000) / 1000.0);
  s.energy_mj = 1'000'000 + i * 2'700'000;
  return s;
}

// A migration merged with a version below one a ledger has already applied (branches
// merged out of order) still runs when the ledger is next opened.
TEST(SqliteLedgerMigrations, AVersionBelowTheHighestAppliedStillRuns) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/l.db";
  ASSERT_TRUE(OpenSqliteLedger(path).ok());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // As if 0013 had come later: its tables and its record gone, 0017 still applied.
    ASSERT_EQ(
        sqlite3_exec(
            db,
            "DELETE FROM schema_migrations WHERE version = 13; DROP TABLE deliveries; DROP TABLE notices;",
            nullptr, nullptr, nullptr),
        SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_EQ(Query(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'deliveries'"), 0);
  auto reopened = OpenSqliteLedger(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'deliveries'"), 1);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM schema_migrations WHERE version = 13"), 1);
}

TEST(SqliteLedgerLayout, FinishedHoursAreSealedIntoOneChunkPerGpuAndTheOpenHourStaysRows) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/l.db";
  auto ledger = OpenWithGpus(path, 2);
  // 3 h 20 min of 10 s samples, written as a live sender would: 30 samples per write.
  constexpr int64_t kSamples = 1200;
  for (int64_t i = 0; i < kSamples; i += 30) {
    std::vector<GpuSample> batch;
    for (int g = 0; g < 2; ++g) {
      for (int64_t k = i; k < i + 30; ++k) batch.push_back({Uuid(g), Reading(g, k)});
    }
    ASSERT_TRUE(ledger->PutSamples(batch).ok());
  }
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sample_blocks"), 6) << "hours 0-2 of each GPU";
  EXPECT_EQ(Query(path, "SELECT MIN(samples) FROM sample_blocks"), 360);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM samples"), 2 * 120) << "the open hour: 20 minutes";
  EXPECT_EQ(Query(path, "SELECT MIN(t_ms) FROM samples"), kT0 + 3 * kHourMs);
  // A size property of the format on this data: power's 17 bits of noise dominate, the
  // rest are runs or small steps (well under the 6 x 8-byte doubles of a row).
  const int64_t bytes = Query(path, "SELECT SUM(LENGTH(chunk)) FROM sample_blocks");
  EXPECT_LT(bytes, 6 * 360 * 5) << "under 5 bytes per GPU sample";
  int n = 0;
  ASSERT_TRUE(ledger->ScanSamples(Uuid(1), {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; }).ok());
  EXPECT_EQ(n, kSamples);
}

// Once a UTC day is over, the first write of the next day seals its last hour and
// compacts the day's hour blocks into one; a late write into that day merges into it.
TEST(SqliteLedgerLayout, AFinishedDayIsCompactedIntoOneBlockThatLateWritesMergeInto) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/l.db";
  auto ledger = OpenWithGpus(path, 1);
  constexpr int64_t kSamples = 8640 + 720;  // a day and two hours of 10 s samples
  for (int64_t i = 0; i < kSamples; i += 60) {
    std::vector<GpuSample> batch;
    for (int64_t k = i; k < i + 60; ++k) batch.push_back({Uuid(0), Reading(0, k)});
    ASSERT_TRUE(ledger->PutSamples(batch).ok());
  }
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sample_blocks WHERE end_ms - start_ms = 86400000"), 1);
  EXPECT_EQ(Query(path, "SELECT samples FROM sample_blocks WHERE start_ms = " + std::to_string(kT0)), 8640);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sample_blocks"), 2) << "the day, and the next day's first hour";
  Sample late;
  late.t = kT0 + 5 * kHourMs + 10'000;  // a stored time of the finished day
  late.util_pct = -1;
  late.gr_active = 0.5F;
  auto check = [&](size_t want) {
    std::vector<Sample> got;
    ASSERT_TRUE(
        ledger->ScanSamples(Uuid(0), {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
            .ok());
    ASSERT_EQ(got.size(), want);
    const Sample& merged = got[5 * 360 + 1];
    EXPECT_EQ(merged.t, late.t);
    EXPECT_EQ(merged.gr_active, 0.5F);
    EXPECT_EQ(merged.util_pct, Reading(0, 5 * 360 + 1).util_pct) << "the field the late write lacked stays";
  };
  // Alone, the late sample is its write's latest hour: it stays a row, read over the day.
  ASSERT_TRUE(ledger->PutSamples({{Uuid(0), late}}).ok());
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM samples WHERE t_ms < " + std::to_string(kT0 + kDayMs)), 1);
  check(static_cast<size_t>(kSamples));
  // The GPU's next write of a later hour seals it into the day block.
  ASSERT_TRUE(ledger->PutSamples({{Uuid(0), Reading(0, kSamples)}}).ok());
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM samples WHERE t_ms < " + std::to_string(kT0 + kDayMs)), 0);
  EXPECT_EQ(
      Query(path, "SELECT COUNT(*) FROM sample_blocks WHERE start_ms < " + std::to_string(kT0 + kDayMs)), 1)
      << "merged into the day, not a new block";
  check(static_cast<size_t>(kSamples + 1));
  auto before = ledger->SampleBefore(Uuid(0), kT0 + kDayMs + 5);
  ASSERT_TRUE(before.ok() && before->has_value());
  EXPECT_EQ((*before)->t, kT0 + kDayMs);
}

// The first write of an hour names every GPU: past the budget, the rest of the GPUs'
// previous hours stay rows (reads unchanged) and their next write seals them.
TEST(SqliteLedgerLayout, SealingPastItsBudgetIsLeftToEachGpusNextWrite) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/l.db";
  constexpr int kGpus = 700;  // x 360 rows of an hour: past kSealBudgetSamples
  static_assert(kGpus * 360 > kSealBudgetSamples);
  auto ledger = OpenWithGpus(path, kGpus);
  std::vector<GpuSample> hour;
  for (int g = 0; g < kGpus; ++g) {
    for (int64_t i = 0; i < 360; ++i) hour.push_back({Uuid(g), Reading(g, i)});
  }
  ASSERT_TRUE(ledger->PutSamples(hour).ok());
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM samples"), kGpus * 360) << "one hour: all rows";
  auto next = [&](int64_t i) {
    std::vector<GpuSample> batch;
    for (int g = 0; g < kGpus; ++g) batch.push_back({Uuid(g), Reading(g, i)});
    return ledger->PutSamples(batch);
  };
  ASSERT_TRUE(next(360).ok());  // the next hour begins
  const int64_t sealed = Query(path, "SELECT COUNT(*) FROM sample_blocks");
  EXPECT_GT(sealed, 0);
  EXPECT_LT(sealed, kGpus) << "the budget stopped the sealing part way";
  EXPECT_GE(sealed, kSealBudgetSamples / 360);
  int n = 0;
  ASSERT_TRUE(
      ledger->ScanSamples(Uuid(kGpus - 1), {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; }).ok());
  EXPECT_EQ(n, 361) << "a deferred GPU reads the same";
  ASSERT_TRUE(next(361).ok());
  ASSERT_TRUE(next(362).ok());
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sample_blocks"), kGpus);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM samples"), kGpus * 3);
  EXPECT_EQ(Query(path, "SELECT SUM(samples) FROM sample_blocks"), kGpus * 360);
}

}  // namespace
}  // namespace gpuledger
