#include "books/books.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "books/slices.h"
#include "common/strings.h"
#include "meter/compose.h"

namespace gpuledger {

StatusOr<BooksContext> LoadBooksContext(Ledger& ledger) {
  ASSIGN_OR_RETURN(LedgerSettings settings, ledger.GetSettings());
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(settings.timezone));
  ASSIGN_OR_RETURN(Currency currency, LookupCurrency(settings.currency));
  ASSIGN_OR_RETURN(std::vector<Price> prices, ledger.ListPrices());
  ASSIGN_OR_RETURN(PriceBook book, PriceBook::Create(currency, std::move(prices)));
  return BooksContext{std::move(settings), std::move(tz), std::move(book)};
}

namespace {

// What metering window `w` needs: each GPU in service in it, with its holds, and its
// periods (the GPU's time in w cut at `cuts` and at its model's price changes).
struct Plan {
  struct PerGpu {
    GpuSlicing slicing;
    Window cap;                  // service within w
    std::vector<TimeMs> bounds;  // cap.start, the cuts inside, cap.end
  };
  std::vector<PerGpu> gpus;
  std::set<std::string> held_jobs;
};

StatusOr<Plan> MakePlan(Ledger& ledger, const BooksContext& ctx, Window w, const std::vector<TimeMs>& cuts) {
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  ASSIGN_OR_RETURN(std::vector<Allocation> allocs, ledger.AllocationsOverlapping(w));
  std::map<std::string, std::vector<const Allocation*>> by_gpu;
  Plan plan;
  for (const Allocation& a : allocs) {
    by_gpu[a.gpu_uuid].push_back(&a);
    plan.held_jobs.insert(a.job_id);
  }
  for (const Gpu& g : gpus) {
    Plan::PerGpu p;
    p.cap = g.service().Intersect(w);
    if (p.cap.length() == 0) continue;
    GpuSlicing& s = p.slicing;
    s.gpu_uuid = g.uuid;
    s.gpu_model = g.model;
    s.service = g.service();
    s.cuts = ctx.prices.ChangesWithin(g.model, p.cap);
    for (TimeMs c : cuts) {
      if (c > p.cap.start && c < p.cap.end) s.cuts.push_back(c);
    }
    std::sort(s.cuts.begin(), s.cuts.end());
    s.cuts.erase(std::unique(s.cuts.begin(), s.cuts.end()), s.cuts.end());
    s.options.interval_ms = g.sample_interval_ms ? g.sample_interval_ms : ctx.settings.default_interval_ms;
    s.options.max_gap_ms = g.max_gap_ms ? g.max_gap_ms : ctx.settings.default_max_gap_ms;
    std::map<std::string, int> slots;
    for (const Allocation* a : by_gpu[g.uuid]) {
      auto [it, fresh] = slots.emplace(a->job_id, static_cast<int>(s.job_ids.size()));
      if (fresh) s.job_ids.push_back(a->job_id);
      s.holds.push_back({it->second, a->start_ms, a->window().end, a->share_ppm});
    }
    p.bounds.push_back(p.cap.start);
    p.bounds.insert(p.bounds.end(), s.cuts.begin(), s.cuts.end());
    p.bounds.push_back(p.cap.end);
    plan.gpus.push_back(std::move(p));
  }
  return plan;
}

// A slice's rows carry the slice's own periods (its hour, cut where a period ends);
// relabelled, each carries the period of the window it lies in, so slices of one period
// compose into one row.
void Relabel(UsageRow& r, const std::vector<TimeMs>& bounds) {
  // A slice lies within the window's periods; one starting before them (never metered
  // so by this window) takes the first.
  auto it = std::upper_bound(bounds.begin() + 1, bounds.end() - 1, r.period_start);
  r.period_start = *(it - 1);
  r.period_end = *it;
}
void Relabel(std::vector<UsageRow>& rows, const std::vector<TimeMs>& bounds) {
  for (UsageRow& r : rows) Relabel(r, bounds);
}

// Accounting records that name only a GPU count and model: allocated time is count x
// runtime within w, with no samples behind it.
StatusOr<std::vector<UsageRow>> CountOnlyRows(Ledger& ledger, const BooksContext& ctx, Window w,
                                              const std::vector<TimeMs>& cuts,
                                              const std::set<std::string>& held) {
  std::vector<UsageRow> rows;
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
  for (const Job& j : jobs) {
    if (j.gpu_share_ppm == 0 || j.start_ms == 0 || held.count(j.id)) continue;
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

// Hour slices in time order -> the spans ComposeSpans takes (one per hour).
std::vector<std::vector<UsageRow>> ByHour(std::vector<HourSlice>& slices, const std::vector<TimeMs>& bounds) {
  std::vector<std::vector<UsageRow>> spans;
  for (HourSlice& s : slices) {
    Relabel(s.rows, bounds);
    spans.push_back(std::move(s.rows));
  }
  return spans;
}

}  // namespace

StatusOr<std::vector<UsageRow>> MeterWindow(Ledger& ledger, const BooksContext& ctx, Window w,
                                            const std::vector<TimeMs>& cuts, GpuMinutes* minutes) {
  ASSIGN_OR_RETURN(Plan plan, MakePlan(ledger, ctx, w, cuts));
  std::vector<UsageRow> rows;
  for (const Plan::PerGpu& p : plan.gpus) {
    ASSIGN_OR_RETURN(std::vector<HourSlice> slices,
                     MeterHours(ledger, p.slicing, HoursOf(p.cap), w, minutes != nullptr));
    if (minutes != nullptr) {
      std::vector<MinuteRollup> all;
      for (const HourSlice& s : slices) all.insert(all.end(), s.minutes.begin(), s.minutes.end());
      minutes->emplace_back(p.slicing.gpu_uuid, std::move(all));
    }
    std::vector<UsageRow> gr = ComposeSpans(ByHour(slices, p.bounds));
    rows.insert(rows.end(), std::make_move_iterator(gr.begin()), std::make_move_iterator(gr.end()));
  }
  ASSIGN_OR_RETURN(std::vector<UsageRow> count_only, CountOnlyRows(ledger, ctx, w, cuts, plan.held_jobs));
  rows.insert(rows.end(), count_only.begin(), count_only.end());
  return rows;
}

namespace {

// The books of one month, kept fresh slice by slice (docs/METERING.md, "Slices"):
//   slices/<month>@<tz>/<utc day>/<gpu>  one GPU's whole hours of one day, as metered
//   days/<month>@<tz>/<utc day>          that day's hours composed, every GPU (whole days)
//   <month>@<tz>                         the days composed, with count-only jobs (ended months)
// Each remembers the newest change it saw; a read re-meters only the hours that changes
// since then touched (and the hour holding as-of), recomposes their days, and composes
// the month from its days.
class MonthBuilder {
 public:
  // `view`: the part of w composed and returned (w itself for the month's books); the
  // slices kept are always the month's own, whatever the view.
  MonthBuilder(Ledger& ledger, const BooksContext& ctx, YearMonth month, Window month_window, Window w,
               Window view, int64_t latest, OpenHours* open)
      : ledger_(ledger),
        ctx_(ctx),
        prefix_(month.ToString() + "@" + ctx.tz.name()),
        month_end_(month_window.end),
        w_(w),
        view_(view.Intersect(w)),
        latest_(latest),
        open_(open) {}

  StatusOr<std::vector<UsageRow>> Build() {
    ASSIGN_OR_RETURN(plan_, MakePlan(ledger_, ctx_, w_, {}));
    std::vector<UsageRow> rows;
    if (const TimeMs split = HourOf(w_.end); open_ != nullptr && view_ == w_ && split > w_.start) {
      ASSIGN_OR_RETURN(rows, ClosedAndOpen(split));
    } else {
      std::vector<std::vector<UsageRow>> days;
      for (TimeMs day = FloorTo(view_.start, kDayMs); day < view_.end; day += kDayMs) {
        const Window dw = Window{day, day + kDayMs}.Intersect(w_);
        std::vector<UsageRow> part;
        if (dw.Intersect(view_) == dw) {
          ASSIGN_OR_RETURN(part, Day(day));
        } else {
          ASSIGN_OR_RETURN(part, PartOfDay(day));
        }
        days.push_back(std::move(part));
      }
      rows = ComposeSpans(days);
    }
    // A stored day's period ends may be those of an earlier as-of: label them afresh,
    // within the view.
    std::map<std::string, std::vector<TimeMs>> bounds;
    for (const Plan::PerGpu& p : plan_.gpus) {
      if (p.cap.Intersect(view_).length() > 0) bounds[p.slicing.gpu_uuid] = ViewBounds(p);
    }
    for (UsageRow& r : rows) {
      auto it = bounds.find(r.gpu_uuid);
      if (it != bounds.end()) Relabel(r, it->second);
    }
    ASSIGN_OR_RETURN(std::vector<UsageRow> count_only,
                     CountOnlyRows(ledger_, ctx_, view_, {}, plan_.held_jobs));
    rows.insert(rows.end(), count_only.begin(), count_only.end());
    return rows;
  }

 private:
  // An hour (or day) is whole once its part of the month, within `service`, is over by
  // the window's end (as-of): only whole ones are stored.
  bool Whole(TimeMs start, DurationMs len, Window service) const {
    return std::min({start + len, month_end_, service.end}) <= w_.end;
  }

  // The change spans after `built` that touch `w`, memoised (most books of a month were
  // built at the same change).
  StatusOr<const std::vector<Window>*> ChangesAfter(int64_t built, Window w) {
    auto key = std::make_tuple(built, w.start, w.end);
    auto it = changes_.find(key);
    if (it == changes_.end()) {
      ASSIGN_OR_RETURN(std::vector<Window> spans, ledger_.SliceChangesSince(built, w));
      it = changes_.emplace(key, std::move(spans)).first;
    }
    return &it->second;
  }

  StatusOr<std::vector<UsageRow>> Day(TimeMs day) {
    const Window dw = Window{day, day + kDayMs}.Intersect(w_);
    const bool whole = Whole(day, kDayMs, {kMinTimeMs, kMaxTimeMs});
    const std::string key = "days/" + prefix_ + "/" + std::to_string(day);
    if (whole) {
      ASSIGN_OR_RETURN(std::optional<int64_t> built, ledger_.BooksBuiltAt(key));
      if (built) {
        ASSIGN_OR_RETURN(const std::vector<Window>* changed, ChangesAfter(*built, dw));
        if (changed->empty()) return ledger_.GetUsage(key);
      }
    }
    std::vector<std::vector<UsageRow>> hours(24);  // one span per hour, every GPU
    for (const Plan::PerGpu& p : plan_.gpus) {
      const Window gw = p.cap.Intersect(dw);
      if (gw.length() == 0) continue;
      ASSIGN_OR_RETURN(std::vector<HourSlice> slices, GpuDay(p, day, gw));
      for (HourSlice& s : slices) {
        Relabel(s.rows, p.bounds);
        auto& span = hours[static_cast<size_t>((s.hour - day) / kHourMs)];
        span.insert(span.end(), std::make_move_iterator(s.rows.begin()),
                    std::make_move_iterator(s.rows.end()));
      }
    }
    std::vector<UsageRow> rows = ComposeSpans(hours);
    if (whole) RETURN_IF_ERROR(ledger_.ReplaceUsage(key, latest_, rows));
    return rows;
  }

  // The month in progress as the server reads it every few seconds: the part before the
  // hour holding as-of (`split`), composed from its days and that day's earlier hours, is
  // kept with the open hours (OpenHours::Closed) while no change touches it, and each
  // read composes only the open hour onto it. Composing is associative, so this is what
  // composing the days gives; a read no longer costs the month's days and GPU-days.
  StatusOr<std::vector<UsageRow>> ClosedAndOpen(TimeMs split) {
    OpenHours::Closed& closed = open_->closed();
    const TimeMs split_day = FloorTo(split, kDayMs);
    bool kept = closed.built_change >= 0 && closed.hour == split;
    if (kept) {
      ASSIGN_OR_RETURN(const std::vector<Window>* changed,
                       ChangesAfter(closed.built_change, {w_.start, split}));
      kept = changed->empty();
    }
    std::vector<UsageRow> open_rows;
    auto add_open = [&](HourSlice& s, const Plan::PerGpu& p) {
      Relabel(s.rows, p.bounds);
      open_rows.insert(open_rows.end(), std::make_move_iterator(s.rows.begin()),
                       std::make_move_iterator(s.rows.end()));
    };
    if (kept) {
      open_->CountClosedReuse();
      for (const Plan::PerGpu& p : plan_.gpus) {
        const Window gw = p.cap.Intersect({split, split + kHourMs});
        if (gw.length() == 0) continue;
        if (!Whole(split, kHourMs, p.slicing.service)) {  // GpuDay's way with the open hour
          ASSIGN_OR_RETURN(HourSlice s, open_->Meter(ledger_, p.slicing, split, w_));
          add_open(s, p);
          continue;
        }
        // Left service in it: the hour is whole and stored with the GPU's day (the whole
        // day asked, so its stored hours are kept), only the open hour taken.
        ASSIGN_OR_RETURN(std::vector<HourSlice> slices,
                         GpuDay(p, split_day, p.cap.Intersect({split_day, split_day + kDayMs})));
        for (HourSlice& s : slices) {
          if (s.hour >= split) add_open(s, p);
        }
      }
    } else {
      std::vector<std::vector<UsageRow>> spans;
      for (TimeMs day = FloorTo(w_.start, kDayMs); day < split_day; day += kDayMs) {
        ASSIGN_OR_RETURN(std::vector<UsageRow> rows, Day(day));
        spans.push_back(std::move(rows));
      }
      std::vector<std::vector<UsageRow>> hours(24);  // the split's day before it, every GPU
      for (const Plan::PerGpu& p : plan_.gpus) {
        const Window gw = p.cap.Intersect({split_day, split_day + kDayMs});
        if (gw.length() == 0) continue;
        ASSIGN_OR_RETURN(std::vector<HourSlice> slices, GpuDay(p, split_day, gw));
        for (HourSlice& s : slices) {
          if (s.hour >= split) {
            add_open(s, p);
            continue;
          }
          Relabel(s.rows, p.bounds);
          auto& span = hours[static_cast<size_t>((s.hour - split_day) / kHourMs)];
          span.insert(span.end(), std::make_move_iterator(s.rows.begin()),
                      std::make_move_iterator(s.rows.end()));
        }
      }
      spans.push_back(ComposeSpans(hours));
      closed.rows = ComposeSpans(spans);
      closed.hour = split;
      closed.built_change = latest_;
    }
    return ComposeSpans({closed.rows, std::move(open_rows)});
  }

  // The GPU's periods within the view: the month's, cut at the view's edges.
  std::vector<TimeMs> ViewBounds(const Plan::PerGpu& p) const {
    const Window c = p.cap.Intersect(view_);
    std::vector<TimeMs> b{c.start};
    for (TimeMs t : p.bounds) {
      if (t > c.start && t < c.end) b.push_back(t);
    }
    b.push_back(c.end);
    return b;
  }

  // A day the view covers only part of: each GPU's hours kept fresh as for the whole day
  // (and stored when whole), then those inside the view taken as they are, and those
  // the view's edge cuts metered again within it (not stored: they are not the month's).
  StatusOr<std::vector<UsageRow>> PartOfDay(TimeMs day) {
    const Window dw = Window{day, day + kDayMs}.Intersect(w_);
    std::vector<std::vector<UsageRow>> hours(24);
    for (const Plan::PerGpu& p : plan_.gpus) {
      const Window gw = p.cap.Intersect(dw);
      if (gw.Intersect(view_).length() == 0) continue;
      ASSIGN_OR_RETURN(std::vector<HourSlice> slices, GpuDay(p, day, gw));
      std::vector<TimeMs> cut;
      for (HourSlice& s : slices) {
        const Window hw = Window{s.hour, s.hour + kHourMs}.Intersect(gw);
        if (hw.Intersect(view_).length() == 0) continue;
        if (hw.Intersect(view_) == hw) {
          Relabel(s.rows, p.bounds);
          auto& span = hours[static_cast<size_t>((s.hour - day) / kHourMs)];
          span.insert(span.end(), std::make_move_iterator(s.rows.begin()),
                      std::make_move_iterator(s.rows.end()));
        } else {
          cut.push_back(s.hour);
        }
      }
      if (cut.empty()) continue;
      ASSIGN_OR_RETURN(std::vector<HourSlice> fresh,
                       MeterHours(ledger_, p.slicing, cut, view_, /*want_minutes=*/false));
      for (HourSlice& s : fresh) {
        Relabel(s.rows, p.bounds);
        auto& span = hours[static_cast<size_t>((s.hour - day) / kHourMs)];
        span.insert(span.end(), std::make_move_iterator(s.rows.begin()),
                    std::make_move_iterator(s.rows.end()));
      }
    }
    return ComposeSpans(hours);
  }

  // One GPU's hour slices of one day within `gw`: the stored whole hours that no change
  // touched since they were stored; the others metered again (their minute rollups
  // rewritten), and stored when whole.
  StatusOr<std::vector<HourSlice>> GpuDay(const Plan::PerGpu& p, TimeMs day, Window gw) {
    const std::string key = "slices/" + prefix_ + "/" + std::to_string(day) + "/" + p.slicing.gpu_uuid;
    ASSIGN_OR_RETURN(std::optional<int64_t> built, ledger_.BooksBuiltAt(key));
    std::map<TimeMs, HourSlice> kept;  // by hour
    if (built) {
      ASSIGN_OR_RETURN(std::vector<UsageRow> stored, ledger_.GetUsage(key));
      for (UsageRow& r : stored) {
        HourSlice& s = kept[HourOf(r.period_start)];
        s.hour = HourOf(r.period_start);
        s.rows.push_back(std::move(r));
      }
      ASSIGN_OR_RETURN(const std::vector<Window>* changed, ChangesAfter(*built, gw));
      for (const Window& c : *changed) {
        for (TimeMs h : HoursOf(c.Intersect(gw))) kept.erase(h);
      }
      // Stored under a later as-of: what this window holds of such an hour is metered.
      std::erase_if(kept, [&](const auto& e) {
        return e.first < HourOf(gw.start) || e.first >= gw.end || !Whole(e.first, kHourMs, p.slicing.service);
      });
    }
    std::vector<TimeMs> due;
    for (TimeMs h : HoursOf(gw)) {
      if (kept.count(h)) continue;
      if (open_ != nullptr && !Whole(h, kHourMs, p.slicing.service)) {  // the hour holding as-of
        ASSIGN_OR_RETURN(HourSlice open, open_->Meter(ledger_, p.slicing, h, w_));
        kept[h] = std::move(open);
        continue;
      }
      due.push_back(h);
    }
    if (!due.empty()) {
      ASSIGN_OR_RETURN(std::vector<HourSlice> fresh,
                       MeterHours(ledger_, p.slicing, due, w_, /*want_minutes=*/true));
      bool store = false;
      // Minute rollups of the whole hours metered, one write per run of consecutive hours
      // (a write covers the minutes its spans touch: a GPU entering service mid-minute
      // still has that minute's rollup, and hours are whole minutes, so no other hour's).
      // The open hour's are not written: an as-of in the past would cut them short.
      Window run{0, 0};
      std::vector<MinuteRollup> run_minutes;
      auto flush = [&]() -> Status {
        if (run.length() > 0) RETURN_IF_ERROR(ledger_.ReplaceMinutes(p.slicing.gpu_uuid, run, run_minutes));
        run = {0, 0};
        run_minutes.clear();
        return OkStatus();
      };
      for (HourSlice& s : fresh) {
        const bool whole = Whole(s.hour, kHourMs, p.slicing.service);
        if (whole) {
          const Window minutes{FloorTo(s.span.start, kMinuteMs),
                               FloorTo(s.span.end + kMinuteMs - 1, kMinuteMs)};
          if (run.length() > 0 && run.end != minutes.start) RETURN_IF_ERROR(flush());
          if (run.length() == 0) run.start = minutes.start;
          run.end = minutes.end;
          run_minutes.insert(run_minutes.end(), s.minutes.begin(), s.minutes.end());
        } else {
          RETURN_IF_ERROR(flush());
        }
        store |= whole;
        kept[s.hour] = std::move(s);
      }
      RETURN_IF_ERROR(flush());
      if (store) {
        std::vector<UsageRow> rows;
        for (const auto& [h, s] : kept) {
          if (Whole(h, kHourMs, p.slicing.service)) rows.insert(rows.end(), s.rows.begin(), s.rows.end());
        }
        RETURN_IF_ERROR(ledger_.ReplaceUsage(key, latest_, rows));
      }
    }
    std::vector<HourSlice> out;
    out.reserve(kept.size());
    for (auto& [h, s] : kept) out.push_back(std::move(s));
    return out;
  }

  Ledger& ledger_;
  const BooksContext& ctx_;
  const std::string prefix_;
  const TimeMs month_end_;
  const Window w_;
  const Window view_;  // within w_
  const int64_t latest_;
  OpenHours* const open_;  // the open hour kept between reads; null: metered afresh
  Plan plan_;
  std::map<std::tuple<int64_t, TimeMs, TimeMs>, std::vector<Window>> changes_;
};

}  // namespace

namespace {

// The month's books as of `as_of`, checked: its window up to as-of, partial or not,
// frozen or not. A month that has not begun is FailedPrecondition.
StatusOr<MonthBooks> MonthHead(const BooksContext& ctx, YearMonth month, TimeMs as_of) {
  MonthBooks b;
  b.month = month;
  b.as_of = as_of;
  ASSIGN_OR_RETURN(b.window, ctx.tz.MonthWindow(month));
  if (as_of <= b.window.start) {
    return FailedPrecondition("month " + month.ToString() + " (" + ctx.tz.name() +
                              ") has not begun: it starts " + FormatTime(b.window.start) +
                              " and the books are as of " + FormatTime(as_of));
  }
  b.partial = as_of < b.window.end;
  if (b.partial) b.window.end = as_of;
  b.frozen = b.window.start < ctx.settings.raw_retained_from_ms;
  return b;
}

std::string MonthKey(const BooksContext& ctx, YearMonth month) {
  return month.ToString() + "@" + ctx.tz.name();
}
std::string CacheKey(const BooksContext& ctx, YearMonth month) {
  return MonthKey(ctx, month) + "/" + std::to_string(ctx.settings.raw_retained_from_ms);
}

// Composes `view` (within b.window) from the month's slices, kept fresh on the way; the
// whole month's rows are stored as the month's when it has ended. A month in progress
// meters its open hour through the cache's kept one when there is a cache.
StatusOr<std::vector<UsageRow>> ComposeMonth(Ledger& ledger, const BooksContext& ctx, const MonthBooks& b,
                                             Window view, int64_t latest) {
  ASSIGN_OR_RETURN(const Window month_window, ctx.tz.MonthWindow(b.month));
  const bool whole = view == b.window;
  std::vector<UsageRow> rows;
  auto build = [&](OpenHours* open) {
    return ledger.InTransaction([&]() -> Status {
      MonthBuilder builder(ledger, ctx, b.month, month_window, b.window, view, latest, open);
      ASSIGN_OR_RETURN(rows, builder.Build());
      if (whole && !b.partial) {
        RETURN_IF_ERROR(ledger.ReplaceUsage(MonthKey(ctx, b.month), latest, rows));  // marks the month built
      }
      return OkStatus();
    });
  };
  if (b.partial && ctx.cache != nullptr) {
    RETURN_IF_ERROR(ctx.cache->WithOpenHours(CacheKey(ctx, b.month), [&](OpenHours& open) -> Status {
      RETURN_IF_ERROR(open.BeginRead(ledger, HourOf(b.as_of), latest));
      Status built = build(&open);
      if (!built.ok()) {
        open.Reset();  // what a failed read fed is not to be trusted
        return built;
      }
      open.EndRead();
      return OkStatus();
    }));
  } else {
    RETURN_IF_ERROR(build(nullptr));
  }
  return rows;
}

}  // namespace

StatusOr<MonthBooks> MonthUsage(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of) {
  ASSIGN_OR_RETURN(MonthBooks b, MonthHead(ctx, month, as_of));
  const std::string key = MonthKey(ctx, month);
  ASSIGN_OR_RETURN(int64_t latest, ledger.LatestChangeOverlapping({kMinTimeMs, kMaxTimeMs}));
  const std::string cache_key = CacheKey(ctx, month);
  if (b.partial && ctx.cache != nullptr) {
    if (std::optional<MonthBooks> kept = ctx.cache->Find(cache_key, as_of, latest)) return std::move(*kept);
  }
  if (!b.partial) {
    ASSIGN_OR_RETURN(int64_t touched, ledger.LatestChangeOverlapping(b.window));
    ASSIGN_OR_RETURN(std::optional<int64_t> built, ledger.BooksBuiltAt(key));
    if (built && (*built >= touched || b.frozen)) {
      ASSIGN_OR_RETURN(b.rows, ledger.GetUsage(key));
      return b;
    }
  }
  if (b.frozen) {
    return FailedPrecondition("the books of " + month.ToString() + " (" + ctx.tz.name() +
                              (b.partial ? ") are in progress" : ") were never built") +
                              " and its raw samples before " + FormatTime(ctx.settings.raw_retained_from_ms) +
                              " were dropped by retention: it cannot be metered");
  }
  ASSIGN_OR_RETURN(b.rows, ComposeMonth(ledger, ctx, b, b.window, latest));
  if (b.partial && ctx.cache != nullptr) ctx.cache->Put(cache_key, latest, b);
  return b;
}

StatusOr<WindowBooks> WindowUsage(Ledger& ledger, const BooksContext& ctx, Window w, TimeMs as_of) {
  if (w.length() == 0)
    return InvalidArgument("an empty window: " + FormatTime(w.start) + " to " + FormatTime(w.end));
  if (as_of <= w.start) {
    return FailedPrecondition("the period from " + FormatTime(w.start) +
                              " has not begun: the books are as of " + FormatTime(as_of));
  }
  WindowBooks out;
  out.as_of = as_of;
  out.window = w;
  out.partial = as_of < w.end;
  if (out.partial) out.window.end = as_of;
  ASSIGN_OR_RETURN(YearMonth first, ctx.tz.MonthOf(out.window.start));
  ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(out.window.end - 1));
  std::vector<std::vector<UsageRow>> months;
  for (YearMonth m = first; m <= last; m = m.Next()) {
    ASSIGN_OR_RETURN(MonthBooks head, MonthHead(ctx, m, as_of));
    const Window part = head.window.Intersect(out.window);
    if (part.length() == 0) continue;
    if (part == head.window) {  // the whole month (to as-of): its books as MonthUsage keeps them
      ASSIGN_OR_RETURN(MonthBooks mb, MonthUsage(ledger, ctx, m, as_of));
      months.push_back(std::move(mb.rows));
    } else {
      if (head.frozen) {
        return FailedPrecondition("the period from " + FormatTime(part.start) + " to " +
                                  FormatTime(part.end) + " is part of " + m.ToString() + " (" +
                                  ctx.tz.name() + "), whose raw samples before " +
                                  FormatTime(ctx.settings.raw_retained_from_ms) +
                                  " were dropped by retention: only that whole month can be read");
      }
      ASSIGN_OR_RETURN(int64_t latest, ledger.LatestChangeOverlapping({kMinTimeMs, kMaxTimeMs}));
      ASSIGN_OR_RETURN(std::vector<UsageRow> rows, ComposeMonth(ledger, ctx, head, part, latest));
      months.push_back(std::move(rows));
    }
  }
  if (months.size() == 1) {
    out.rows = std::move(months.front());
    return out;
  }
  // Months composed into one span: each GPU's rows take the window's periods (its service
  // within the window, cut at its model's price changes), so a month edge is no period edge.
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  std::map<std::string, std::vector<TimeMs>> bounds;
  for (const Gpu& g : gpus) {
    const Window cap = g.service().Intersect(out.window);
    if (cap.length() == 0) continue;
    std::vector<TimeMs>& b = bounds[g.uuid];
    b.push_back(cap.start);
    for (TimeMs c : ctx.prices.ChangesWithin(g.model, cap)) b.push_back(c);
    b.push_back(cap.end);
  }
  for (auto& rows : months) {
    for (UsageRow& r : rows) {
      auto it = bounds.find(r.gpu_uuid);
      if (it != bounds.end()) Relabel(r, it->second);
    }
  }
  out.rows = ComposeSpans(months);
  return out;
}

std::optional<MonthBooks> BooksCache::Find(const std::string& key, TimeMs as_of,
                                           int64_t latest_change) const {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.latest_change != latest_change || it->second.books.as_of != as_of) {
    return std::nullopt;
  }
  ++hits_;
  return it->second.books;
}

void BooksCache::Put(const std::string& key, int64_t latest_change, const MonthBooks& books) {
  MutexLock lock(mu_);
  if (entries_.size() >= max_entries_ && !entries_.count(key)) entries_.erase(entries_.begin());
  entries_[key] = Entry{latest_change, books};
}

std::optional<BooksCache::KeptFlags> BooksCache::NewestEnergyFlags() const {
  MutexLock lock(mu_);
  const Entry* newest = nullptr;
  for (const auto& [key, e] : entries_) {
    if (!newest || e.books.as_of > newest->books.as_of) newest = &e;
  }
  if (!newest) return std::nullopt;
  KeptFlags k{newest->books.month, newest->books.as_of, 0};
  for (const UsageRow& r : newest->books.rows) k.energy_flags += r.energy_flags;
  return k;
}

size_t BooksCache::hits() const {
  MutexLock lock(mu_);
  return hits_;
}

Status BooksCache::WithOpenHours(const std::string& key, const std::function<Status(OpenHours&)>& work) {
  MutexLock lock(open_mu_);
  if (!open_.count(key) && open_.size() >= 4) {               // months in progress: one or two
    retired_samples_ += open_.begin()->second.samples_fed();  // the counters never go down
    retired_restarts_ += open_.begin()->second.rebuilt();
    retired_reuses_ += open_.begin()->second.closed_reuses();
    open_.erase(open_.begin());
  }
  return work(open_[key]);
}

int64_t BooksCache::open_hour_samples() const {
  MutexLock lock(open_mu_);
  int64_t n = retired_samples_;
  for (const auto& [key, o] : open_) n += o.samples_fed();
  return n;
}

int64_t BooksCache::open_hour_restarts() const {
  MutexLock lock(open_mu_);
  int64_t n = retired_restarts_;
  for (const auto& [key, o] : open_) n += o.rebuilt();
  return n;
}

int64_t BooksCache::closed_part_reuses() const {
  MutexLock lock(open_mu_);
  int64_t n = retired_reuses_;
  for (const auto& [key, o] : open_) n += o.closed_reuses();
  return n;
}

}  // namespace gpuledger
