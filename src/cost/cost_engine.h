// The cost engine: usage rows x price book -> exactly rounded cost items. Pure;
// thread-safe. The rules are in docs/ALLOCATION.md: job costs plus idle cost equal
// capacity cost, to the minor unit, always.
#pragma once

#include <string>
#include <vector>

#include "common/int128.h"
#include "common/money.h"
#include "cost/price_book.h"
#include "domain/types.h"
#include "domain/usage_totals.h"

namespace gpuledger {

// Exact amounts are kept in 1/kExactPerMicro of a micro-unit: GPU-ns x price per GPU-hour
// and mJ x 1000 x price per kWh then need no division at all.
inline constexpr int64_t kExactPerMicro = kGpuNsPerGpuHour;  // 3.6e12

// One line of the books before grouping: a job (or unallocated capacity) on a GPU model.
struct CostItem {
  std::string job_id;  // "" = unallocated capacity
  std::string gpu_model;
  UsageTotals usage;  // the rows' sums: time, energy, density inputs, phases
  Int128 gpu_exact = 0;
  Int128 energy_exact = 0;
  int64_t cost_micros = 0;        // rounded, GPU time + energy
  int64_t idle_share_micros = 0;  // this job's share of unallocated cost (share-idle mode)
  // No price is in force for the model over these rows: the usage is kept (its own
  // "unpriced" line in reports) at no cost, and the book says why in `warnings`.
  bool unpriced = false;
};

// How share-idle spreads unallocated cost (docs/ALLOCATION.md, "Idle capacity").
enum class IdlePools {
  kPerGpuModel,   // a model's idle cost goes to the jobs that used that model
  kAcrossModels,  // all idle cost goes to all jobs, whatever they ran on
};

struct CostBook {
  Currency currency;
  std::vector<CostItem> items;  // sorted by (job_id, gpu_model, unpriced); unallocated ("") first
  Int128 total_exact = 0;       // capacity x price, exactly
  int64_t total_micros = 0;     // total_exact rounded to the minor unit, half up
  int64_t unallocated_micros = 0;
  bool share_idle = false;
  IdlePools idle_pools = IdlePools::kPerGpuModel;
  // One per GPU model the price book left unpriced, e.g. "12.50 GPU-hours of GPU model
  // 'H200' from 2026-10-01T00:00:00Z are not priced and not in the total: no price for
  // GPU model 'H200'; add one with `gpuledger import prices`". Empty when all is priced.
  std::vector<std::string> warnings;
};

// Prices the rows: each row lies within one price period (the meter cuts at changes).
// Row models are canonicalized (domain/gpu_model.h). A row whose model has no price in
// force is not an error: it becomes an `unpriced` item at no cost, with a warning.
// share_idle: spread the unallocated cost over jobs in proportion to their cost
// (OpenCost's shareIdle), within each GPU model's pool or across pools; the unallocated
// line then keeps only what no job (of its pool) can carry.
StatusOr<CostBook> PriceUsage(const std::vector<UsageRow>& rows, const PriceBook& prices, bool share_idle,
                              IdlePools pools = IdlePools::kPerGpuModel);

// Rounds exact amounts (>= 0, in units of 1/kExactPerMicro micro) to multiples of
// `unit_micros` so that they sum exactly to the rounded (half-up) total. Largest
// remainder; ties go to the earlier item. Returns micro-units.
std::vector<int64_t> RoundLargestRemainder(const std::vector<Int128>& exact, int64_t unit_micros,
                                           int64_t* total_micros);

// Splits `amount_micros` (a multiple of unit_micros) in proportion to `weights` (>= 0)
// into multiples of unit_micros, exactly. All-zero weights: nothing is split (returns zeros).
std::vector<int64_t> Apportion(int64_t amount_micros, const std::vector<int64_t>& weights,
                               int64_t unit_micros);

}  // namespace gpuledger
