// Monthly report latency: 1,000 GPUs x 30 days of 10 s samples, already rolled up in
// the ledger (the books of the month are built), reported by department.
#include <benchmark/benchmark.h>

#include "common/test_util.h"
#include "meter/gpu_meter.h"
#include "report/render.h"

namespace gpuledger {
namespace {

constexpr int kGpus = 1000;

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<BooksContext> ctx;
  YearMonth month{2026, 11};  // 30 days
  size_t usage_rows = 0;
  size_t jobs = 0;
  int64_t samples = 0;
};

Fixture& Get() {
  static Fixture fixture;  // built once, on first use, and kept for the whole process
  static Fixture* f = [] {
    Fixture* fx = &fixture;
    fx->ledger = std::move(OpenSqliteLedger(fx->dir.path() + "/report.db")).value();
    LedgerSettings settings;
    (void)fx->ledger->SetSettings(settings);
    const TimeZone tz = std::move(TimeZone::Load(settings.timezone)).value();
    const Window w = *tz.MonthWindow(fx->month);
    (void)fx->ledger->PutPrices({{"A10G", w.start - 90 * kDayMs, 3'500'000, 850'000, "CNY"},
                                 {"A100-SXM4-80GB", w.start - 90 * kDayMs, 12'000'000, 850'000, "CNY"},
                                 {"A100-SXM4-80GB", w.start + 14 * kDayMs, 10'800'000, 850'000, "CNY"}});
    std::vector<Gpu> gpus;
    for (int g = 0; g < kGpus; ++g) {
      gpus.push_back({"GPU-" + std::to_string(g), "node-" + std::to_string(g / 8), g % 8,
                      g % 2 ? "A100-SXM4-80GB" : "A10G", 23028, w.start - 60 * kDayMs, 0, 0, 0});
    }
    (void)fx->ledger->PutGpus(gpus);
    // Each GPU runs a sequence of 6-14 h single-GPU jobs with 1-3 h gaps.
    std::vector<Job> jobs;
    std::vector<Allocation> allocs;
    std::vector<GpuMeterSetup> setups(kGpus);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    auto rnd = [&](int n) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      return static_cast<int64_t>(x % static_cast<uint64_t>(n));
    };
    for (int g = 0; g < kGpus; ++g) {
      GpuMeterSetup& s = setups[static_cast<size_t>(g)];
      s.gpu_uuid = gpus[static_cast<size_t>(g)].uuid;
      s.gpu_model = gpus[static_cast<size_t>(g)].model;
      s.capacity = w;
      s.cuts = {w.start + 14 * kDayMs};
      for (TimeMs t = w.start + rnd(3) * kHourMs; t < w.end - 16 * kHourMs;) {
        Job j;
        j.id = "job-" + std::to_string(jobs.size());
        j.user = "user" + std::to_string(rnd(100));
        j.project = "project" + std::to_string(rnd(20));
        j.department = "dept" + std::to_string(std::stoi(j.project.substr(7)) % 5);
        j.model_type = "yolov8s";
        j.start_ms = t;
        j.end_ms = t + (6 + rnd(9)) * kHourMs;
        j.status = JobStatus::kSucceeded;
        allocs.push_back({j.id, s.gpu_uuid, j.start_ms, j.end_ms, kFullShare});
        s.holds.push_back({static_cast<int>(s.job_ids.size()), j.start_ms, j.end_ms, kFullShare});
        s.job_ids.push_back(j.id);
        t = j.end_ms + (1 + rnd(3)) * kHourMs;
        jobs.push_back(std::move(j));
      }
    }
    (void)fx->ledger->PutJobs(jobs);
    (void)fx->ledger->PutAllocations(allocs);
    fx->jobs = jobs.size();
    // Meter every GPU's month of 10 s samples and store the rows as the books would.
    std::vector<UsageRow> rows;
    for (const GpuMeterSetup& s : setups) {
      auto m = GpuMeter::Create(s);
      for (TimeMs t = w.start; t < w.end; t += 10 * kSecondMs) {
        Sample smp;
        smp.t = t;
        smp.util_pct = static_cast<float>(rnd(101));
        smp.mem_mib = 7000;
        smp.power_w = 200;
        m->Add(smp);
        ++fx->samples;
      }
      auto r = m->Finish();
      rows.insert(rows.end(), r.begin(), r.end());
    }
    const int64_t change = *fx->ledger->LatestChangeOverlapping(w);
    (void)fx->ledger->ReplaceUsage(fx->month.ToString() + "@" + tz.name(), change, rows);
    fx->usage_rows = rows.size();
    fx->ctx = std::make_unique<BooksContext>(std::move(LoadBooksContext(*fx->ledger)).value());
    (void)BuildMonthlyReport(*fx->ledger, *fx->ctx, fx->month, kMaxTimeMs, GroupBy::kDepartment,
                             false);  // builds the month before
    return fx;
  }();
  return *f;
}

void BM_MonthlyReport1000Gpus(benchmark::State& state) {
  Fixture& f = Get();
  for (auto _ : state) {
    auto r = BuildMonthlyReport(*f.ledger, *f.ctx, f.month, kMaxTimeMs, GroupBy::kDepartment, false);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    benchmark::DoNotOptimize(RenderReportTable(*r));
  }
  state.counters["usage_rows"] = static_cast<double>(f.usage_rows);
  state.counters["jobs"] = static_cast<double>(f.jobs);
  state.counters["samples_rolled_up"] = static_cast<double>(f.samples);
}
BENCHMARK(BM_MonthlyReport1000Gpus)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace gpuledger
