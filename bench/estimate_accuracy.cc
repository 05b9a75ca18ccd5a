// Estimator accuracy on a ledger's own history, leave one out (docs/PERFORMANCE.md):
// each succeeded run is estimated from all the others, as if it were being submitted,
// and compared with its actual cost from the books. Prints the median absolute
// percentage error of cost and the share of runs inside the printed P10-P90 interval.
// With SPLIT (RFC 3339), the runs that started at or after it are estimated from those
// that ended before it instead: train on the months before, estimate the next ones.
// Usage: estimate_accuracy LEDGER [SPLIT]
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "books/books.h"
#include "domain/gpu_model.h"
#include "submit/submission.h"

using namespace gpuledger;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LEDGER [AS_OF]\n", argv[0]);
    return 2;
  }
  auto ledger = OpenLedger(argv[1]);
  if (!ledger.ok()) return std::fprintf(stderr, "%s\n", ledger.status().message().c_str()), 1;
  auto ctx = LoadBooksContext(**ledger);
  if (!ctx.ok()) return std::fprintf(stderr, "%s\n", ctx.status().message().c_str()), 1;
  TimeMs split = 0;
  if (argc > 2) split = *ParseTime(argv[2]);
  auto runs = LoadFinishedRuns(**ledger, *ctx, kMaxTimeMs - 1);
  if (!runs.ok()) return std::fprintf(stderr, "%s\n", runs.status().message().c_str()), 1;
  auto jobs = (*ledger)->ListJobs();
  std::map<std::string, Job> by_id;
  for (Job& j : *jobs) by_id[j.id] = j;
  std::vector<double> ape;
  int with_interval = 0, inside = 0, thin = 0;
  for (size_t i = 0; i < runs->size(); ++i) {
    const FinishedRun& held = (*runs)[i];
    if (held.cost_micros <= 0) continue;
    const Job& req = by_id[held.job_id];
    std::vector<FinishedRun> rest;
    if (split != 0) {
      if (req.start_ms < split) continue;
      for (const FinishedRun& r : *runs) {
        if (by_id[r.job_id].end_ms <= split) rest.push_back(r);
      }
    } else {
      rest = *runs;
      rest.erase(rest.begin() + static_cast<long>(i));
    }
    RateInfo rate{0, ctx->prices.currency()};
    if (const Price* p = ctx->prices.Find(CanonicalGpuModel(req.gpu_model), req.start_ms))
      rate.micros_per_gpu_hour = p->micros_per_gpu_hour;
    Estimate e = EstimateJob(req, rest, rate);
    if (e.basis != Estimate::Basis::kHistory) {
      ++thin;
      continue;
    }
    const double actual = static_cast<double>(held.cost_micros);
    ape.push_back(std::abs(e.cost_micros.mid - actual) / actual * 100);
    if (e.cost_micros.low) {
      ++with_interval;
      if (actual >= *e.cost_micros.low && actual <= *e.cost_micros.high) ++inside;
    }
  }
  std::sort(ape.begin(), ape.end());
  std::printf("%s: ", split ? "split" : "leave one out");
  std::printf("runs %zu, estimated from history %zu, thin history %d\n", runs->size(), ape.size(), thin);
  if (!ape.empty()) std::printf("cost MdAPE %.1f %%\n", ape[ape.size() / 2]);
  if (with_interval > 0)
    std::printf("P10-P90 coverage %.1f %% of %d runs with an interval (nominal 80 %%)\n",
                100.0 * inside / with_interval, with_interval);
  return 0;
}
