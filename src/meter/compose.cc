#include "meter/compose.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace gpuledger {

namespace {

void AddSums(UsageRow& to, const UsageRow& r) {
  to.period_end = std::max(to.period_end, r.period_end);
  to.gpu_ns += r.gpu_ns;
  to.covered_ns += r.covered_ns;
  to.busy_ns += r.busy_ns;
  to.dense_ns += r.dense_ns;
  to.util_ns += r.util_ns;
  to.energy_mj += r.energy_mj;
  to.peak_mem_mib = std::max(to.peak_mem_mib, r.peak_mem_mib);
  to.steady_ns += r.steady_ns;
  to.idle_ns += r.idle_ns;
  to.energy_flags += r.energy_flags;
}

using LineKey = std::pair<std::string, std::string>;  // GPU, job

// One (GPU, job) line through the spans: whether it has seen a dense sample yet, and its
// low time since its last dense sample (steady if another dense sample follows, else
// tail), kept against the period row it belongs to.
struct Line {
  bool seen_dense = false;
  std::vector<std::pair<UsageRow*, int64_t>> pending;
};

}  // namespace

std::vector<UsageRow> ComposeSpans(const std::vector<std::vector<UsageRow>>& spans) {
  using Key = std::tuple<std::string, std::string, TimeMs>;  // GPU, job, period start
  std::map<Key, UsageRow> out;                               // node addresses are stable
  std::map<LineKey, Line> lines;
  for (const std::vector<UsageRow>& span : spans) {
    // This span's rows of each line, each paired with the output row it adds to.
    std::map<LineKey, std::vector<std::pair<const UsageRow*, UsageRow*>>> by_line;
    for (const UsageRow& r : span) {
      auto [it, fresh] = out.try_emplace(Key{r.gpu_uuid, r.job_id, r.period_start});
      UsageRow& to = it->second;
      if (fresh) {
        to.job_id = r.job_id;
        to.gpu_uuid = r.gpu_uuid;
        to.gpu_model = r.gpu_model;
        to.period_start = r.period_start;
        to.period_end = r.period_end;
      }
      AddSums(to, r);
      by_line[{r.gpu_uuid, r.job_id}].emplace_back(&r, &to);
    }
    for (auto& [key, rows] : by_line) {
      Line& line = lines[key];
      const bool dense =
          std::any_of(rows.begin(), rows.end(), [](const auto& p) { return p.first->dense_ns > 0; });
      // The span's low time before its first dense sample (all of it, when it has none).
      for (auto& [r, to] : rows) {
        if (!line.seen_dense) {
          to->loading_ns += r->loading_ns;
        } else if (dense) {
          to->steady_ns += r->loading_ns;
        } else if (r->loading_ns > 0) {
          line.pending.emplace_back(to, r->loading_ns);
        }
      }
      if (!dense) continue;
      // A dense sample here: what was pending before it was steady time.
      for (auto& [to, ns] : line.pending) to->steady_ns += ns;
      line.pending.clear();
      line.seen_dense = true;
      // The span's low time after its last dense sample is pending from here on.
      for (auto& [r, to] : rows) {
        if (r->tail_ns > 0) line.pending.emplace_back(to, r->tail_ns);
      }
    }
  }
  for (auto& [key, line] : lines) {
    for (auto& [to, ns] : line.pending) to->tail_ns += ns;
  }
  std::vector<UsageRow> rows;
  rows.reserve(out.size());
  for (auto& [key, r] : out) rows.push_back(std::move(r));
  return rows;
}

}  // namespace gpuledger
