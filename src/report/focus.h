// The FinOps FOCUS 1.2 export (docs/EXPORTS.md has the column mapping): one charge row per
// job per GPU model, and one per GPU model for its unallocated capacity, from a
// GroupBy::kJob MonthlyReport (report.h). Every FOCUS 1.2 mandatory column comes first,
// then the recommended and conditional ones we fill, then our own as x_PascalCase. Pure;
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include "report/export.h"

namespace gpuledger {

struct FocusColumn {
  std::string name;
  enum class Type { kString, kDecimal, kDateTime, kJson } type;
  bool nullable;
  bool mandatory;  // FOCUS 1.2 feature level Mandatory
};

// The columns in order: FOCUS's mandatory ones, then the others, then x_ extras.
const std::vector<FocusColumn>& FocusColumns();

// `r` must be grouped by job (InvalidArgument otherwise); `jobs` gives each job's project,
// department, user and metadata. The rows' BilledCost sums to r.total.cost_micros.
StatusOr<std::string> RenderFocusCsv(const MonthlyReport& r, const std::vector<Job>& jobs,
                                     const ExportNames& names);

}  // namespace gpuledger
