// Incremental books equal a full rebuild, exactly. A random stream of writes (late,
// out-of-order, duplicate and partial samples; allocations registered before and after
// their samples, ended and grown; a price change; a GPU that stops and comes back) is
// interleaved with reads of the month and of the month before at random as-of instants
// (so slices are metered in random order), each read at random as the CLI does or
// through a kept BooksCache as the server does; after every read the stored,
// incrementally kept books (hour slices, days, the month) must equal metering the same
// window afresh from the raw samples (MeterWindow): every time figure, phases, energy,
// peaks, the minute rollups, and the money (each line's cost and the total, to the
// micro-unit, and the monthly report's total). Reads of random windows (a range's
// periods, books/books.h WindowUsage) are checked the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "books/books.h"
#include "common/test_util.h"
#include "cost/cost_engine.h"
#include "report/report.h"

namespace gpuledger {
namespace {

constexpr TimeMs kNov1Utc = 1793491200000;  // 2026-11-01T00:00:00Z

std::vector<UsageRow> Sorted(std::vector<UsageRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const UsageRow& a, const UsageRow& b) {
    return std::tie(a.gpu_uuid, a.job_id, a.period_start) < std::tie(b.gpu_uuid, b.job_id, b.period_start);
  });
  return rows;
}

std::string Describe(const UsageRow& r) {
  return r.gpu_uuid + "/" + r.job_id + "@" + FormatTime(r.period_start) + ".." + FormatTime(r.period_end) +
         " gpu=" + std::to_string(r.gpu_ns) + " cov=" + std::to_string(r.covered_ns) +
         " busy=" + std::to_string(r.busy_ns) + " dense=" + std::to_string(r.dense_ns) +
         " util=" + std::to_string(r.util_ns) + " e=" + std::to_string(r.energy_mj) +
         " mem=" + std::to_string(r.peak_mem_mib) + " L/S/T/I=" + std::to_string(r.loading_ns) + "/" +
         std::to_string(r.steady_ns) + "/" + std::to_string(r.tail_ns) + "/" + std::to_string(r.idle_ns) +
         " flags=" + std::to_string(r.energy_flags);
}

void ExpectSameRows(const std::vector<UsageRow>& got, const std::vector<UsageRow>& want,
                    const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(Describe(got[i]), Describe(want[i])) << what << " row " << i;
}

class IncrementalBooks : public ::testing::TestWithParam<std::tuple<std::string, uint32_t>> {};

TEST_P(IncrementalBooks, EqualAFullRebuildAfterEveryWrite) {
  const auto& [tz_name, seed] = GetParam();
  std::mt19937 rng(seed);
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); };
  testing::TempDir dir;
  auto opened = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(opened.ok());
  Ledger& ledger = **opened;
  LedgerSettings settings;
  settings.timezone = tz_name;
  settings.default_interval_ms = kMinuteMs;
  settings.default_max_gap_ms = 3 * kMinuteMs;
  ASSERT_TRUE(ledger.SetSettings(settings).ok());
  ASSERT_TRUE(ledger.PutPrices({{"A10G", kNov1Utc - 40 * kDayMs, 3'500'000, 1'000'000, "CNY"}}).ok());
  std::vector<Gpu> gpus;
  for (int g = 0; g < 3; ++g) {
    Gpu gpu;
    gpu.uuid = "GPU-" + std::to_string(g);
    gpu.node = "n";
    gpu.index = g;
    gpu.model = "A10G";
    gpu.in_service_from = kNov1Utc - 2 * kDayMs + g * (37 * kMinuteMs + 1234);  // mid-minute, mid-hour
    gpus.push_back(gpu);
  }
  ASSERT_TRUE(ledger.PutGpus(gpus).ok());
  auto ctx0 = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx0.ok());
  const YearMonth month{2026, 11};
  const Window mw = *ctx0->tz.MonthWindow(month);
  // Three days around the month's start are where everything happens (the month starts
  // mid-UTC-day in most zones); the rest of the month is there to be read.
  const TimeMs t0 = mw.start - kDayMs, t1 = mw.start + 2 * kDayMs;
  std::vector<Job> jobs;
  for (int j = 0; j < 6; ++j) {
    Job job;
    job.id = "job-" + std::to_string(j);
    job.user = "u";
    job.project = "p";
    job.department = "d";
    job.start_ms = t0;
    job.status = JobStatus::kRunning;
    jobs.push_back(job);
  }
  ASSERT_TRUE(ledger.PutJobs(jobs).ok());

  int reads = 0;
  int windows = 0;          // window reads checked
  BooksCache cache;         // the server's: partial months and their open hours kept between reads
  TimeMs cached_as_of = 0;  // the server's clock only moves on
  // Money: the same rows priced, line by line and in total, to the micro-unit.
  auto expect_same_money = [&](const BooksContext& ctx, const std::vector<UsageRow>& got,
                               const std::vector<UsageRow>& want, const std::string& what) {
    auto a = PriceUsage(got, ctx.prices, false);
    auto b = PriceUsage(want, ctx.prices, false);
    ASSERT_TRUE(a.ok() && b.ok()) << what;
    EXPECT_EQ(a->total_micros, b->total_micros) << what;
    ASSERT_EQ(a->items.size(), b->items.size()) << what;
    for (size_t i = 0; i < a->items.size(); ++i) {
      EXPECT_EQ(a->items[i].job_id, b->items[i].job_id) << what;
      EXPECT_EQ(a->items[i].cost_micros, b->items[i].cost_micros) << what << " " << a->items[i].job_id;
    }
  };
  auto check_month = [&](YearMonth ym, TimeMs as_of, bool cached) {
    auto ctx = LoadBooksContext(ledger);
    ASSERT_TRUE(ctx.ok());
    if (cached) {
      cached_as_of = std::max(cached_as_of, as_of);
      as_of = cached_as_of;
      ctx->cache = &cache;
    }
    const std::string what = "read " + std::to_string(reads) + " of " + ym.ToString() + " as of " +
                             FormatTime(as_of) + (cached ? " (cached)" : "");
    auto books = MonthUsage(ledger, *ctx, ym, as_of);
    if (!books.ok() && books.status().code() == StatusCode::kFailedPrecondition) return;  // not begun
    ASSERT_TRUE(books.ok()) << books.status().ToString();
    GpuMinutes minutes;
    auto fresh = MeterWindow(ledger, *ctx, books->window, {}, &minutes);
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    ExpectSameRows(Sorted(books->rows), Sorted(*fresh), what);
    expect_same_money(*ctx, books->rows, *fresh, what);
    // The monthly report (by job) reads the same books: its lines cost what the fresh
    // rows price to, and its total is theirs.
    auto report = BuildMonthlyReport(ledger, *ctx, ym, as_of, GroupBy::kJob, false);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto priced = PriceUsage(*fresh, ctx->prices, false);
    ASSERT_TRUE(priced.ok());
    EXPECT_EQ(report->total.cost_micros, priced->total_micros) << what;
    if (ym != month) return;
    // Minute rollups are stored for whole hours (the open hour of a partial month is not).
    const TimeMs whole_until = books->partial ? FloorTo(books->window.end, kHourMs) : books->window.end;
    for (const auto& [uuid, all] : minutes) {
      std::vector<MinuteRollup> want;
      for (const MinuteRollup& m : all) {
        if (m.minute_ms < whole_until) want.push_back(m);
      }
      auto got = ledger.GetMinutes(uuid, {books->window.start, whole_until});
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->size(), want.size()) << uuid << " minutes, read " << reads;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ((*got)[i].minute_ms, want[i].minute_ms);
        EXPECT_EQ((*got)[i].samples, want[i].samples);
        EXPECT_DOUBLE_EQ((*got)[i].util_max_pct, want[i].util_max_pct);
      }
    }
    ++reads;
  };
  // Any window (a range's period: WindowUsage), often across the month's start and cut
  // mid-hour, composed from the kept slices, equals metering that window afresh.
  auto check_window = [&](TimeMs as_of, bool cached) {
    auto ctx = LoadBooksContext(ledger);
    ASSERT_TRUE(ctx.ok());
    if (cached) {
      cached_as_of = std::max(cached_as_of, as_of);
      as_of = cached_as_of;
      ctx->cache = &cache;
    }
    const TimeMs start = t0 + pick(t1 - t0 + kDayMs);
    const TimeMs end = start + 1 + (pick(2) == 0 ? pick(2 * kDayMs) : FloorTo(pick(2 * kDayMs), kHourMs));
    const std::string what = "window " + FormatTime(start) + ".." + FormatTime(end) + " as of " +
                             FormatTime(as_of) + (cached ? " (cached)" : "");
    auto books = WindowUsage(ledger, *ctx, {start, end}, as_of);
    if (as_of <= start) {
      EXPECT_EQ(books.status().code(), StatusCode::kFailedPrecondition) << what;
      return;
    }
    ASSERT_TRUE(books.ok()) << what << ": " << books.status().ToString();
    EXPECT_EQ(books->partial, as_of < end) << what;
    auto fresh = MeterWindow(ledger, *ctx, books->window, {});
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    ExpectSameRows(Sorted(books->rows), Sorted(*fresh), what);
    expect_same_money(*ctx, books->rows, *fresh, what);
    ++windows;
  };
  const YearMonth before = month.Prev();
  auto check = [&](TimeMs as_of) {
    const bool cached = pick(2) == 0;
    if (pick(3) == 0) check_month(before, as_of, cached);  // its last day is in the busy days
    check_month(month, as_of, cached);
    if (pick(2) == 0) check_window(as_of, cached);
  };

  std::vector<TimeMs> alloc_starts;
  std::vector<GpuSample> last_batch;
  for (int step = 0; step < 60 && !::testing::Test::HasFailure(); ++step) {
    if (step == 30) {  // a price change in the month, mid-stream: books already read are stale
      ASSERT_TRUE(ledger.PutPrices({{"A10G", mw.start + kDayMs + 7 * kMinuteMs, 4'000'000, 0, "CNY"}}).ok());
    }
    const int op = static_cast<int>(pick(10));
    if (op < 5) {  // a batch of samples somewhere in the busy days, any order
      std::vector<GpuSample> batch;
      TimeMs at = t0 + pick(t1 - t0);
      // Sometimes one GPU's stream goes on after a gap of minutes: its last sample, which
      // stood for one interval as the GPU's last, now stands for up to a max gap, often
      // across an hour edge (the write changes the predecessor's hour).
      const int only = pick(3) == 0 ? static_cast<int>(pick(3)) : -1;
      if (only >= 0) {
        auto last = ledger.SampleBefore(gpus[static_cast<size_t>(only)].uuid, t1);
        ASSERT_TRUE(last.ok());
        if (*last) at = (*last)->t + 2 * kMinuteMs + pick(50 * kMinuteMs);
      }
      const int n = 1 + static_cast<int>(pick(120));
      for (int k = 0; k < n; ++k) {
        Sample s;
        s.t = at + k * kMinuteMs + (pick(4) == 0 ? pick(50 * kSecondMs) : 0);
        const int mode = static_cast<int>(pick(10));
        s.util_pct = mode < 4 ? 90 + static_cast<float>(pick(10)) : mode < 7 ? 20 : mode < 9 ? 2 : 75;
        if (pick(8) == 0) s.util_pct = -1;  // a partial sample: util arrives later, or never
        s.mem_mib = static_cast<float>(1000 + pick(20000));
        s.power_w = static_cast<float>(50 + pick(250));
        s.energy_mj = pick(5) == 0 ? -1 : 4'000'000'000 + (s.t - t0) * 200 + pick(3) * 10'000;
        batch.push_back({gpus[static_cast<size_t>(only >= 0 ? only : pick(3))].uuid, s});
      }
      // Duplicates: a few samples sent twice in the batch, and now and then the whole
      // batch again later (a sender retrying after a lost answer).
      for (int k = 0; k < n / 10; ++k) batch.push_back(batch[static_cast<size_t>(pick(n))]);
      std::shuffle(batch.begin(), batch.end(), rng);
      ASSERT_TRUE(ledger.PutSamples(batch).ok());
      if (pick(4) == 0) last_batch = batch;
    } else if (op == 9 && !last_batch.empty()) {  // a sender's retry of an earlier batch
      ASSERT_TRUE(ledger.PutSamples(last_batch).ok());
      last_batch.clear();
    } else if (op < 7) {  // a hold, registered before or after its samples; open or not
      Allocation a;
      a.job_id = jobs[static_cast<size_t>(pick(6))].id;
      a.gpu_uuid = gpus[static_cast<size_t>(pick(3))].uuid;
      a.start_ms = t0 + pick(t1 - t0);
      a.end_ms = pick(3) == 0 ? 0 : a.start_ms + kMinuteMs + pick(10 * kHourMs);
      a.share_ppm = pick(2) == 0 ? kFullShare : 250'000 * (1 + pick(3));
      if (ledger.PutAllocations({a}).ok()) alloc_starts.push_back(a.start_ms);  // over-allocation is refused
    } else if (op < 8) {  // an open hold ended, or a hold grown, as the lifecycle does
      auto all = ledger.AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
      ASSERT_TRUE(all.ok());
      if (!all->empty()) {
        Allocation a = (*all)[static_cast<size_t>(pick(static_cast<int64_t>(all->size())))];
        a.end_ms = a.start_ms + kMinuteMs + pick(12 * kHourMs);
        (void)ledger.PutAllocations({a});  // may over-allocate when grown: then refused
      }
    } else {  // a GPU silent for days comes back (its old last sample stood for less)
      Sample s;
      s.t = t1 + kDayMs + pick(kDayMs);
      s.util_pct = 50;
      ASSERT_TRUE(ledger.PutSamples({{gpus[static_cast<size_t>(pick(3))].uuid, s}}).ok());
    }
    if (pick(3) == 0) {
      // Read as of somewhere in the busy days (a partial month) or after the month.
      const TimeMs as_of =
          pick(4) == 0 ? mw.end + kHourMs : std::max(mw.start + 1, t0 + pick(t1 - t0 + kDayMs));
      check(as_of);
    }
  }
  check(mw.start + kDayMs + 13 * kMinuteMs + 17);  // mid-hour
  check(mw.end + kDayMs);                          // the month has ended: stored whole
  check(mw.end + kDayMs);                          // and read back as stored
  check_window(mw.end + kDayMs, false);
  EXPECT_GT(reads, 5);
  EXPECT_GT(windows, 1);
}

INSTANTIATE_TEST_SUITE_P(Zones, IncrementalBooks,
                         ::testing::Combine(::testing::Values("UTC", "Asia/Shanghai", "Asia/Kolkata"),
                                            ::testing::Values(1u, 2u, 3u)));

// The server reads the month in progress every few seconds while samples arrive: the
// part before the open hour is kept and only the open hour composed onto it. Every read,
// kept or not, equals metering the month to as-of afresh; a late sample in an earlier
// hour, a hold ending in the open hour, a new hour and a read with no cache on the way.
TEST(LiveMonthReads, TheOpenHourComposedOntoTheKeptPartEqualsMeteringAfresh) {
  testing::TempDir dir;
  auto opened = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(opened.ok());
  Ledger& ledger = **opened;
  LedgerSettings settings;
  settings.timezone = "Asia/Kolkata";  // the month starts at 18:30 UTC: mid-day, mid-hour
  settings.default_interval_ms = kMinuteMs;
  settings.default_max_gap_ms = 3 * kMinuteMs;
  ASSERT_TRUE(ledger.SetSettings(settings).ok());
  ASSERT_TRUE(ledger.PutPrices({{"A10G", kNov1Utc - 40 * kDayMs, 3'500'000, 1'000'000, "CNY"}}).ok());
  auto ctx0 = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx0.ok());
  const Window mw = *ctx0->tz.MonthWindow({2026, 11});
  std::vector<Gpu> gpus;
  for (int g = 0; g < 3; ++g) {
    Gpu gpu;
    gpu.uuid = "GPU-" + std::to_string(g);
    gpu.node = "n";
    gpu.model = "A10G";
    gpu.in_service_from = mw.start - kDayMs;
    gpus.push_back(gpu);
  }
  ASSERT_TRUE(ledger.PutGpus(gpus).ok());
  std::vector<Job> jobs;
  for (int j = 0; j < 2; ++j) {
    Job job;
    job.id = "job-" + std::to_string(j);
    job.user = "u";
    job.project = "p";
    job.department = "d";
    job.start_ms = mw.start - kHourMs;
    job.status = JobStatus::kRunning;
    jobs.push_back(job);
  }
  ASSERT_TRUE(ledger.PutJobs(jobs).ok());
  ASSERT_TRUE(ledger
                  .PutAllocations({{"job-0", "GPU-0", mw.start - kHourMs, 0, kFullShare},
                                   {"job-1", "GPU-1", mw.start - kHourMs, 0, 500'000},
                                   {"job-0", "GPU-1", mw.start + kDayMs, 0, 500'000}})
                  .ok());
  // Two days and a bit of history, a sample a minute (GPU-2 held by nobody: idle).
  uint32_t x = 7;
  auto util = [&] {
    x = x * 1103515245 + 12345;
    return static_cast<float>((x >> 16) % 101);
  };
  auto sample = [&](TimeMs t) {
    Sample s;
    s.t = t;
    s.util_pct = util();
    s.mem_mib = 9000;
    s.power_w = 150;
    s.energy_mj = 1000000000 + (t - mw.start + kDayMs) * 150;
    return s;
  };
  const TimeMs live = FloorTo(mw.start + 2 * kDayMs, kHourMs) + 50 * kMinuteMs;  // ten minutes before an hour
  std::vector<GpuSample> history;
  for (TimeMs t = mw.start - 2 * kHourMs; t < live; t += kMinuteMs) {
    for (const Gpu& g : gpus) history.push_back({g.uuid, sample(t)});
  }
  Status put = ledger.PutSamples(history);
  ASSERT_TRUE(put.ok()) << put.ToString();

  BooksCache cache;
  TimeMs now = live;
  for (int step = 0; step < 40 && !::testing::Test::HasFailure(); ++step) {
    std::vector<GpuSample> flush;
    for (const Gpu& g : gpus) flush.push_back({g.uuid, sample(now)});
    ASSERT_TRUE(ledger.PutSamples(flush).ok());
    if (step == 12) {  // a late sample in an hour before the open one: the kept part is stale
      ASSERT_TRUE(ledger.PutSamples({{"GPU-2", sample(now - 2 * kHourMs + 30 * kSecondMs)}}).ok());
    }
    if (step == 25) {  // job-1 ends in the open hour
      ASSERT_TRUE(
          ledger.PutAllocations({{"job-1", "GPU-1", mw.start - kHourMs, now - 20 * kSecondMs, 500'000}})
              .ok());
    }
    now += 30 * kSecondMs;
    auto ctx = LoadBooksContext(ledger);
    ASSERT_TRUE(ctx.ok());
    if (step != 30) ctx->cache = &cache;  // one read without the server's cache
    const std::string what = "step " + std::to_string(step) + " as of " + FormatTime(now);
    auto books = MonthUsage(ledger, *ctx, {2026, 11}, now);
    ASSERT_TRUE(books.ok()) << what << ": " << books.status().ToString();
    ASSERT_TRUE(books->partial);
    auto fresh = MeterWindow(ledger, *ctx, books->window, {});
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    ExpectSameRows(Sorted(books->rows), Sorted(*fresh), what);
  }
  // Most reads composed the open hour onto the kept part: all but the first, the one
  // after the late sample, the first of the new hour, and the one without the cache.
  EXPECT_GE(cache.closed_part_reuses(), 34);
  EXPECT_LE(cache.closed_part_reuses(), 36);
}

}  // namespace
}  // namespace gpuledger
