// PriceBook: effective-dated prices per GPU model in one currency. Models are kept and
// looked up by their canonical names (domain/gpu_model.h): a price for "A10G" prices
// "NVIDIA A10G". Immutable after Create; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

class PriceBook {
 public:
  // All prices must share `currency`; two prices for one model may not start together.
  static StatusOr<PriceBook> Create(const Currency& currency, std::vector<Price> prices);

  const Currency& currency() const { return currency_; }
  // The price in force for `gpu_model` at t: the latest whose effective_from <= t.
  // FailedPrecondition (the price book is incomplete) when there is none.
  StatusOr<Price> At(const std::string& gpu_model, TimeMs t) const;
  // The same without a copy: nullptr when no price is in force.
  const Price* Find(const std::string& gpu_model, TimeMs t) const;
  // Instants inside `w` at which `gpu_model`'s price changes (the meter cuts there).
  std::vector<TimeMs> ChangesWithin(const std::string& gpu_model, Window w) const;

 private:
  std::map<std::string, std::vector<Price>>::const_iterator Lookup(const std::string& gpu_model) const;

  Currency currency_;
  std::map<std::string, std::vector<Price>> by_model_;  // ascending effective_from
};

}  // namespace gpuledger
