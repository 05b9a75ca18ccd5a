// A month in progress read while samples arrive, as the server reads it: a live flush (one
// sample per GPU at as-of) then the month's books at an as-of 10 s later, through a
// BooksCache (the kept open hour and what came before it). The argument is how far the
// month has gone (days); a read should cost the same on day 2 and day 29.
#include <benchmark/benchmark.h>

#include <chrono>

#include "books/books.h"
#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr DurationMs kEvery = 10 * kMinuteMs;  // sparse history: the set-up stays short

struct LiveFixture {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger;
  BooksCache cache;
  std::unique_ptr<BooksContext> ctx;
  YearMonth month{2026, 11};
  TimeMs next = 0;  // the next live sample's time
};

Sample At(TimeMs t, float util) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  s.mem_mib = 7000;
  s.power_w = 200;
  return s;
}

// `days` of history at kEvery, then samples at 10 s from 20:00 UTC of the last day.
std::unique_ptr<LiveFixture> Make(int days, int gpu_count) {
  auto f = std::make_unique<LiveFixture>();
  f->ledger = std::move(OpenSqliteLedger(f->dir.path() + "/live.db")).value();
  LedgerSettings settings;
  settings.timezone = "UTC";
  (void)f->ledger->SetSettings(settings);
  const Window w = *(*TimeZone::Load("UTC")).MonthWindow(f->month);
  (void)f->ledger->PutPrices({{"A10G", w.start - kDayMs, 3'500'000, 850'000, "CNY"}});
  std::vector<Gpu> gpus;
  std::vector<Job> jobs;
  std::vector<Allocation> allocs;
  for (int g = 0; g < gpu_count; ++g) {
    const std::string uuid = "GPU-" + std::to_string(g);
    gpus.push_back({uuid, "node-" + std::to_string(g / 8), g % 8, "A10G", 23028, w.start, 0, kEvery, 2 * kEvery});
    Job j;
    j.id = "job-" + std::to_string(g);
    j.user = "user" + std::to_string(g % 50);
    j.project = "project" + std::to_string(g % 20);
    j.department = "dept" + std::to_string(g % 5);
    j.start_ms = w.start;
    j.status = JobStatus::kRunning;
    jobs.push_back(j);
    allocs.push_back({j.id, uuid, w.start, 0, kFullShare});
  }
  (void)f->ledger->PutGpus(gpus);
  (void)f->ledger->PutJobs(jobs);
  (void)f->ledger->PutAllocations(allocs);
  const TimeMs live_from = w.start + (days - 1) * kDayMs + 20 * kHourMs;
  std::vector<GpuSample> batch;
  for (TimeMs t = w.start; t < live_from; t += kEvery) {
    for (const Gpu& g : gpus) batch.push_back({g.uuid, At(t, static_cast<float>((t / kEvery) % 100))});
    if (batch.size() > 500'000) {
      (void)f->ledger->PutSamples(batch);
      batch.clear();
    }
  }
  (void)f->ledger->PutSamples(batch);
  f->ctx = std::make_unique<BooksContext>(std::move(LoadBooksContext(*f->ledger)).value());
  f->ctx->cache = &f->cache;
  f->next = live_from;
  (void)MonthUsage(*f->ledger, *f->ctx, f->month, live_from);  // the books built up to now
  return f;
}

void BM_LiveMonthReadAfterAFlush(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(1));
  std::unique_ptr<LiveFixture> f = Make(static_cast<int>(state.range(0)), gpus);
  size_t rows = 0;
  std::vector<double> ms;  // each read's, to see whether reads grow through the hour
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<GpuSample> flush;
    for (int g = 0; g < gpus; ++g) flush.push_back({"GPU-" + std::to_string(g), At(f->next, 50)});
    (void)f->ledger->PutSamples(flush);
    f->next += 10 * kSecondMs;
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    auto b = MonthUsage(*f->ledger, *f->ctx, f->month, f->next);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!b.ok()) {
      state.SkipWithError(b.status().ToString().c_str());
      break;
    }
    rows = b->rows.size();
  }
  auto mean = [&](size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += ms[i];
    return to > from ? sum / static_cast<double>(to - from) : 0.0;
  };
  if (ms.size() >= 20) {  // the first read rebuilt the part before the open hour
    state.counters["first10_ms"] = mean(1, 11);
    state.counters["last10_ms"] = mean(ms.size() - 10, ms.size());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["open_hour_restarts"] = static_cast<double>(f->cache.open_hour_restarts());
}
// 60 reads: ten minutes of a live hour (no new hour begins). Arguments: day of the
// month, GPUs.
BENCHMARK(BM_LiveMonthReadAfterAFlush)
    ->Args({2, 1000})
    ->Args({29, 1000})
    ->Args({2, 10000})
    ->Iterations(60)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuledger
