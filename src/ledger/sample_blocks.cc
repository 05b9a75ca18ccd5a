#include "ledger/sample_blocks.h"

#include <algorithm>

namespace gpuledger {

void SortAndMergeRepeats(std::vector<std::pair<int64_t, Sample>>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.t < b.second.t;
  });
  size_t kept = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (kept > 0 && rows[kept - 1].first == rows[i].first && rows[kept - 1].second.t == rows[i].second.t) {
      MergeReported(rows[kept - 1].second, rows[i].second);
    } else {
      rows[kept++] = rows[i];
    }
  }
  rows.resize(kept);
}

std::vector<Sample> MergeSampleRuns(const std::vector<Sample>& base, const std::vector<Sample>& later) {
  std::vector<Sample> out;
  out.reserve(base.size() + later.size());
  size_t i = 0, j = 0;
  while (i < base.size() || j < later.size()) {
    if (j == later.size() || (i < base.size() && base[i].t < later[j].t)) {
      out.push_back(base[i++]);
    } else if (i == base.size() || later[j].t < base[i].t) {
      out.push_back(later[j++]);
    } else {
      out.push_back(base[i++]);
      MergeReported(out.back(), later[j++]);
    }
  }
  return out;
}

}  // namespace gpuledger
