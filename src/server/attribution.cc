#include "server/attribution.h"

#include <algorithm>
#include <map>

namespace gpuledger {

namespace {

// The labels that name a job, most specific first.
constexpr const char* kJobLabels[] = {"hpc_job", "pod"};

// Gives `gpu` to `job` over [first, end), unless the job already holds it there through
// an allocation that does not start at `first` (an explicit one wins).
Status ClaimSpan(Ledger& ledger, const Job& job, const std::string& gpu, TimeMs first, TimeMs end,
                 AttributionStats* stats) {
  ASSIGN_OR_RETURN(std::vector<Allocation> held, ledger.AllocationsOverlapping({first, end}));
  // A GPU handed from one job to the next: the previous job's hold reaches one sample
  // interval past its last sample, into this job's first. This job's hold starts where
  // that one ends (a hold that covers all of this span is still a conflict, below).
  for (const Allocation& a : held) {
    if (a.gpu_uuid == gpu && a.job_id != job.id && a.start_ms <= first && a.end_ms != 0 && a.end_ms < end) {
      first = std::max(first, a.end_ms);
    }
  }
  for (const Allocation& a : held) {
    // An allocation of this job on this GPU that is not the label's own (same start,
    // shorter): explicit, so it stands.
    if (a.gpu_uuid == gpu && a.job_id == job.id &&
        (a.start_ms != first || a.end_ms == 0 || a.end_ms >= end)) {
      return OkStatus();
    }
  }
  Status s = ledger.PutAllocations({{job.id, gpu, first, end, kFullShare}});
  if (s.ok()) {
    ++stats->allocations;
  } else if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound) {
    ++stats->conflicts;  // held by another job, or outside the GPU's service: the label yields
  } else {
    return s;
  }
  return OkStatus();
}

// Gives `gpu` to `job` over [first, last + interval) within the job's life, except where
// a pause had freed its GPUs (FreedPauseGaps): a label seen before such a pause and
// again after it (one span per GPU) claims the two runs, never the gap between them.
Status Claim(Ledger& ledger, const Job& job, const std::string& gpu, TimeMs first, TimeMs last,
             DurationMs interval, AttributionStats* stats) {
  TimeMs end = last + interval;
  if (job.end_ms != 0) end = std::min(end, job.end_ms);
  if (job.start_ms != 0) first = std::max(first, job.start_ms);
  if (end <= first) return OkStatus();
  ASSIGN_OR_RETURN(std::vector<Window> gaps, FreedPauseGaps(ledger, job.id));
  for (const Window& gap : gaps) {  // by start, disjoint
    if (gap.end <= first || gap.start >= end) continue;
    if (gap.start > first) RETURN_IF_ERROR(ClaimSpan(ledger, job, gpu, first, gap.start, stats));
    first = gap.end;
    if (first >= end) return OkStatus();
  }
  return ClaimSpan(ledger, job, gpu, first, end, stats);
}

// The names a job's workload labels may carry: its pod and hpc_job labels, and its id as
// hpc_job (the node agent's label, or a Slurm job id).
std::vector<std::pair<std::string, std::string>> LabelNames(const Job& job) {
  std::vector<std::pair<std::string, std::string>> names;
  for (const char* key : kJobLabels) {
    auto v = job.labels.find(key);
    if (v != job.labels.end() && !v->second.empty()) names.emplace_back(key, v->second);
  }
  names.emplace_back("hpc_job", job.id);
  return names;
}

}  // namespace

StatusOr<std::vector<Window>> FreedPauseGaps(Ledger& ledger, const std::string& job_id) {
  std::vector<Window> gaps;
  ASSIGN_OR_RETURN(std::vector<JobPause> pauses, ledger.ListPauses(job_id));
  std::vector<Allocation> holds;
  bool holds_read = false;
  for (const JobPause& p : pauses) {
    if (!p.gpus_freed) continue;  // held (Docker, Slurm suspend), or a launcher not answered yet
    const TimeMs to = p.resumed_ms == 0 ? kMaxTimeMs : p.resumed_ms;
    TimeMs from = p.paused_ms;
    if (p.mode == "cooperative") {
      // The run goes on to its epoch's checkpoint after the request and ends the job
      // then (PATCH paused ends its holds there): the gap starts where its holds ended.
      // While the pause is open the job's own end bounds its claims (paused), or its run
      // goes on (running); none ended within a closed one: the run never stopped.
      if (p.resumed_ms == 0) continue;
      if (!holds_read) {
        ASSIGN_OR_RETURN(holds, ledger.AllocationsOfJob(job_id));
        holds_read = true;
      }
      TimeMs ended = kMinTimeMs;
      for (const Allocation& a : holds)
        if (a.end_ms != 0 && a.end_ms >= p.paused_ms && a.end_ms <= to) ended = std::max(ended, a.end_ms);
      if (ended == kMinTimeMs) continue;
      from = ended;
    }
    if (from < to) gaps.push_back({from, to});
  }
  std::sort(gaps.begin(), gaps.end(), [](const Window& a, const Window& b) { return a.start < b.start; });
  return gaps;
}

StatusOr<bool> SeenByLabels(Ledger& ledger, SightingBuffer& buffer, const Job& job) {
  for (const auto& [key, value] : LabelNames(job)) {
    ASSIGN_OR_RETURN(std::vector<LabelSighting> seen, buffer.Find(ledger, key, value));
    if (!seen.empty()) return true;
  }
  return false;
}

StatusOr<std::vector<Job>> JobLabelCache::Find(Ledger& ledger, const std::string& key,
                                               const std::string& value) {
  auto it = cache_.find(std::tie(key, value));  // no key copied for a hit
  if (it != cache_.end()) return it->second;
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.FindJobsByLabel(key, value));
  if (cache_.size() > 100000) cache_.clear();  // bounded
  cache_.emplace(std::make_tuple(key, value), jobs);
  return jobs;
}

Status SightingBuffer::Write(Ledger& ledger, const std::vector<LabelSighting>& due,
                             const std::vector<Span*>& spans, TimeMs now) {
  if (due.empty()) return OkStatus();
  RETURN_IF_ERROR(ledger.PutSightings(due));
  for (size_t i = 0; i < due.size(); ++i) {
    spans[i]->written = true;
    spans[i]->written_at = now;
    spans[i]->written_first = due[i].first_ms;
    spans[i]->written_last = due[i].last_ms;
  }
  return OkStatus();
}

void SightingBuffer::Add(const std::vector<LabelSighting>& seen) {
  for (const LabelSighting& s : seen) {
    auto it = spans_.find(std::tie(s.label, s.value, s.gpu_uuid));  // no key copied for a known span
    if (it == spans_.end())
      it = spans_.emplace(Key{s.label, s.value, s.gpu_uuid}, Span{s.first_ms, s.last_ms}).first;
    Span& sp = it->second;
    const bool wider = s.first_ms < sp.first || s.last_ms > sp.last || !sp.written;
    sp.first = std::min(sp.first, s.first_ms);
    sp.last = std::max(sp.last, s.last_ms);
    if (wider && !sp.changed) {
      sp.changed = true;
      changed_.push_back(it);
    }
  }
}

StatusOr<std::vector<LabelSighting>> SightingBuffer::TakeChanged(Ledger& ledger, TimeMs now) {
  std::vector<LabelSighting> changed, due;
  std::vector<Span*> marks;
  for (auto it : changed_) {
    const auto& [label, value, gpu] = it->first;
    Span& sp = it->second;
    changed.push_back({gpu, label, value, sp.first, sp.last});
    if (!sp.written || sp.first < sp.written_first ||
        (sp.last != sp.written_last && now - sp.written_at >= kSightingWriteEveryMs)) {
      due.push_back(changed.back());
      marks.push_back(&sp);
    }
  }
  RETURN_IF_ERROR(Write(ledger, due, marks, now));  // on failure all stay changed: retried
  for (auto it : changed_) it->second.changed = false;
  changed_.clear();
  return changed;
}

Status SightingBuffer::Flush(Ledger& ledger, TimeMs now) {
  std::vector<LabelSighting> due;
  std::vector<Span*> marks;
  TimeMs newest = kMinTimeMs;
  for (auto& [key, sp] : spans_) newest = std::max(newest, sp.last);
  for (auto it = spans_.begin(); it != spans_.end();) {
    Span& sp = it->second;
    if (!sp.written || sp.first != sp.written_first || sp.last != sp.written_last) {
      due.push_back(
          {std::get<2>(it->first), std::get<0>(it->first), std::get<1>(it->first), sp.first, sp.last});
      marks.push_back(&sp);
      ++it;
    } else if (newest - sp.last > kHourMs && !sp.changed) {
      it = spans_.erase(it);  // written and quiet for an hour: the ledger has it
    } else {
      ++it;
    }
  }
  return Write(ledger, due, marks, now);
}

StatusOr<std::vector<LabelSighting>> SightingBuffer::Find(Ledger& ledger, const std::string& label,
                                                          const std::string& value) {
  ASSIGN_OR_RETURN(std::vector<LabelSighting> out, ledger.FindSightings(label, value));
  for (auto it = spans_.lower_bound({label, value, ""});
       it != spans_.end() && std::get<0>(it->first) == label && std::get<1>(it->first) == value; ++it) {
    const std::string& gpu = std::get<2>(it->first);
    auto mine =
        std::find_if(out.begin(), out.end(), [&](const LabelSighting& s) { return s.gpu_uuid == gpu; });
    if (mine == out.end()) {
      out.push_back({gpu, label, value, it->second.first, it->second.last});
    } else {
      mine->first_ms = std::min(mine->first_ms, it->second.first);
      mine->last_ms = std::max(mine->last_ms, it->second.last);
    }
  }
  return out;
}

size_t SightingBuffer::pending() const {
  size_t n = 0;
  for (const auto& [key, sp] : spans_)
    n += (!sp.written || sp.last != sp.written_last || sp.first != sp.written_first);
  return n;
}

std::vector<LabelSighting> SightingsOf(const DcgmBatch& batch) {
  std::vector<LabelSighting> sightings;
  // The batch's GPUs and its samples come in the same order: each GPU's samples are one
  // run, and its span is the run's.
  const std::vector<GpuSample>& samples = batch.samples;
  size_t i = 0;
  for (const DcgmGpu& g : batch.gpus) {
    const std::string& gpu = g.labels->uuid;
    TimeMs first = kMaxTimeMs, last = kMinTimeMs;
    for (; i < samples.size() && samples[i].gpu_uuid == gpu; ++i) {
      first = std::min(first, samples[i].sample.t);
      last = std::max(last, samples[i].sample.t);
    }
    if (first > last) continue;
    for (const char* key : kJobLabels) {
      const std::string_view v = DcgmLabelOf(g.labels->workload, key);
      if (!v.empty()) sightings.push_back({gpu, key, std::string(v), first, last});
    }
  }
  return sightings;
}

Status AttributePending(Ledger& ledger, DurationMs interval_ms, JobLabelCache& job_cache,
                        SightingBuffer& buffer, TimeMs now, AttributionStats* stats) {
  ASSIGN_OR_RETURN(std::vector<LabelSighting> changed, buffer.TakeChanged(ledger, now));
  for (const LabelSighting& s : changed) {
    ASSIGN_OR_RETURN(std::vector<Job> jobs, job_cache.Find(ledger, s.label, s.value));
    if (jobs.size() != 1) continue;  // none yet (kept as a sighting), or ambiguous
    // The whole span the label was seen over, so one allocation grows batch by batch.
    ASSIGN_OR_RETURN(std::vector<LabelSighting> all, buffer.Find(ledger, s.label, s.value));
    for (const LabelSighting& seen : all) {
      if (seen.gpu_uuid == s.gpu_uuid) {
        RETURN_IF_ERROR(
            Claim(ledger, jobs[0], seen.gpu_uuid, seen.first_ms, seen.last_ms, interval_ms, stats));
      }
    }
  }
  return OkStatus();
}

Status AttributeNewJob(Ledger& ledger, const Job& job, DurationMs interval_ms, AttributionStats* stats) {
  for (const auto& [key, value] : LabelNames(job)) {
    ASSIGN_OR_RETURN(std::vector<LabelSighting> seen, ledger.FindSightings(key, value));
    for (const LabelSighting& s : seen) {
      RETURN_IF_ERROR(Claim(ledger, job, s.gpu_uuid, s.first_ms, s.last_ms, interval_ms, stats));
    }
  }
  return OkStatus();
}

}  // namespace gpuledger
