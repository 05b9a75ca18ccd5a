#include "report/gpus_now.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gpuledger {

const char* GpuNowStateName(GpuNowState s) {
  switch (s) {
    case GpuNowState::kBusy:
      return "busy";
    case GpuNowState::kIdleHeld:
      return "idle_held";
    case GpuNowState::kIdleFree:
      return "idle_free";
    case GpuNowState::kNoData:
      return "no_data";
  }
  return "no_data";
}

std::vector<GpuNow> GpusNow(const std::vector<Gpu>& gpus, const std::vector<Allocation>& allocations,
                            const std::map<std::string, Sample>& latest, TimeMs now,
                            const GpusNowOptions& options) {
  std::map<std::string, std::vector<std::string>> holders;
  for (const Allocation& a : allocations) {
    if (a.window().Contains(now)) holders[a.gpu_uuid].push_back(a.job_id);
  }
  std::vector<GpuNow> out;
  for (const Gpu& g : gpus) {
    if (!g.service().Contains(now)) continue;
    GpuNow n;
    n.uuid = g.uuid;
    n.node = g.node;
    n.model = g.model;
    if (auto h = holders.find(g.uuid); h != holders.end()) {
      n.jobs = h->second;
      std::sort(n.jobs.begin(), n.jobs.end());
    }
    auto s = latest.find(g.uuid);
    const bool fresh = s != latest.end() && s->second.t <= now && now - s->second.t <= options.max_age_ms &&
                       s->second.util_pct >= 0;
    if (fresh) {
      n.last_sample_ms = s->second.t;
      n.last_util_pct = s->second.util_pct;
      n.state = n.last_util_pct >= options.idle_util_pct ? GpuNowState::kBusy
                : n.jobs.empty()                          ? GpuNowState::kIdleFree
                                                          : GpuNowState::kIdleHeld;
    }
    out.push_back(std::move(n));
  }
  auto rank = [](GpuNowState s) {
    switch (s) {
      case GpuNowState::kIdleHeld:
        return 0;
      case GpuNowState::kIdleFree:
        return 1;
      case GpuNowState::kNoData:
        return 2;
      case GpuNowState::kBusy:
        return 3;
    }
    return 3;
  };
  std::sort(out.begin(), out.end(), [&](const GpuNow& a, const GpuNow& b) {
    return std::tuple(rank(a.state), a.model, a.uuid) < std::tuple(rank(b.state), b.model, b.uuid);
  });
  return out;
}

std::string RenderGpusNowJson(const std::vector<GpuNow>& gpus, TimeMs now, const GpusNowOptions& options,
                              bool with_jobs) {
  using J = nlohmann::ordered_json;
  J j;
  j["as_of"] = FormatTime(now);
  j["max_sample_age_s"] = options.max_age_ms / kSecondMs;
  j["idle_util_pct"] = options.idle_util_pct;
  J counts = {{"busy", 0}, {"idle_held", 0}, {"idle_free", 0}, {"no_data", 0}};
  std::map<std::string, J> by_model;
  J list = J::array();
  for (const GpuNow& g : gpus) {
    const char* state = GpuNowStateName(g.state);
    counts[state] = counts[state].get<int>() + 1;
    J& m = by_model[g.model];
    if (m.is_null()) m = {{"gpu_model", g.model}, {"busy", 0}, {"idle_held", 0}, {"idle_free", 0}, {"no_data", 0}};
    m[state] = m[state].get<int>() + 1;
    J row = {{"gpu", g.uuid},
             {"node", g.node},
             {"gpu_model", g.model},
             {"state", state},
             {"held_by_jobs", g.jobs.size()},
             {"last_sample", g.last_sample_ms ? J(FormatTime(g.last_sample_ms)) : J()},
             {"util_pct", g.last_util_pct >= 0 ? J(g.last_util_pct) : J()}};
    if (with_jobs) row["jobs"] = g.jobs;
    list.push_back(std::move(row));
  }
  j["counts"] = counts;
  j["by_gpu_model"] = J::array();
  for (auto& [model, m] : by_model) j["by_gpu_model"].push_back(std::move(m));
  j["gpus"] = std::move(list);
  return j.dump() + "\n";
}

}  // namespace gpuledger
