#include "server/job_update.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/ids.h"

namespace gpuledger {

namespace {

std::string Quoted(const std::string& id) { return "job '" + id + "'"; }

// "succeeded (ended 2026-10-03T10:00:00Z)", or the status alone.
std::string StatusWithEnd(const Job& j) {
  std::string s(JobStatusName(j.status));
  if (j.end_ms != 0) s += " (ended " + FormatTime(j.end_ms) + ")";
  return s;
}

}  // namespace

bool IsFinished(JobStatus s) {
  return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCancelled ||
         s == JobStatus::kPaused;
}

StatusOr<Job> MergeRegistration(const std::optional<Job>& stored, Job in,
                                std::vector<std::string>* warnings) {
  if (!stored) return in;
  const Job& old = *stored;
  if (IsFinished(old.status)) {
    if (in.status == old.status && in.start_ms == old.start_ms && in.end_ms == old.end_ms) return old;
    if (old.status == JobStatus::kPaused && !IsFinished(in.status) && in.end_ms == 0) {
      // RunPausedJobAgain did not take it back: its pause request still stands.
      return FailedPrecondition("job '" + old.id +
                                "' is paused and its pause request stands: resume it (POST /api/v1/jobs/" +
                                old.id + "/resume) before its run registers again");
    }
    return FailedPrecondition(
        "job '" + old.id + "' is " + std::string(JobStatusName(old.status)) +
        ": a finished job is not registered again; correct it with PATCH /api/v1/jobs/" + old.id +
        " (admins)");
  }
  if (IsFinished(in.status) || in.end_ms != 0) {
    return FailedPrecondition("job '" + old.id + "' is " + std::string(JobStatusName(old.status)) +
                              ": end it with PATCH /api/v1/jobs/" + old.id +
                              " (which ends its allocations with it), not by registering it again");
  }
  auto keep = [](std::string& field, const std::string& was) {
    if (field.empty()) field = was;
  };
  keep(in.user, old.user);
  keep(in.project, old.project);
  keep(in.department, old.department);
  keep(in.model_type, old.model_type);
  keep(in.image_repo, old.image_repo);
  keep(in.image_tag, old.image_tag);
  if (!old.image_digest.empty() && !in.image_digest.empty() && in.image_digest != old.image_digest) {
    if (warnings)
      warnings->push_back("job '" + old.id + "' image digest " + in.image_digest +
                          " differs from the one known, " + old.image_digest + "; the known one is kept");
    in.image_digest = old.image_digest;
  }
  keep(in.image_digest, old.image_digest);
  keep(in.framework, old.framework);
  keep(in.gpu_model, old.gpu_model);
  keep(in.dataset, old.dataset);
  auto keep_n = [](auto& field, auto was) {
    if (field == 0) field = was;
  };
  keep_n(in.gpu_share_ppm, old.gpu_share_ppm);
  keep_n(in.duration_limit_ms, old.duration_limit_ms);
  keep_n(in.dataset_images, old.dataset_images);
  keep_n(in.epochs, old.epochs);
  keep_n(in.batch, old.batch);
  keep_n(in.imgsz, old.imgsz);
  keep_n(in.submitted_ms, old.submitted_ms);
  keep_n(in.start_ms, old.start_ms);
  if (in.status == JobStatus::kPending) in.status = old.status;  // not sent, or never back from running
  in.amp = in.amp || old.amp;
  for (const auto& [k, v] : old.labels) in.labels.emplace(k, v);  // what is sent wins
  return in;
}

Status StartPendingJob(Ledger& ledger, const std::string& job_id, TimeMs now) {
  ASSIGN_OR_RETURN(std::optional<Job> job, ledger.GetJob(job_id));
  if (!job || job->status != JobStatus::kPending) return OkStatus();
  job->status = JobStatus::kRunning;
  if (job->start_ms == 0) job->start_ms = now;
  return ledger.PutJobs({*job});
}

StatusOr<bool> RunPausedJobAgain(Ledger& ledger, const std::string& job_id, TimeMs now) {
  bool again = false;
  RETURN_IF_ERROR(ledger.InTransaction([&]() -> Status {
    again = false;
    ASSIGN_OR_RETURN(std::optional<Job> job, ledger.GetJob(job_id));
    if (!job || job->status != JobStatus::kPaused) return OkStatus();
    ASSIGN_OR_RETURN(std::optional<StopRequest> stop, ledger.GetStopRequest(job_id));
    if (stop && stop->kind == "pause") return OkStatus();  // not resumed: it stays paused
    ASSIGN_OR_RETURN(std::optional<JobPause> open, ledger.OpenPause(job_id));
    // A launcher's pause (Docker, Kubernetes, Slurm) is closed by its resume, which asks
    // the launcher; only a cooperative one ends when its run comes back.
    if (open && open->mode != "cooperative") return OkStatus();
    job->status = JobStatus::kRunning;
    job->end_ms = 0;  // its holds ended with its last run stay as they are
    RETURN_IF_ERROR(ledger.PutJobs({*job}));
    if (open) RETURN_IF_ERROR(ledger.EndPause(job_id, std::max(now, open->paused_ms)));
    again = true;
    return OkStatus();
  }));
  return again;
}

StatusOr<std::vector<std::string>> StartPendingJobsAtFirstSample(Ledger& ledger,
                                                                 const std::vector<GpuSample>& samples,
                                                                 std::set<std::string>* not_pending) {
  std::vector<std::string> started;
  if (samples.empty()) return started;
  std::map<std::string, std::vector<TimeMs>> times;  // GPU -> its samples' instants, sorted
  TimeMs first = kMaxTimeMs, last = kMinTimeMs;
  for (const GpuSample& g : samples) {
    times[g.gpu_uuid].push_back(g.sample.t);
    first = std::min(first, g.sample.t);
    last = std::max(last, g.sample.t);
  }
  for (auto& [gpu, t] : times) std::sort(t.begin(), t.end());
  ASSIGN_OR_RETURN(std::vector<Allocation> held, ledger.AllocationsOverlapping({first, last + 1}));
  std::map<std::string, TimeMs> first_sample;  // job -> its first sample in this batch
  for (const Allocation& a : held) {
    if (not_pending != nullptr && not_pending->count(a.job_id) > 0) continue;
    auto it = times.find(a.gpu_uuid);
    if (it == times.end()) continue;
    auto t = std::lower_bound(it->second.begin(), it->second.end(), a.start_ms);
    if (t == it->second.end() || (a.end_ms != 0 && *t >= a.end_ms)) continue;
    auto [f, fresh] = first_sample.emplace(a.job_id, *t);
    if (!fresh) f->second = std::min(f->second, *t);
  }
  for (const auto& [id, t] : first_sample) {
    ASSIGN_OR_RETURN(std::optional<Job> job, ledger.GetJob(id));
    if (job && job->status == JobStatus::kPending) {
      job->status = JobStatus::kRunning;
      if (job->start_ms == 0) job->start_ms = t;
      RETURN_IF_ERROR(ledger.PutJobs({*job}));
      started.push_back(id);
    }
    if (not_pending != nullptr) not_pending->insert(id);
  }
  return started;
}

StatusOr<JobUpdate> ParseJobUpdateJson(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return InvalidArgument(
        R"(send a JSON object such as {"status": "succeeded", "end": "2026-10-03T10:00:00Z"})");
  }
  JobUpdate u;
  for (const auto& [key, value] : j.items()) {
    const bool correctable = std::find(std::begin(kCorrectableJobFields), std::end(kCorrectableJobFields),
                                       key) != std::end(kCorrectableJobFields);
    if (key != "status" && key != "start" && key != "end" && key != "resume_command" && !correctable) {
      std::string known = "status, start, end, resume_command";
      for (const char* f : kCorrectableJobFields) known += std::string(", ") + f;
      return InvalidArgument("unknown field '" + key + "': a job update takes " + known);
    }
    if (!value.is_string()) {
      return InvalidArgument("field '" + key + "' must be a string, got " + std::string(value.type_name()));
    }
    const std::string v = value.get<std::string>();
    if (key == "resume_command") {
      RETURN_IF_ERROR(CheckId(IdKind::kLabelValue, v).WithContext("field 'resume_command'"));
      u.resume_command = v;
    } else if (key == "status") {
      ASSIGN_OR_RETURN(u.status, ParseJobStatus(v));
    } else if (key == "start" || key == "end") {
      auto t = ParseTime(v);
      if (!t.ok()) return InvalidArgument("field '" + key + "': " + t.status().message());
      (key == "start" ? u.start_ms : u.end_ms) = *t;
    } else {
      if (v.size() > 256) {
        return InvalidArgument("field '" + key + "' is " + std::to_string(v.size()) +
                               " bytes, over the limit of 256");
      }
      u.fields[key] = v;
    }
  }
  if (u.empty()) {
    return InvalidArgument("nothing to change: give status, end, start or a correctable field");
  }
  return u;
}

StatusOr<Job> ApplyJobUpdate(const Job& job, const JobUpdate& u, bool correct_finished, TimeMs now) {
  Job out = job;
  const bool was_finished = IsFinished(job.status);
  out.status = u.status.value_or(job.status);
  if (was_finished && !IsFinished(out.status)) {
    return FailedPrecondition(Quoted(job.id) + " is " + StatusWithEnd(job) + ": a finished job is not set " +
                              std::string(JobStatusName(out.status)) +
                              " again; register the re-run as a new job");
  }
  if (u.start_ms) out.start_ms = *u.start_ms;
  if (u.resume_command) {
    if (out.status != JobStatus::kPaused) {
      return InvalidArgument(Quoted(job.id) +
                             ": a resume_command goes with status paused; the status would be " +
                             std::string(JobStatusName(out.status)));
    }
    out.labels["gpuledger.resume_command"] = *u.resume_command;
  }
  if (IsFinished(out.status)) {
    out.end_ms = u.end_ms.value_or(job.end_ms != 0 ? job.end_ms : now);
  } else {
    if (u.end_ms) {
      return InvalidArgument(Quoted(job.id) + ": an end needs a finished status (succeeded, failed, " +
                             "cancelled, paused); the status would be " +
                             std::string(JobStatusName(out.status)));
    }
    out.end_ms = 0;
  }
  if (was_finished && !correct_finished &&
      (out.status != job.status || out.end_ms != job.end_ms || out.start_ms != job.start_ms)) {
    return FailedPrecondition(Quoted(job.id) + " is already " + StatusWithEnd(job) +
                              ": only an admin corrects a finished job's status, start or end");
  }
  if (out.end_ms != 0) {
    if (out.start_ms == 0) {
      return InvalidArgument(Quoted(job.id) + " has no start: give \"start\" with its end " +
                             FormatTime(out.end_ms));
    }
    if (out.end_ms < out.start_ms) {
      return InvalidArgument(Quoted(job.id) + ": end " + FormatTime(out.end_ms) + " is before its start " +
                             FormatTime(out.start_ms));
    }
    if (out.end_ms != job.end_ms && out.end_ms > now + kEndAheadOfClockMs) {
      return InvalidArgument(Quoted(job.id) + ": end " + FormatTime(out.end_ms) +
                             " is more than 5 minutes after the clock's now " + FormatTime(now));
    }
  }
  for (const auto& [k, v] : u.fields) {
    if (k == "user") {
      out.user = v;
    } else if (k == "project") {
      out.project = v;
    } else if (k == "department") {
      out.department = v;
    } else if (k == "model_type") {
      out.model_type = v;
    } else if (k == "framework") {
      out.framework = v;
    } else if (k == "dataset") {
      out.dataset = v;
    }
  }
  RETURN_IF_ERROR(out.Validate());
  return out;
}

StatusOr<std::vector<Allocation>> AllocationsToEnd(const Job& before, const Job& after,
                                                   const std::vector<Allocation>& allocs) {
  std::vector<Allocation> out;
  if (after.end_ms == 0 || after.end_ms == before.end_ms) return out;
  for (Allocation a : allocs) {
    if (a.job_id != after.id) continue;
    const bool past_end = a.end_ms == 0 || a.end_ms > after.end_ms;
    const bool ended_with_job =
        before.end_ms != 0 && a.end_ms == before.end_ms && after.end_ms > before.end_ms;
    if (!past_end && !ended_with_job) continue;
    if (a.start_ms >= after.end_ms) {
      return FailedPrecondition(Quoted(after.id) + " holds GPU " + a.gpu_uuid + " from " +
                                FormatTime(a.start_ms) + ", not before its new end " +
                                FormatTime(after.end_ms) + ": that hold cannot end before it starts");
    }
    a.end_ms = after.end_ms;
    out.push_back(std::move(a));
  }
  return out;
}

StatusOr<JobUpdateResult> UpdateJob(Ledger& ledger, const std::string& id, const JobUpdate& u,
                                    bool correct_finished, TimeMs now) {
  JobUpdateResult result;
  Status s = ledger.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<Job> found, ledger.GetJob(id));
    if (!found) return NotFound("no job '" + id + "'");
    ASSIGN_OR_RETURN(result.job, ApplyJobUpdate(*found, u, correct_finished, now));
    std::vector<Allocation> ended;
    if (result.job.end_ms != 0 && result.job.end_ms != found->end_ms) {
      // Holds that may change: those reaching past the new end, and those ending at the old one.
      const TimeMs from =
          found->end_ms != 0 ? std::min(found->end_ms - 1, result.job.end_ms) : result.job.end_ms;
      ASSIGN_OR_RETURN(std::vector<Allocation> held, ledger.AllocationsOverlapping({from, kMaxTimeMs}));
      ASSIGN_OR_RETURN(ended, AllocationsToEnd(*found, result.job, held));
    }
    RETURN_IF_ERROR(ledger.PutJobs({result.job}));
    if (!ended.empty()) RETURN_IF_ERROR(ledger.PutAllocations(ended));
    result.allocations_ended = static_cast<int64_t>(ended.size());
    return OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

}  // namespace gpuledger
