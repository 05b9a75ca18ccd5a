// How both backends store a budget's month: 'YYYY-MM', or 'every' for every month.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

inline constexpr const char* kEveryMonth = "every";

inline std::string BudgetMonthText(const std::optional<YearMonth>& m) { return m ? m->ToString() : kEveryMonth; }

inline StatusOr<std::optional<YearMonth>> ParseBudgetMonthText(const std::string& text) {
  if (text == kEveryMonth) return std::optional<YearMonth>();
  ASSIGN_OR_RETURN(YearMonth m, ParseYearMonth(text));
  return std::optional<YearMonth>(m);
}

}  // namespace gpuledger
