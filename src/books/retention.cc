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
    RETURN_IF_ERROR(MonthUsage(ledger, ctx, m).status());
    ++r.months_built;
  }
  ASSIGN_OR_RETURN(r.samples_dropped, ledger.DropSamplesBefore(r.cutoff));
  return r;
}

}  // namespace gpuledger
