#include "cost/price_book.h"

#include <algorithm>

#include "domain/gpu_model.h"

namespace gpuledger {

StatusOr<PriceBook> PriceBook::Create(const Currency& currency, std::vector<Price> prices) {
  PriceBook book;
  book.currency_ = currency;
  for (Price& p : prices) {
    RETURN_IF_ERROR(p.Validate());
    p.gpu_model = CanonicalGpuModel(p.gpu_model);  // "NVIDIA A10G" and "A10G" are one model
    if (p.currency != currency.code) {
      return InvalidArgument("price for " + p.gpu_model + " from " + FormatTime(p.effective_from) +
                             " is in " + p.currency + " but the ledger keeps its books in " + currency.code);
    }
    book.by_model_[p.gpu_model].push_back(std::move(p));
  }
  for (auto& [model, list] : book.by_model_) {
    std::sort(list.begin(), list.end(),
              [](const Price& a, const Price& b) { return a.effective_from < b.effective_from; });
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i].effective_from == list[i - 1].effective_from) {
        return InvalidArgument("two prices for " + model + " take effect at " +
                               FormatTime(list[i].effective_from));
      }
    }
  }
  return book;
}

std::map<std::string, std::vector<Price>>::const_iterator PriceBook::Lookup(
    const std::string& gpu_model) const {
  // Prices are kept under canonical names, so a name found as given is canonical already.
  auto it = by_model_.find(gpu_model);
  return it != by_model_.end() ? it : by_model_.find(CanonicalGpuModel(gpu_model));
}

StatusOr<Price> PriceBook::At(const std::string& gpu_model, TimeMs t) const {
  // FailedPrecondition, not NotFound: the request was fine, the price book is incomplete.
  auto it = Lookup(gpu_model);
  if (it == by_model_.end()) {
    return FailedPrecondition("no price for GPU model '" + gpu_model +
                              "'; add one with `gpuledger import prices`");
  }
  const auto& list = it->second;
  auto pos = std::upper_bound(list.begin(), list.end(), t,
                              [](TimeMs v, const Price& p) { return v < p.effective_from; });
  if (pos == list.begin()) {
    return FailedPrecondition("no price for GPU model '" + gpu_model + "' at " + FormatTime(t) +
                              "; its first price takes effect at " + FormatTime(list.front().effective_from));
  }
  return *(pos - 1);
}

const Price* PriceBook::Find(const std::string& gpu_model, TimeMs t) const {
  auto it = Lookup(gpu_model);
  if (it == by_model_.end()) return nullptr;
  auto pos = std::upper_bound(it->second.begin(), it->second.end(), t,
                              [](TimeMs v, const Price& p) { return v < p.effective_from; });
  return pos == it->second.begin() ? nullptr : &*(pos - 1);
}

std::vector<TimeMs> PriceBook::ChangesWithin(const std::string& gpu_model, Window w) const {
  std::vector<TimeMs> out;
  auto it = Lookup(gpu_model);
  if (it == by_model_.end()) return out;
  for (const Price& p : it->second) {
    if (p.effective_from > w.start && p.effective_from < w.end) out.push_back(p.effective_from);
  }
  return out;
}

}  // namespace gpuledger
