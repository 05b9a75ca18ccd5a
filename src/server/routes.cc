// The HTTP routes of the gpuledger server (docs/api/openapi.yaml): authentication, the
// role checks, and the one place where a Status becomes an HTTP status code.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "domain/ids.h"
#include "ingest/dcgm.h"
#include "ingest/importers.h"
#include "ingest/remote_write.h"
#include "notify/notify_service.h"
#include "report/export.h"
#include "report/render.h"
#include "server/attribution.h"
#include "server/auth.h"
#include "server/gpu_registration.h"
#include "server/http_front.h"
#include "server/job_update.h"
#include "server/reply.h"
#include "server/series.h"
#include "server/server.h"
#include "submit/job_view.h"

namespace gpuledger {

// The one mapping of a Status to an HTTP answer (http_front.h's, which the front's own
// refusals use too).
void Reply(httplib::Response& res, const Status& s) {
  res.status = HttpStatusFor(s);
  res.set_content(JsonErrorBody(s), "application/json");
}

// Refuses query parameters the route does not read, by name (a misspelt or unsupported
// one would otherwise be ignored silently: `format=csv` answered JSON), and repeated ones.
Status OnlyParams(const httplib::Request& req, std::initializer_list<const char*> known) {
  for (const auto& param : req.params) {
    const std::string& name = param.first;
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return name == k; })) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      return InvalidArgument("unknown query parameter '" + EscapeForMessage(name) + "' on " + req.path +
                             (list.empty() ? " (it takes none)" : " (it takes " + list + ")"));
    }
    if (req.get_param_value_count(name) > 1) {
      return InvalidArgument("query parameter '" + name + "' given " +
                             std::to_string(req.get_param_value_count(name)) + " times");
    }
  }
  return OkStatus();
}

namespace {

// Users see their project's jobs, department admins their department's, admins all.
bool CanSeeJob(const Principal& p, const Job& job) {
  return p.role == Role::kAdmin || (p.role == Role::kUser && job.project == p.project) ||
         (p.role == Role::kDeptAdmin && job.department == p.department);
}

// A time query parameter, or `fallback` when absent.
StatusOr<TimeMs> TimeParam(const httplib::Request& req, const char* name, TimeMs fallback) {
  if (!req.has_param(name)) return fallback;
  auto t = ParseTime(req.get_param_value(name));
  if (!t.ok()) return InvalidArgument(std::string("query parameter '") + name + "': " + t.status().message());
  return t;
}

}  // namespace

void Server::Routes() {
  // Authenticates the request's bearer token; nullopt (and a reply) when it cannot.
  auto authenticate = [this](const httplib::Request& req, httplib::Response& res) {
    return Authenticate(req, res);
  };
  // Job-level reads and actions: never finance (no job names) nor ingest tokens.
  auto job_reader = [this](const httplib::Request& req, const Principal& p, httplib::Response& res,
                           const char* what) {
    if (p.role != Role::kFinance && p.role != Role::kIngest) return true;
    Deny(req, res, p, PermissionDenied("role " + std::string(RoleName(p.role)) + " " + what));
    return false;
  };
  auto require = [this](const httplib::Request& req, const Principal& p, std::initializer_list<Role> roles,
                        httplib::Response& res) {
    for (Role r : roles) {
      if (p.role == r) return true;
    }
    Deny(req, res, p, PermissionDenied("role " + std::string(RoleName(p.role)) + " may not do this"));
    return false;
  };

  // Liveness: 200 whenever the process answers, with what each dependency says.
  http_->Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    res.set_content(HealthJson(nullptr), "application/json");
  });
  // Readiness: 503 while the ledger is unreachable or the journal is full.
  http_->Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    bool ready = false;
    res.set_content(HealthJson(&ready), "application/json");
    res.status = ready ? 200 : 503;
  });

  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string out;
    auto counter = [&](const char* name, const char* help, int64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
             std::to_string(v) + "\n";
    };
    if (notify_) out += notify_->MetricsText();
    counter("gpuledger_remote_write_requests_total", "Remote write requests received.",
            counters_.write_requests);
    counter("gpuledger_remote_write_rejected_total", "Remote write requests refused (4xx/5xx).",
            counters_.write_rejected);
    counter("gpuledger_samples_written_total", "GPU samples stored from remote write.",
            counters_.samples_written);
    counter("gpuledger_gpus_registered_total", "GPUs registered from remote write labels.",
            counters_.gpus_registered);
    counter("gpuledger_report_requests_total", "Report requests served.", counters_.report_requests);
    counter("gpuledger_books_cache_hits_total",
            "Reads of a month in progress answered from the books kept since the last change.",
            static_cast<int64_t>(books_.hits()));
    counter("gpuledger_books_open_hour_samples_total",
            "Samples fed to the kept meters of the hour holding as-of (each read feeds what arrived since "
            "the last).",
            books_.open_hour_samples());
    counter("gpuledger_books_open_hour_restarts_total",
            "Times a GPU's open hour was metered afresh (first read, a new hour, or a change before its last "
            "sample).",
            books_.open_hour_restarts());
    counter("gpuledger_books_closed_part_reuses_total",
            "Reads of a month in progress that composed the open hour onto the part before it kept since "
            "the last read (no change touched it).",
            books_.closed_part_reuses());
    counter("gpuledger_scrapes_total", "dcgm-exporter scrapes attempted (scrape mode).", counters_.scrapes);
    counter("gpuledger_scrape_errors_total", "Scrapes that stored nothing.", counters_.scrape_errors);
    counter("gpuledger_label_allocations_total", "Allocations made or extended from workload labels.",
            counters_.label_allocations);
    counter("gpuledger_label_conflicts_total", "Workload labels that yielded to another job's allocation.",
            counters_.label_conflicts);
    counter("gpuledger_requests_denied_total", "Requests refused for credentials or role.", counters_.denied);
    counter("gpuledger_auth_failures_total", "Requests refused 401: no, unknown, revoked or expired token.",
            counters_.auth_failures);
    counter("gpuledger_auth_throttled_total",
            "Requests refused 429: their address failed authentication too often.", counters_.auth_throttled);
    counter("gpuledger_audit_errors_total", "Audit log entries that could not be written.",
            counters_.audit_errors);
    counter("gpuledger_access_log_errors_total", "Access log lines that could not be written.",
            counters_.access_log_errors);
    counter("gpuledger_token_touch_errors_total", "Token last-used times that could not be written.",
            counters_.token_touch_errors);
    counter("gpuledger_retention_dropped_samples_total", "Raw samples dropped by retention from the ledger.",
            counters_.retention_samples_dropped);
    counter("gpuledger_retention_errors_total", "Retention runs that failed.", counters_.retention_errors);
    counter("gpuledger_epochs_received_total", "Training epochs received (progress API).",
            counters_.epochs_received);
    counter("gpuledger_sighting_errors_total", "Label sighting writes that failed (retried).",
            counters_.sighting_errors);
    counter("gpuledger_journal_flushes_total", "Ingest journal writes to the ledger (one transaction each).",
            counters_.journal_flushes);
    counter("gpuledger_journal_flush_errors_total",
            "Ingest journal writes to the ledger that failed (retried).", counters_.journal_flush_errors);
    counter("gpuledger_journal_replayed_samples_total", "Samples replayed from the journal at start.",
            counters_.journal_replayed);
    const SegmentLogCounters damage = journal_ ? journal_->damage() : SegmentLogCounters{};
    counter("gpuledger_journal_corrupt_frames_total",
            "Damaged journal frames skipped at replay (adjacent ones count once).", damage.corrupt_regions);
    counter("gpuledger_journal_corrupt_bytes_total", "Bytes of damaged journal frames skipped at replay.",
            damage.corrupt_bytes);
    counter("gpuledger_journal_torn_tails_total", "Journal segments ending in an append cut short (a crash).",
            damage.torn_tails);
    const HttpFrontCounters& front = http_->counters();
    counter("gpuledger_http_connections_refused_total", "Connections refused over the connection caps.",
            front.connections_refused);
    counter("gpuledger_http_head_timeouts_total", "Request heads not complete within their deadline.",
            front.head_timeouts);
    counter("gpuledger_http_body_timeouts_total", "Request bodies not complete within their deadline.",
            front.body_timeouts);
    counter("gpuledger_http_bodies_too_large_total", "Request bodies refused over --max-body.",
            front.bodies_too_large);
    counter("gpuledger_http_encodings_refused_total", "Requests refused for their Content-Encoding.",
            front.encodings_refused);
    counter("gpuledger_http_tls_handshake_timeouts_total", "TLS handshakes not done by the head deadline.",
            front.tls_handshake_timeouts);
    counter("gpuledger_http_tls_handshake_failures_total", "TLS handshakes that failed.",
            front.tls_handshake_failures);
    counter("gpuledger_http_plain_http_on_tls_total", "Plain HTTP requests sent to the TLS port (400).",
            front.plain_http_on_tls);
    {
      // The database's reachability as the ledger last saw it (no round trip here).
      const LedgerHealth db = ledger_unlocked_->Health();
      out += std::string(
                 "# HELP gpuledger_database_up Whether the ledger's database answered at its last use.\n"
                 "# TYPE gpuledger_database_up gauge\ngpuledger_database_up ") +
             (db.reachable ? "1" : "0") + "\n";
      counter("gpuledger_database_connections_lost_total", "Database connections found broken (PostgreSQL).",
              db.losses);
      counter("gpuledger_database_reconnects_total", "Database connections made again after a loss.",
              db.reconnects);
      counter("gpuledger_database_retries_total",
              "Ledger calls run again on a new connection after a loss (nothing had committed).", db.retries);
    }
    if (auto flags = books_.NewestEnergyFlags()) {
      out +=
          "# HELP gpuledger_books_energy_flags Sample intervals whose energy was a counter dip or over the "
          "power bound (docs/METERING.md), summed over the lines of the month in progress as of its latest "
          "read; an interval on a shared GPU counts on each holder's line.\n"
          "# TYPE gpuledger_books_energy_flags gauge\ngpuledger_books_energy_flags{month=\"" +
          flags->month.ToString() + "\"} " + std::to_string(flags->energy_flags) + "\n";
    }
    {
      out +=
          "# HELP gpuledger_journal_pending_samples Acknowledged samples not yet written to the ledger.\n"
          "# TYPE gpuledger_journal_pending_samples gauge\ngpuledger_journal_pending_samples " +
          std::to_string(journal_ ? journal_->pending() : 0) + "\n";
    }
    if (options_.held_without_samples_after_ms > 0) {
      // Billed but silent: a job holds the GPU and no sample has come for a while.
      auto silent = HeldGpusWithoutSamples();
      out += "# HELP gpuledger_held_gpus_without_samples GPUs held by a job for at least " +
             std::to_string(options_.held_without_samples_after_ms / kSecondMs) +
             " s with no sample in that time.\n" + "# TYPE gpuledger_held_gpus_without_samples gauge\n";
      if (silent.ok()) {  // else no value: the ledger could not say
        out += "gpuledger_held_gpus_without_samples " + std::to_string(silent->size()) + "\n";
      }
    }
    res.set_content(out, "text/plain; version=0.0.4");
  });

  // Prometheus remote write 1.0 and 2.0.
  http_->Post("/api/v1/write", [this, authenticate, require](const httplib::Request& req,
                                                             httplib::Response& res) {
    ++counters_.write_requests;
    auto p = authenticate(req, res);
    if (!p || !require(req, *p, {Role::kIngest, Role::kAdmin}, res)) {
      ++counters_.write_rejected;
      return;
    }
    std::string type;  // compared without spaces and case: "application/x-protobuf; proto=..." is the same
    for (char c : req.get_header_value("Content-Type")) {
      if (c != ' ' && c != '\t') type += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const std::string encoding = req.get_header_value("Content-Encoding");
    bool v2 = false;
    if (type == "application/x-protobuf" || type == "application/x-protobuf;proto=prometheus.writerequest") {
      v2 = false;
    } else if (type == "application/x-protobuf;proto=io.prometheus.write.v2.request") {
      v2 = true;
    } else {
      Reply(res, InvalidArgument("unsupported Content-Type '" + type +
                                 "': send application/x-protobuf;proto=prometheus.WriteRequest or "
                                 "application/x-protobuf;proto=io.prometheus.write.v2.Request"));
      res.status = 415;
      ++counters_.write_rejected;
      return;
    }
    if (!encoding.empty() && encoding != "snappy") {
      Reply(res, InvalidArgument("unsupported Content-Encoding '" + encoding + "': send snappy"));
      res.status = 415;
      ++counters_.write_rejected;
      return;
    }
    auto fail = [&](const Status& s) {
      Reply(res, s);
      ++counters_.write_rejected;
    };
    auto raw = SnappyUncompress(req.body, options_.max_decoded_body_bytes);
    if (!raw.ok()) return fail(raw.status());
    auto batch = v2 ? DecodeRemoteWriteV2(std::move(raw).value())
                    : DecodeRemoteWriteV1(std::move(raw).value(), &series_);
    if (!batch.ok()) return fail(batch.status());
    auto gpus = SamplesFromDcgm(batch->series);
    if (!gpus.ok()) return fail(gpus.status());
    if (Status s = Store(std::move(gpus).value()); !s.ok()) return fail(s);
    if (v2) {
      res.set_header("X-Prometheus-Remote-Write-Samples-Written", std::to_string(batch->samples));
      res.set_header("X-Prometheus-Remote-Write-Histograms-Written", "0");
      res.set_header("X-Prometheus-Remote-Write-Exemplars-Written", "0");
    }
    res.status = 204;
  });

  // Register (or update) a job and its GPU allocations.
  http_->Post("/api/v1/jobs",
              [this, authenticate, require](const httplib::Request& req, httplib::Response& res) {
                auto p = authenticate(req, res);
                if (!p || !require(req, *p, {Role::kIngest, Role::kAdmin}, res)) return;
                if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
                auto parsed = ParseJobJson(req.body);
                if (!parsed.ok()) return Reply(res, parsed.status());
                Job job = parsed->job;
                const std::vector<Allocation>& allocs = parsed->allocations;
                MutexLock lock(ledger_mu_);
                if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // its sightings too
                label_jobs_.Clear();  // the new job may be what a label names
                if (Status s = sightings_.Flush(*ledger_, clock_.Now()); !s.ok())
                  return Reply(res, s);  // it reads them
                // The job, its allocations and the claims its labels make: one unit of work,
                // so a refused registration (an unknown GPU, an over-allocation) stores nothing.
                AttributionStats stats;
                TagVerdict tag;
                std::vector<std::string> warnings;
                Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
                  warnings.clear();
                  // A paused job's resumed run registering under its id runs in it again.
                  if (!IsFinished(job.status) && job.end_ms == 0) {
                    ASSIGN_OR_RETURN(bool again, RunPausedJobAgain(*ledger_, job.id, clock_.Now()));
                    if (again) job.start_ms = 0;  // the job keeps its first start
                  }
                  ASSIGN_OR_RETURN(std::optional<Job> before, ledger_->GetJob(job.id));
                  ASSIGN_OR_RETURN(job, MergeRegistration(before, std::move(job), &warnings));
                  // The image-tag policy: enforce refuses only a new job not yet running (a
                  // running job, as the agent registers it, is warned about, never refused).
                  tag = CheckImageTag(options_.policy.ImageTagFor(job.project), job);
                  if (tag.refused() && !before && job.start_ms == 0 && job.status == JobStatus::kPending)
                    return tag.ToStatus();
                  RETURN_IF_ERROR(ledger_->PutJobs({job}));
                  RETURN_IF_ERROR(ledger_->PutAllocations(allocs));
                  RETURN_IF_ERROR(AttributeNewJob(*ledger_, job, interval_ms_, &stats));
                  // The warnings are kept in the audit log, where an operator reads them:
                  // the agent, which registers running jobs, does not read its answers.
                  for (const TagViolation& v : tag.violations) warnings.push_back(v.message);
                  std::string detail = "job=" + job.id + " allocations=" + std::to_string(allocs.size()) +
                                       ExemptionAuditNote(job.labels);
                  for (const std::string& w : warnings) detail += " warning=\"" + w + "\"";
                  return AuditLocked(req, &*p, 201, "POST /api/v1/jobs", detail);
                });
                if (!stored.ok()) return Reply(res, stored);
                counters_.label_allocations += stats.allocations;
                counters_.label_conflicts += stats.conflicts;
                res.status = 201;
                nlohmann::json out = {{"id", job.id}, {"allocations", allocs.size()}};
                for (const std::string& w : warnings) out["warnings"].push_back(w);
                res.set_content(out.dump() + "\n", "application/json");
              });

  // Register GPUs with what remote write labels lack: memory and sample interval (the
  // node agent, at its first sight of each GPU). Updates what a registration names on
  // known GPUs (gpu_registration.h).
  http_->Post("/api/v1/gpus", [this, authenticate, require](const httplib::Request& req,
                                                            httplib::Response& res) {
    auto p = authenticate(req, res);
    if (!p || !require(req, *p, {Role::kIngest, Role::kAdmin}, res)) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    auto incoming = ParseGpuRegistrationJson(req.body, clock_.Now());
    if (!incoming.ok()) return Reply(res, incoming.status());
    MutexLock lock(ledger_mu_);
    // GPUs first seen by remote write wait in the journal: the merge starts from them.
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);
    // The read the merge starts from and the write: one unit of work, so a second server
    // on the same PostgreSQL cannot register between them and have its fields overwritten.
    std::vector<Gpu> merged;
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      merged.clear();
      ASSIGN_OR_RETURN(std::vector<Gpu> known, ledger_->ListGpus());
      for (const GpuRegistration& g : *incoming) {
        auto it = std::find_if(known.begin(), known.end(), [&](const Gpu& k) { return k.uuid == g.gpu.uuid; });
        merged.push_back(MergeGpuRegistration(it == known.end() ? std::nullopt : std::optional<Gpu>(*it), g));
      }
      return ledger_->PutGpus(merged);
    });
    if (!stored.ok()) return Reply(res, stored);
    {
      MutexLock ingest(ingest_mu_);
      for (const Gpu& g : merged) known_gpus_.insert(g.uuid);
    }
    res.set_content(nlohmann::json{{"registered", merged.size()}}.dump() + "\n", "application/json");
  });

  // Per-epoch training progress (the agent's results.csv follower, the Python callback).
  // The answer says whether someone asked the job to stop.
  http_->Post(R"(/api/v1/jobs/([^/]+)/progress)",
              [this, authenticate, require](const httplib::Request& req, httplib::Response& res) {
                auto p = authenticate(req, res);
                if (!p || !require(req, *p, {Role::kIngest, Role::kAdmin}, res)) return;
                const std::string id = req.matches[1];
                if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
                if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
                auto epochs = ParseProgressJson(req.body);
                if (!epochs.ok()) return Reply(res, epochs.status());
                [&] {
                  MutexLock lock(ledger_mu_);
                  // The epochs and the job's start (a pending one's, or a paused one's
                  // resumed run): one unit of work.
                  Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
                    RETURN_IF_ERROR(ledger_->PutProgress(id, *epochs));
                    return StartJobAtProgressLocked(id);
                  });
                  if (!stored.ok()) return Reply(res, stored);
                  // The policies that act (#13), so a pause decided now is answered now.
                  EvaluatePoliciesLocked({id}, /*throttled=*/false);
                  auto stop = ledger_->GetStopRequest(id);
                  if (!stop.ok()) return Reply(res, stop.status());
                  counters_.epochs_received += static_cast<int64_t>(epochs->size());
                  nlohmann::json out = {{"stored", epochs->size()}, {"stop", stop->has_value()}};
                  if (stop->has_value()) {
                    out["reason"] = (*stop)->reason;
                    out["kind"] = (*stop)->kind;  // "stop" | "pause" (the Python client resumes a pause)
                  }
                  res.set_content(out.dump() + "\n", "application/json");
                }();
                RunPendingPauses();  // a launcher's pause decided now, asked without the lock
              });

  // Ask a job to stop after its current epoch (users: their project's jobs; department
  // admins: their department's; admins: all). Audited.
  http_->Post(R"(/api/v1/jobs/([^/]+)/stop)", [this, authenticate, job_reader](const httplib::Request& req,
                                                                               httplib::Response& res) {
    auto p = authenticate(req, res);
    if (!p) return;
    if (!job_reader(req, *p, res, "stops no jobs")) return;
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    std::string reason;
    if (!req.body.empty()) {
      const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object() || (body.contains("reason") && !body["reason"].is_string()) ||
          body.size() > (body.contains("reason") ? 1u : 0u)) {
        return Reply(res, InvalidArgument(R"(send {"reason": "..."} or no body)"));
      }
      if (body.contains("reason")) reason = body["reason"].get<std::string>();
      if (reason.size() > 1000)
        return Reply(res, InvalidArgument("reason of " + std::to_string(reason.size()) +
                                          " bytes exceeds the limit 1000 bytes"));
    }
    MutexLock lock(ledger_mu_);
    auto found = ledger_->GetJob(id);
    if (!found.ok()) return Reply(res, found.status());
    if (!*found || !CanSeeJob(*p, **found)) return Reply(res, NotFound("no job '" + id + "'"));
    if (IsFinished((*found)->status)) {
      return Reply(res,
                   FailedPrecondition("job '" + id + "' is " + std::string(JobStatusName((*found)->status)) +
                                      ": a finished job has nothing to stop"));
    }
    // The audit entry and the request: one unit of work (no audit, no stop).
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      RETURN_IF_ERROR(AuditLocked(req, &*p, 202, "POST /api/v1/jobs/{id}/stop", "job=" + id));
      return ledger_->PutStopRequest({id, clock_.Now(), p->token_id, reason});
    });
    if (!stored.ok()) return Reply(res, stored);
    res.status = 202;
    res.set_content(nlohmann::json{{"id", id}, {"stop", true}}.dump() + "\n", "application/json");
  });

  // Withdraw a job's stop request, so a re-run is not stopped by the old one (the roles
  // that may ask for a stop; 404 when there is none). Audited.
  http_->Delete(R"(/api/v1/jobs/([^/]+)/stop)", [this, authenticate, job_reader](const httplib::Request& req,
                                                                                 httplib::Response& res) {
    auto p = authenticate(req, res);
    if (!p) return;
    if (!job_reader(req, *p, res, "withdraws no stop requests")) return;
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto found = ledger_->GetJob(id);
    if (!found.ok()) return Reply(res, found.status());
    if (!*found || !CanSeeJob(*p, **found)) return Reply(res, NotFound("no job '" + id + "'"));
    bool withdrawn = false;
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      ASSIGN_OR_RETURN(withdrawn, ledger_->DeleteStopRequest(id));
      if (!withdrawn) return NotFound("job '" + id + "' has no stop request to withdraw");
      return AuditLocked(req, &*p, 200, "DELETE /api/v1/jobs/{id}/stop", "job=" + id);
    });
    if (!stored.ok()) return Reply(res, stored);
    res.set_content(nlohmann::json{{"id", id}, {"stop", false}}.dump() + "\n", "application/json");
  });

  // End or correct a job (job_update.h has the rules): ingest tokens (what ran the job:
  // the Python callback, the agent) and admins; only admins correct a finished job's
  // status, start or end. Users and department admins ask for a stop instead: a job's end
  // ends its billing, so it is recorded by what ran it. Audited.
  http_->Patch(
      R"(/api/v1/jobs/([^/]+))", [this, authenticate](const httplib::Request& req, httplib::Response& res) {
        auto p = authenticate(req, res);
        if (!p) return;
        if (p->role != Role::kIngest && p->role != Role::kAdmin) {
          return Deny(req, res, *p,
                      PermissionDenied("role " + std::string(RoleName(p->role)) +
                                       " may not end or correct jobs (ingest and admin tokens do); "
                                       "ask for a stop with POST /api/v1/jobs/{id}/stop"));
        }
        const std::string id = req.matches[1];
        if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
        if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
        auto update = ParseJobUpdateJson(req.body);
        if (!update.ok()) return Reply(res, update.status());
        MutexLock lock(ledger_mu_);
        StatusOr<JobUpdateResult> done = Internal("job update did not run");
        Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
          done = UpdateJob(*ledger_, id, *update, /*correct_finished=*/p->role == Role::kAdmin, clock_.Now());
          RETURN_IF_ERROR(done.status());
          return AuditLocked(req, &*p, 200, "PATCH /api/v1/jobs/{id}",
                             "job=" + id + " status=" + std::string(JobStatusName(done->job.status)) +
                                 (done->job.end_ms ? " end=" + FormatTime(done->job.end_ms) : ""));
        });
        if (!stored.ok()) return Reply(res, stored);
        label_jobs_.Clear();  // label claims read the job's end from here on
        nlohmann::json out = {{"id", id},
                              {"status", std::string(JobStatusName(done->job.status))},
                              {"allocations_ended", done->allocations_ended}};
        if (done->job.start_ms) out["start"] = FormatTime(done->job.start_ms);
        if (done->job.end_ms) out["end"] = FormatTime(done->job.end_ms);
        res.set_content(out.dump() + "\n", "application/json");
      });

  // One job with its metrics and cost so far. Users see their project's jobs, department
  // admins their department's; finance sees no job names; every read audited.
  http_->Get(R"(/api/v1/jobs/([^/]+))",
             [this, authenticate, job_reader](const httplib::Request& req, httplib::Response& res) {
               auto p = authenticate(req, res);
               if (!p) return;
               if (!job_reader(req, *p, res, "reads no single jobs")) return;
               const std::string id = req.matches[1];
               if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
               if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
               MutexLock lock(ledger_mu_);
               auto found = ledger_->GetJob(id);
               if (!found.ok()) return Reply(res, found.status());
               const std::optional<Job>& job = *found;
               // Out of scope reads as absent: a user learns nothing of other projects' jobs.
               if (!job || !CanSeeJob(*p, *job)) return Reply(res, NotFound("no job '" + id + "'"));
               auto ctx = LoadBooksContext(*ledger_);
               if (!ctx.ok()) return Reply(res, ctx.status());
               ctx->cache = &books_;
               ctx->held_without_samples_after_ms = options_.held_without_samples_after_ms;
               auto summary = BuildJobSummary(*ledger_, *ctx, *job, BooksAsOf(*ctx, std::nullopt));
               if (!summary.ok()) return Reply(res, summary.status());
               Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/jobs/{id}", "job=" + id);
               if (!audited.ok()) return Reply(res, audited);
               // A submitted job's estimate, beside its actual cost (docs/ESTIMATE.md).
               auto estimate = ledger_->GetEstimate(id);
               if (!estimate.ok()) return Reply(res, estimate.status());
               // Key order and layout as the summary renders them.
               nlohmann::ordered_json view = nlohmann::ordered_json::parse(RenderJobSummaryJson(*summary));
               if (*estimate) {
                 view["estimate"] = nlohmann::ordered_json::parse((*estimate)->detail, nullptr, false);
                 view["estimate"]["made"] = FormatTime((*estimate)->made_ms);
               }
               // Submitted, the queue wait, and the estimate against the actual cost.
               const nlohmann::ordered_json submitted = nlohmann::ordered_json::parse(
                   SubmissionViewJson(*job, *estimate, summary->cost_micros, summary->currency));
               for (auto it = submitted.begin(); it != submitted.end(); ++it) view[it.key()] = it.value();
               // Its policy decisions and paused intervals (#13, policy_routes.cc).
               auto policy = JobPolicyJsonLocked(id);
               if (!policy.ok()) return Reply(res, policy.status());
               view["policy"] = nlohmann::ordered_json::parse(*policy);
               // Its image tag against the tag policy in force now (a job registered in warn
               // mode, or by the agent, keeps its warnings in view).
               if (!job->image().empty()) {
                 const TagVerdict tag = CheckImageTag(options_.policy.ImageTagFor(job->project), *job);
                 nlohmann::ordered_json broken = nlohmann::ordered_json::array();
                 for (const TagViolation& v : tag.violations) broken.push_back(v.message);
                 view["image_tag"] = {{"mode", PolicyModeName(tag.mode)}, {"violations", broken}};
               }
               res.set_content(view.dump(2) + "\n", "application/json");
             });

  // Raw series for charts: ?job=ID (as GET /api/v1/jobs/{id} is scoped) or ?gpu=UUID
  // (admins: a GPU's series spans every project that used it); from/to optional.
  http_->Get("/api/v1/series", [this, authenticate, job_reader](const httplib::Request& req,
                                                                httplib::Response& res) {
    auto p = authenticate(req, res);
    if (!p) return;
    if (!job_reader(req, *p, res, "reads no series")) return;
    if (Status s = OnlyParams(req, {"job", "gpu", "from", "to"}); !s.ok()) return Reply(res, s);
    const bool by_job = req.has_param("job");
    if (by_job == req.has_param("gpu"))
      return Reply(res, InvalidArgument("give exactly one of ?job= and ?gpu="));
    if (Status s = by_job ? CheckId(IdKind::kJobId, req.get_param_value("job"))
                          : CheckId(IdKind::kGpuUuid, req.get_param_value("gpu"));
        !s.ok())
      return Reply(res, s);
    const TimeMs now = clock_.Now();
    auto from = TimeParam(req, "from", by_job ? kMinTimeMs : now - kDayMs);
    if (!from.ok()) return Reply(res, from.status());
    auto to = TimeParam(req, "to", now + 1);
    if (!to.ok()) return Reply(res, to.status());
    if (*from >= *to)
      return Reply(res,
                   InvalidArgument("from " + FormatTime(*from) + " is not before to " + FormatTime(*to)));
    std::vector<SeriesPart> parts;
    std::string job_id;
    if (!by_job) {
      if (p->role != Role::kAdmin) {
        return Deny(req, res, *p,
                    PermissionDenied("only admins read a GPU's series; ask for a job's (?job=)"));
      }
      const std::string uuid = req.get_param_value("gpu");
      MutexLock lock(ledger_mu_);
      if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // a GPU new in it too
      auto gpus = ledger_->ListGpus();
      if (!gpus.ok()) return Reply(res, gpus.status());
      if (std::none_of(gpus->begin(), gpus->end(), [&](const Gpu& g) { return g.uuid == uuid; }))
        return Reply(res, NotFound("no GPU '" + uuid + "'"));
      parts.push_back({uuid, {*from, *to}, kFullShare, {}});
    } else {
      job_id = req.get_param_value("job");
      MutexLock lock(ledger_mu_);
      auto found = ledger_->GetJob(job_id);
      if (!found.ok()) return Reply(res, found.status());
      if (!*found || !CanSeeJob(*p, **found)) return Reply(res, NotFound("no job '" + job_id + "'"));
      auto allocs = ledger_->AllocationsOverlapping({*from, *to});
      if (!allocs.ok()) return Reply(res, allocs.status());
      for (const Allocation& a : *allocs) {
        if (a.job_id != job_id) continue;
        const Window w = a.window();
        parts.push_back({a.gpu_uuid, {std::max(w.start, *from), std::min(w.end, *to)}, a.share_ppm, {}});
      }
    }
    MutexLock lock(ledger_mu_);
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // read what was acknowledged
    if (Status s = ReadSeries(*ledger_, parts); !s.ok()) return Reply(res, s);
    const std::string span = " from=" + FormatTime(*from) + " to=" + FormatTime(*to);
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/series",
                                 (by_job ? "job=" + job_id : "gpu=" + req.get_param_value("gpu")) + span);
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    res.set_content(RenderSeriesJson(job_id, parts, now, *to), "application/json");
  });

  SubmissionRoutes();
  MemoryRoutes();
  BudgetRoutes();
  MonthRoutes();
  AdminRoutes();
  WebRoutes();
  ListRoutes();
  PolicyRoutes();
  InsightRoutes();
  DigestRoutes();
}

}  // namespace gpuledger
