// Order statistics shared by the estimate and the report. Pure.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace gpuledger {

// Type 7 (linear between order statistics, R's default) of sorted values; 0 when empty.
inline double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double h = (static_cast<double>(sorted.size()) - 1) * q;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// The median (the mean of the middle two for an even count); 0 when empty.
inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return Quantile(v, 0.5);
}

}  // namespace gpuledger
