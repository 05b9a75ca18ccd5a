#include "ledger/checks.h"

#include <algorithm>
#include <cmath>

#include "common/strings.h"

namespace gpuledger {

Status CheckJobs(const std::vector<Job>& jobs, std::map<std::string, std::string>& project_department) {
  for (const Job& j : jobs) {
    RETURN_IF_ERROR(j.Validate());
    auto [it, fresh] = project_department.emplace(j.project, j.department);
    if (!fresh && it->second != j.department) {
      return InvalidArgument("job " + j.id + ": project '" + j.project + "' belongs to department '" +
                             it->second + "', not '" + j.department + "'");
    }
  }
  return OkStatus();
}

Status CheckPrices(const std::vector<Price>& prices, const std::string& ledger_currency) {
  for (const Price& p : prices) {
    RETURN_IF_ERROR(p.Validate());
    if (p.currency != ledger_currency) {
      return InvalidArgument("price for " + p.gpu_model + " is in " + p.currency +
                             " but this ledger keeps its books in " + ledger_currency);
    }
  }
  return OkStatus();
}

Status CheckAllocations(const std::vector<Allocation>& incoming, const std::vector<Allocation>& existing,
                        const std::map<std::string, Gpu>& gpus, const std::set<std::string>& job_ids) {
  std::map<std::string, std::vector<const Allocation*>> by_gpu;
  for (const Allocation& a : incoming) {
    RETURN_IF_ERROR(a.Validate());
    auto g = gpus.find(a.gpu_uuid);
    if (g == gpus.end()) {
      return NotFound("allocation names unknown GPU '" + a.gpu_uuid +
                      "'; import it with `gpuledger import gpus` first");
    }
    if (!job_ids.count(a.job_id)) {
      return NotFound("allocation names unknown job '" + a.job_id +
                      "'; import it with `gpuledger import jobs` first");
    }
    const Window sw = g->second.service(), aw = a.window();
    if (aw.start < sw.start || aw.end > sw.end) {
      return InvalidArgument("allocation of GPU " + a.gpu_uuid + " to job " + a.job_id + " [" +
                             FormatTime(aw.start) + ", " + (a.end_ms ? FormatTime(aw.end) : "open") +
                             ") lies outside the GPU's service [" + FormatTime(sw.start) + ", " +
                             (g->second.in_service_to ? FormatTime(sw.end) : "open") + ")");
    }
    by_gpu[a.gpu_uuid].push_back(&a);
  }
  auto same = [](const Allocation& x, const Allocation& y) {
    return x.job_id == y.job_id && x.gpu_uuid == y.gpu_uuid && x.start_ms == y.start_ms;
  };
  for (const Allocation& e : existing) {
    auto it = by_gpu.find(e.gpu_uuid);
    if (it == by_gpu.end()) continue;
    bool replaced =
        std::any_of(it->second.begin(), it->second.end(), [&](const Allocation* a) { return same(*a, e); });
    if (!replaced) it->second.push_back(&e);
  }
  for (auto& [uuid, list] : by_gpu) {
    // Sweep the starts and ends; at no instant may the shares exceed one GPU.
    std::vector<std::pair<TimeMs, int64_t>> events;
    for (const Allocation* a : list) {
      events.emplace_back(a->start_ms, a->share_ppm);
      events.emplace_back(a->window().end, -a->share_ppm);
    }
    std::sort(events.begin(), events.end());  // ends (negative) sort before starts at one instant
    int64_t level = 0;
    for (const auto& [t, delta] : events) {
      level += delta;
      if (level > kFullShare) {
        std::string who;
        for (const Allocation* a : list) {
          if (a->window().Contains(t)) who += (who.empty() ? "" : ", ") + a->job_id;
        }
        return InvalidArgument("GPU " + uuid + " would be allocated " + FormatFixed(level / 1e4, 2) +
                               " % at " + FormatTime(t) + " (limit 100 %) by jobs " + who);
      }
    }
  }
  return OkStatus();
}

Status CheckSample(const std::string& gpu_uuid, const Sample& s) {
  auto finite = [](double v) { return std::isfinite(v); };
  auto absent_or_positive = [](double v) { return v >= 0 || v == -1; };
  const bool util_ok = finite(s.util_pct) && (s.util_pct >= 0 || s.util_pct == -1) && s.util_pct <= 100;
  const bool finite_ok = finite(s.mem_mib) && finite(s.power_w) && finite(s.sm_active) && finite(s.gr_active);
  const bool sign_ok = absent_or_positive(s.mem_mib) && absent_or_positive(s.power_w) &&
                       absent_or_positive(static_cast<double>(s.energy_mj));
  const bool sm_ok = s.sm_active <= 1 && absent_or_positive(s.sm_active) && s.gr_active <= 1 &&
                     absent_or_positive(s.gr_active);
  if (s.t >= kMinTimeMs && s.t < kMaxTimeMs && util_ok && finite_ok && sign_ok && s.power_w <= 5000 &&
      sm_ok) {
    return OkStatus();  // the common case builds no message
  }
  RETURN_IF_ERROR(CheckTimeInRange(s.t, "sample time of GPU " + gpu_uuid));
  const std::string what = "sample of GPU " + gpu_uuid + " at " + FormatTime(s.t);
  if (!util_ok) {
    return InvalidArgument(what + ": utilisation " + FormatFixed(s.util_pct, 2) + " is outside [0, 100] %");
  }
  if (!finite_ok) return InvalidArgument(what + ": a value is not finite");
  if (!sign_ok) return InvalidArgument(what + ": memory, power and energy must not be negative");
  if (s.power_w > 5000) {
    return InvalidArgument(what + ": power " + FormatFixed(s.power_w, 1) + " W exceeds the limit 5000 W");
  }
  if (!(s.sm_active <= 1 && absent_or_positive(s.sm_active))) {
    return InvalidArgument(what + ": SM activity " + FormatFixed(s.sm_active, 3) + " is outside [0, 1]");
  }
  return InvalidArgument(what + ": graphics engine activity " + FormatFixed(s.gr_active, 3) +
                         " is outside [0, 1]");
}

Window AllocationChangeSpan(const std::vector<Allocation>& incoming,
                            const std::vector<Allocation>& existing) {
  Window changed{kMaxTimeMs, kMinTimeMs};
  auto widen = [&](Window w) {
    if (w.start >= w.end) return;
    changed.start = std::min(changed.start, w.start);
    changed.end = std::max(changed.end, w.end);
  };
  for (const Allocation& a : incoming) {
    auto same = std::find_if(existing.begin(), existing.end(), [&](const Allocation& e) {
      return e.job_id == a.job_id && e.gpu_uuid == a.gpu_uuid && e.start_ms == a.start_ms;
    });
    if (same == existing.end() || same->share_ppm != a.share_ppm) {
      widen(a.window());
      if (same != existing.end()) widen(same->window());
      continue;
    }
    const TimeMs old_end = same->window().end, new_end = a.window().end;
    widen({std::min(old_end, new_end), std::max(old_end, new_end)});
  }
  return changed;
}

Window GpuChangeSpan(const std::vector<Gpu>& incoming, const std::vector<Gpu>& stored) {
  Window changed{kMaxTimeMs, kMinTimeMs};
  for (const Gpu& g : incoming) {
    auto old = std::find_if(stored.begin(), stored.end(), [&](const Gpu& s) { return s.uuid == g.uuid; });
    TimeMs from = g.in_service_from;
    if (old != stored.end()) {
      if (old->model == g.model && old->in_service_from == g.in_service_from &&
          old->in_service_to == g.in_service_to && old->sample_interval_ms == g.sample_interval_ms &&
          old->max_gap_ms == g.max_gap_ms) {
        continue;  // node, index or memory: nothing the meter reads
      }
      from = std::min(from, old->in_service_from);
    }
    changed.start = std::min(changed.start, from);
    changed.end = kMaxTimeMs;  // a changed model or service end affects everything after
  }
  return changed;
}

SampleWriteChanges SampleChangeSpans(const std::vector<SampleWriteFirst>& gpus, TimeMs latest_t,
                                     DurationMs pad) {
  SampleWriteChanges c;
  c.span = {kMaxTimeMs, kMinTimeMs};
  for (const SampleWriteFirst& g : gpus) {
    TimeMs from = g.first_t;
    if (g.before == SampleWriteFirst::Before::kUnknown) {
      from = g.first_t - pad;
    } else if (g.before == SampleWriteFirst::Before::kAt) {
      if (g.first_t - g.before_t > pad) {
        c.markers.push_back({g.before_t, g.before_t + pad});
      } else {
        from = g.before_t;
      }
    }
    c.span.start = std::min(c.span.start, from);
  }
  if (gpus.empty()) return {{0, 0}, {}};
  c.span.end = latest_t + 1 + pad;  // a sample stands for up to a max gap after it
  return c;
}

}  // namespace gpuledger
