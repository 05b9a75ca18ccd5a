#include "cost/cost_engine.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "common/strings.h"
#include "domain/gpu_model.h"

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
  for (int64_t k = 0; k < static_cast<int64_t>(amount_units) - given; ++k)
    ++units[order[static_cast<size_t>(k)]];
  std::vector<int64_t> out(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) out[i] = units[i] * unit_micros;
  return out;
}

StatusOr<CostBook> PriceUsage(const std::vector<UsageRow>& rows, const PriceBook& prices, bool share_idle,
                              IdlePools pools) {
  CostBook book;
  book.currency = prices.currency();
  book.share_idle = share_idle;
  book.idle_pools = pools;
  std::unordered_map<std::string, size_t> index;  // key: job id, NUL, GPU model, NUL, unpriced
  index.reserve(rows.size());
  std::unordered_map<std::string, std::string> canonical;  // row model -> canonical model
  struct Unpriced {
    std::string raw;  // the model as a row named it first
    int64_t gpu_ns = 0;
    TimeMs first_ms = kMaxTimeMs;
  };
  std::map<std::string, Unpriced> unpriced;  // canonical model -> what the book left unpriced
  std::vector<CostItem> items;
  std::string key;
  for (const UsageRow& r : rows) {
    auto [cpos, cfresh] = canonical.try_emplace(r.gpu_model);
    if (cfresh) cpos->second = CanonicalGpuModel(r.gpu_model);
    const std::string& model = cpos->second;
    const Price* found = prices.Find(model, r.period_start);
    key.assign(r.job_id).push_back('\0');
    key.append(model).push_back('\0');
    key.push_back(found == nullptr ? 'u' : 'p');
    auto [pos, fresh] = index.emplace(key, items.size());
    if (fresh) {
      items.emplace_back();
      items.back().job_id = r.job_id;
      items.back().gpu_model = model;
      items.back().unpriced = found == nullptr;
    }
    CostItem& it = items[pos->second];
    it.usage.Add(r);
    if (found == nullptr) {
      Unpriced& u = unpriced[model];
      if (u.raw.empty()) u.raw = r.gpu_model;
      u.gpu_ns += r.gpu_ns;
      u.first_ms = std::min(u.first_ms, r.period_start);
      continue;
    }
    const Price& p = *found;
    it.gpu_exact += static_cast<Int128>(r.gpu_ns) * p.micros_per_gpu_hour;
    it.energy_exact += static_cast<Int128>(r.energy_mj) * p.micros_per_kwh * (kExactPerMicro / kMjPerKwh);
  }
  for (const auto& [model, u] : unpriced) {
    const std::string named = u.raw == model ? "" : " (named '" + u.raw + "')";
    book.warnings.push_back(
        FormatFixed(static_cast<double>(u.gpu_ns) / kGpuNsPerGpuHour, 2) + " GPU-hours of GPU model '" +
        model + "'" + named + " from " + FormatTime(u.first_ms) +
        " are not priced and not in the total: " + prices.At(model, u.first_ms).status().message());
  }
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const CostItem &x = items[a], &y = items[b];
    if (x.job_id != y.job_id) return x.job_id < y.job_id;
    return x.gpu_model != y.gpu_model ? x.gpu_model < y.gpu_model : x.unpriced < y.unpriced;
  });
  book.items.reserve(items.size());
  for (size_t i : order) book.items.push_back(std::move(items[i]));
  std::vector<Int128> exact;
  for (const CostItem& it : book.items) {
    exact.push_back(it.gpu_exact + it.energy_exact);
    book.total_exact += exact.back();
  }
  const int64_t unit = book.currency.micros_per_minor();
  std::vector<int64_t> rounded = RoundLargestRemainder(exact, unit, &book.total_micros);
  std::vector<int64_t> weights;
  for (size_t i = 0; i < book.items.size(); ++i) {
    book.items[i].cost_micros = rounded[i];
    if (book.items[i].job_id.empty()) book.unallocated_micros += rounded[i];
    weights.push_back(book.items[i].job_id.empty() ? 0 : rounded[i]);
  }
  if (share_idle && pools == IdlePools::kAcrossModels) {
    std::vector<int64_t> shares = Apportion(book.unallocated_micros, weights, unit);
    int64_t shared = 0;
    for (size_t i = 0; i < book.items.size(); ++i) {
      book.items[i].idle_share_micros = shares[i];
      shared += shares[i];
    }
    book.unallocated_micros -= shared;
  } else if (share_idle) {
    // One pool per GPU model: its unallocated cost goes to the jobs that ran on it.
    std::map<std::string, int64_t> idle_of_model;
    for (const CostItem& it : book.items) {
      if (it.job_id.empty()) idle_of_model[it.gpu_model] += it.cost_micros;
    }
    std::vector<int64_t> pool_weights(book.items.size());
    for (const auto& [model, amount] : idle_of_model) {
      for (size_t i = 0; i < book.items.size(); ++i) {
        pool_weights[i] = book.items[i].gpu_model == model ? weights[i] : 0;
      }
      std::vector<int64_t> shares = Apportion(amount, pool_weights, unit);
      for (size_t i = 0; i < book.items.size(); ++i) {
        book.items[i].idle_share_micros += shares[i];
        book.unallocated_micros -= shares[i];
      }
    }
  }
  return book;
}

}  // namespace gpuledger
