#include "report/silent_holds.h"

#include <algorithm>
#include <map>
#include <utility>

namespace gpuledger {

StatusOr<std::vector<SilentHold>> FindSilentHolds(
    Ledger& ledger, const std::vector<Allocation>& allocs, TimeMs as_of, DurationMs after,
    const std::function<TimeMs(const std::string& gpu)>& last_seen) {
  std::vector<SilentHold> out;
  if (after <= 0) return out;
  std::map<std::pair<std::string, std::string>, TimeMs> held_since;  // (job, GPU) -> earliest open hold
  for (const Allocation& a : allocs) {
    if (a.start_ms > as_of || (a.end_ms != 0 && a.end_ms <= as_of)) continue;
    auto [it, fresh] = held_since.emplace(std::make_pair(a.job_id, a.gpu_uuid), a.start_ms);
    if (!fresh) it->second = std::min(it->second, a.start_ms);
  }
  std::map<std::string, TimeMs> last_by_gpu;  // asked once per GPU, however many jobs share it
  for (const auto& [key, since] : held_since) {
    if (as_of - since < after) continue;  // just taken: its first samples may be on their way
    const std::string& gpu = key.second;
    auto known = last_by_gpu.find(gpu);
    if (known == last_by_gpu.end()) {
      TimeMs last = last_seen ? last_seen(gpu) : kMinTimeMs;
      if (as_of - last >= after) {
        ASSIGN_OR_RETURN(std::optional<Sample> before, ledger.SampleBefore(gpu, as_of + 1));
        if (before) last = std::max(last, before->t);
      }
      known = last_by_gpu.emplace(gpu, last).first;
    }
    const TimeMs last = known->second;
    if (as_of - last >= after) out.push_back({key.first, gpu, since, last == kMinTimeMs ? 0 : last});
  }
  return out;
}

}  // namespace gpuledger
