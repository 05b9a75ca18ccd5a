#include "books/retention.h"

#include <algorithm>

namespace gpuledger {

StatusOr<RetentionResult> ApplyRetention(Ledger& ledger, const BooksContext& ctx, TimeMs now,
                                         DurationMs keep) {
  if (keep <= 0)
    return InvalidArgument("retention must keep a positive span, got " + std::to_string(keep) + " ms");
  RetentionResult r;
  r.cutoff = now - keep;
  if (r.cutoff <= ctx.settings.raw_retained_from_ms) {
    r.cutoff = ctx.settings.raw_retained_from_ms;
    return r;  // an earlier run went as far
  }
  // Build the books of every month from the first with data (or the last retention's)
  // through the one holding the cutoff, while their samples are still there.
  TimeMs first = r.cutoff;
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  for (const Gpu& g : gpus) first = std::min(first, g.in_service_from);
  first = std::max(first, ctx.settings.raw_retained_from_ms);
  ASSIGN_OR_RETURN(YearMonth m, ctx.tz.MonthOf(first));
  ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(r.cutoff));
  for (; m <= last; m = m.Next()) {
    ASSIGN_OR_RETURN(MonthBooks b, MonthUsage(ledger, ctx, m, now));
    if (b.partial) {
      // The month holding the cutoff is still in progress: its books cannot be built
      // yet, so its samples stay until it ends (raw samples are kept a little longer).
      r.cutoff = std::max(b.window.start, ctx.settings.raw_retained_from_ms);
      break;
    }
    ++r.months_built;
  }
  if (r.cutoff <= ctx.settings.raw_retained_from_ms) return r;
  ASSIGN_OR_RETURN(r.samples_dropped, ledger.DropSamplesBefore(r.cutoff));
  return r;
}

}  // namespace gpuledger
