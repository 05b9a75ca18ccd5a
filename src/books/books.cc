#include "books/books.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.h"
#include "meter/gpu_meter.h"
#include "meter/minute_rollup.h"

namespace gpuledger {

StatusOr<BooksContext> LoadBooksContext(Ledger& ledger) {
  ASSIGN_OR_RETURN(LedgerSettings settings, ledger.GetSettings());
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(settings.timezone));
  ASSIGN_OR_RETURN(Currency currency, LookupCurrency(settings.currency));
  ASSIGN_OR_RETURN(std::vector<Price> prices, ledger.ListPrices());
  ASSIGN_OR_RETURN(PriceBook book, PriceBook::Create(currency, std::move(prices)));
  return BooksContext{std::move(settings), std::move(tz), std::move(book)};
}

StatusOr<std::vector<UsageRow>> MeterWindow(Ledger& ledger, const BooksContext& ctx, Window w,
                                            const std::vector<TimeMs>& cuts, GpuMinutes* minutes) {
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  ASSIGN_OR_RETURN(std::vector<Allocation> allocs, ledger.AllocationsOverlapping(w));
  std::map<std::string, std::vector<const Allocation*>> by_gpu;
  std::set<std::string> held_jobs;
  for (const Allocation& a : allocs) {
    by_gpu[a.gpu_uuid].push_back(&a);
    held_jobs.insert(a.job_id);
  }
  std::vector<UsageRow> rows;
  for (const Gpu& g : gpus) {
    const Window cap = g.service().Intersect(w);
    if (cap.length() == 0) continue;
    GpuMeterSetup setup;
    setup.gpu_uuid = g.uuid;
    setup.gpu_model = g.model;
    setup.capacity = cap;
    setup.cuts = ctx.prices.ChangesWithin(g.model, cap);
    setup.cuts.insert(setup.cuts.end(), cuts.begin(), cuts.end());
    setup.options.interval_ms =
        g.sample_interval_ms ? g.sample_interval_ms : ctx.settings.default_interval_ms;
    setup.options.max_gap_ms = g.max_gap_ms ? g.max_gap_ms : ctx.settings.default_max_gap_ms;
    std::map<std::string, int> slots;
    for (const Allocation* a : by_gpu[g.uuid]) {
      auto [it, fresh] = slots.emplace(a->job_id, static_cast<int>(setup.job_ids.size()));
      if (fresh) setup.job_ids.push_back(a->job_id);
      setup.holds.push_back({it->second, a->start_ms, a->window().end, a->share_ppm});
    }
    const DurationMs max_gap = setup.options.max_gap_ms;
    ASSIGN_OR_RETURN(GpuMeter meter, GpuMeter::Create(std::move(setup)));
    // The sample before the window may stand for its first moments; samples up to one
    // max gap after it close the window's last sample exactly as a longer window would.
    ASSIGN_OR_RETURN(std::optional<Sample> before, ledger.SampleBefore(g.uuid, cap.start));
    if (before) meter.Add(*before);
    MinuteRoller roller(cap);
    TimeMs last_t = kMinTimeMs;
    RETURN_IF_ERROR(ledger.ScanSamples(g.uuid, {cap.start, cap.end + max_gap}, [&](const Sample& s) {
      meter.Add(s);
      roller.Add(s);
      last_t = s.t;
    }));
    // A sample inside the window with none after it up to one max gap past the window
    // still stands for a whole max gap when the stream goes on later.
    bool more_later = false;
    if (last_t != kMinTimeMs && last_t < cap.end) {
      ASSIGN_OR_RETURN(more_later, ledger.HasSampleAtOrAfter(g.uuid, cap.end + max_gap));
    } else if (last_t == kMinTimeMs && before) {
      ASSIGN_OR_RETURN(more_later, ledger.HasSampleAtOrAfter(g.uuid, cap.start));
    }
    if (minutes != nullptr) minutes->emplace_back(g.uuid, roller.Finish());
    std::vector<UsageRow> gr = meter.Finish(more_later);
    rows.insert(rows.end(), std::make_move_iterator(gr.begin()), std::make_move_iterator(gr.end()));
  }
  // Accounting records that name only a GPU count and model: allocated time is
  // count x runtime, with no samples behind it.
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
  for (const Job& j : jobs) {
    if (j.gpu_share_ppm == 0 || j.start_ms == 0 || held_jobs.count(j.id)) continue;
    const Window run = Window{j.start_ms, j.end_ms ? j.end_ms : kMaxTimeMs}.Intersect(w);
    if (run.length() == 0) continue;
    if (j.gpu_model.empty()) {
      return InvalidArgument("job " + j.id + " has no GPU allocations and no GPU model to price its " +
                             FormatFixed(j.gpu_share_ppm / 1e6, 2) + " GPUs by");
    }
    std::vector<TimeMs> points = ctx.prices.ChangesWithin(j.gpu_model, run);
    for (TimeMs c : cuts) {
      if (c > run.start && c < run.end) points.push_back(c);
    }
    points.push_back(run.start);
    points.push_back(run.end);
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    for (size_t i = 0; i + 1 < points.size(); ++i) {
      UsageRow r;
      r.job_id = j.id;
      r.gpu_model = j.gpu_model;
      r.period_start = points[i];
      r.period_end = points[i + 1];
      r.gpu_ns = (points[i + 1] - points[i]) * j.gpu_share_ppm;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

StatusOr<MonthBooks> MonthUsage(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of) {
  MonthBooks b;
  b.month = month;
  b.as_of = as_of;
  ASSIGN_OR_RETURN(b.window, ctx.tz.MonthWindow(month));
  if (as_of <= b.window.start) {
    return FailedPrecondition("month " + month.ToString() + " (" + ctx.tz.name() + ") has not begun: it starts " +
                              FormatTime(b.window.start) + " and the books are as of " + FormatTime(as_of));
  }
  if (as_of < b.window.end) {
    // In progress: metered to as_of on every read, never stored as the month's books.
    b.partial = true;
    b.window.end = as_of;
    b.frozen = b.window.start < ctx.settings.raw_retained_from_ms;
    if (b.frozen) {
      return FailedPrecondition("month " + month.ToString() + " is in progress but its raw samples before " +
                                FormatTime(ctx.settings.raw_retained_from_ms) + " were dropped by retention");
    }
    GpuMinutes minutes;
    ASSIGN_OR_RETURN(b.rows, MeterWindow(ledger, ctx, b.window, {}, &minutes));
    for (const auto& [uuid, rows] : minutes) RETURN_IF_ERROR(ledger.ReplaceMinutes(uuid, b.window, rows));
    return b;
  }
  const std::string key = month.ToString() + "@" + ctx.tz.name();
  ASSIGN_OR_RETURN(int64_t latest, ledger.LatestChangeOverlapping(b.window));
  ASSIGN_OR_RETURN(std::optional<int64_t> built, ledger.BooksBuiltAt(key));
  b.frozen = b.window.start < ctx.settings.raw_retained_from_ms;
  if (built && (*built >= latest || b.frozen)) {
    ASSIGN_OR_RETURN(b.rows, ledger.GetUsage(key));
    return b;
  }
  if (b.frozen) {
    return FailedPrecondition("the books of " + month.ToString() + " (" + ctx.tz.name() +
                              ") were never built and its raw samples before " +
                              FormatTime(ctx.settings.raw_retained_from_ms) +
                              " were dropped by retention: it cannot be metered");
  }
  GpuMinutes minutes;
  ASSIGN_OR_RETURN(b.rows, MeterWindow(ledger, ctx, b.window, {}, &minutes));
  for (const auto& [uuid, rows] : minutes) RETURN_IF_ERROR(ledger.ReplaceMinutes(uuid, b.window, rows));
  RETURN_IF_ERROR(ledger.ReplaceUsage(key, latest, b.rows));  // last: marks the month built
  return b;
}

}  // namespace gpuledger
