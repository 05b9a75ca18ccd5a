#include "cost/cost_engine.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace gpuledger {

std::vector<int64_t> RoundLargestRemainder(const std::vector<Int128>& exact, int64_t unit_micros,
                                           int64_t* total_micros) {
  const Int128 unit = static_cast<Int128>(unit_micros) * kExactPerMicro;
  Int128 sum = 0;
  for (Int128 e : exact) sum += e;
  const int64_t total_units = static_cast<int64_t>((sum + unit / 2) / unit);
  std::vector<int64_t> units(exact.size());
  std::vector<Int128> rem(exact.size());
  int64_t given = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    units[i] = static_cast<int64_t>(exact[i] / unit);
    rem[i] = exact[i] % unit;
    given += units[i];
  }
  std::vector<size_t> order(exact.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rem[a] > rem[b]; });
  // total_units - given lies in [0, n]: each floor loses less than one unit.
  for (int64_t k = 0; k < total_units - given; ++k) ++units[order[static_cast<size_t>(k)]];
  std::vector<int64_t> out(exact.size());
  for (size_t i = 0; i < exact.size(); ++i) out[i] = units[i] * unit_micros;
  if (total_micros != nullptr) *total_micros = total_units * unit_micros;
  return out;
}

std::vector<int64_t> Apportion(int64_t amount_micros, const std::vector<int64_t>& weights,
                               int64_t unit_micros) {
  Int128 wsum = 0;
  for (int64_t w : weights) wsum += w;
  if (wsum == 0 || amount_micros == 0) return std::vector<int64_t>(weights.size(), 0);
  // Largest remainder on amount_units * w_i / wsum, in whole minor units.
  const Int128 amount_units = amount_micros / unit_micros;
  std::vector<int64_t> units(weights.size());
  std::vector<Int128> rem(weights.size());
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const Int128 num = amount_units * weights[i];
    units[i] = static_cast<int64_t>(num / wsum);
    rem[i] = num % wsum;
    given += units[i];
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rem[a] > rem[b]; });
  for (int64_t k = 0; k < static_cast<int64_t>(amount_units) - given; ++k) ++units[order[static_cast<size_t>(k)]];
  std::vector<int64_t> out(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) out[i] = units[i] * unit_micros;
  return out;
}

StatusOr<CostBook> PriceUsage(const std::vector<UsageRow>& rows, const PriceBook& prices,
                              bool share_idle) {
  CostBook book;
  book.currency = prices.currency();
  book.share_idle = share_idle;
  std::map<std::pair<std::string, std::string>, CostItem> items;
  for (const UsageRow& r : rows) {
    ASSIGN_OR_RETURN(Price p, prices.At(r.gpu_model, r.period_start));
    CostItem& it = items[{r.job_id, r.gpu_model}];
    it.job_id = r.job_id;
    it.gpu_model = r.gpu_model;
    it.gpu_ns += r.gpu_ns;
    it.energy_mj += r.energy_mj;
    it.gpu_exact += static_cast<Int128>(r.gpu_ns) * p.micros_per_gpu_hour;
    it.energy_exact += static_cast<Int128>(r.energy_mj) * p.micros_per_kwh * (kExactPerMicro / kMjPerKwh);
  }
  std::vector<Int128> exact;
  for (auto& [key, it] : items) {
    exact.push_back(it.gpu_exact + it.energy_exact);
    book.total_exact += exact.back();
    book.items.push_back(std::move(it));
  }
  const int64_t unit = book.currency.micros_per_minor();
  std::vector<int64_t> rounded = RoundLargestRemainder(exact, unit, &book.total_micros);
  std::vector<int64_t> weights;
  for (size_t i = 0; i < book.items.size(); ++i) {
    book.items[i].cost_micros = rounded[i];
    if (book.items[i].job_id.empty()) book.unallocated_micros += rounded[i];
    weights.push_back(book.items[i].job_id.empty() ? 0 : rounded[i]);
  }
  if (share_idle) {
    std::vector<int64_t> shares = Apportion(book.unallocated_micros, weights, unit);
    int64_t shared = 0;
    for (size_t i = 0; i < book.items.size(); ++i) {
      book.items[i].idle_share_micros = shares[i];
      shared += shares[i];
    }
    book.unallocated_micros -= shared;
  }
  return book;
}

}  // namespace gpuledger
