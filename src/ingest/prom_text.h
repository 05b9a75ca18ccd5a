// Prometheus text exposition format (version 0.0.4) -> series samples. Untrusted
// input (a scraped /metrics body or a saved scrape): every error reads "line N: what",
// with the limit and the value seen. Comments (# HELP, # TYPE) are skipped. Pure;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

inline constexpr size_t kMaxPromLineBytes = 64 * 1024;
inline constexpr size_t kMaxPromLabels = 64;

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in the order written
  double value = 0;                                         // may be NaN or +-Inf, as the format allows
  std::optional<TimeMs> timestamp_ms;
  int64_t line = 0;

  // The label's value, or "" when absent.
  std::string_view Label(std::string_view key) const;
};

StatusOr<std::vector<PromSample>> ParsePromText(std::string_view text);

}  // namespace gpuledger
