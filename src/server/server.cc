// The server's life cycle: start and stop, storing remote-written batches, the scrape
// loop and the maintenance loop (sightings, retention, digests, statements). Routes: routes.cc.
#include "server/server.h"

#include <httplib.h>

#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "books/retention.h"
#include "domain/ids.h"
#include "ingest/dcgm.h"
#include "notify/notify_service.h"
#include "report/silent_holds.h"
#include "ledger/checks.h"
#include "server/http_front.h"
#include "server/job_update.h"
#include "server/cooperative_controller.h"

namespace gpuledger {

Server::Server(std::unique_ptr<Ledger> ledger, const Clock& clock, ServerOptions options, FileSystem* fs)
    : ledger_(std::move(ledger)),
      ledger_unlocked_(ledger_.get()),
      clock_(clock),
      options_(std::move(options)),
      throttle_(options_.auth_throttle) {
  policy_rules_ = options_.policy_rules;
  cooperative_ = std::make_unique<CooperativeController>(*ledger_, clock_);
  if (fs == nullptr) {
    own_fs_ = std::make_unique<PosixFileSystem>();
    fs = own_fs_.get();
  }
  fs_ = fs;
}

Server::~Server() { Stop(); }

Status Server::Start() {
  // Notifications first: the journal replay below may flush samples whose policy and
  // budget decisions must reach the outbox (a cause is decided, and told, once).
  if (!options_.notify_config.empty()) {
    // The sink writes through the server's Ledger (callers hold ledger_mu_); the sender's
    // thread takes ledger_mu_ around each ledger call, never while it sends.
    MutexLock lock(ledger_mu_);
    ASSIGN_OR_RETURN(notify_, NotifyService::Start(
                                  options_.notify_config, *ledger_,
                                  [this](const std::function<Status(Ledger&)>& work) {
                                    MutexLock l(ledger_mu_);
                                    return work(*ledger_);
                                  },
                                  clock_, &log_));
  }
  {
    // Read once: the ingest path should not query settings per request (a changed
    // default interval takes effect at the next start).
    MutexLock lock(ledger_mu_);
    ASSIGN_OR_RETURN(LedgerSettings settings, ledger_->GetSettings());
    interval_ms_ = settings.default_interval_ms;
    RequeueLeftOverPausesLocked();  // a crash between a pause's intent and its answer
    if (!options_.journal_dir.empty()) {
      // What an earlier run acknowledged but had not written to the ledger (a crash).
      ASSIGN_OR_RETURN(journal_,
                       IngestJournal::Open(*fs_, options_.journal_dir, options_.journal_max_pending_samples,
                                           &journal_reporter_));
      const size_t replayed = journal_->pending();
      counters_.journal_replayed += static_cast<int64_t>(replayed);
      if (replayed > 0 || journal_->damage().corrupt_regions > 0) {
        const SegmentLogCounters d = journal_->damage();
        log_.Info("journal_replayed", {{"samples", replayed},
                                       {"corrupt_frames", d.corrupt_regions},
                                       {"corrupt_bytes", d.corrupt_bytes},
                                       {"torn_tails", d.torn_tails}});
      }
      RETURN_IF_ERROR(FlushJournalLocked());
    }
  }
  RETURN_IF_ERROR(Retain());
  scrape_logs_.clear();
  for (const std::string& t : options_.scrape_targets) {
    if (t.rfind("http://", 0) != 0 || t.size() <= 7) {
      return InvalidArgument("scrape target '" + t +
                             "' is not http://host:port/path (https is not supported)");
    }
    scrape_logs_.push_back(
        std::make_unique<FailureLog>(log_, "scrape", std::vector<LogField>{{"target", t}}));
  }
  http_ = std::make_unique<HttpFront>(FrontOptionsOf(options_));
  if (!options_.access_log.empty()) {
    ASSIGN_OR_RETURN(access_log_, AccessLog::Open(options_.access_log));
    InstallAccessLog();
  }
  Routes();
  http_->set_admit(
      [this](const httplib::Request& req, httplib::Response& verdict) { return Admit(req, verdict); });
  RETURN_IF_ERROR(http_->Start());
  port_ = http_->port();
  if (!options_.scrape_targets.empty()) scraper_ = std::thread([this] { ScrapeLoop(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  if (journal_) writer_ = std::thread([this] { WriterLoop(); });
  return OkStatus();
}

HttpFrontOptions FrontOptionsOf(const ServerOptions& o) {
  HttpFrontOptions front;
  front.host = o.host;
  front.port = o.port;
  front.max_body_bytes = o.max_body_bytes;
  front.head_timeout_ms = o.head_timeout_ms;
  front.body_timeout_ms = o.body_timeout_ms;
  front.idle_timeout_ms = o.idle_timeout_ms;
  front.write_timeout_ms = o.read_timeout_s * 1000;
  front.max_connections = o.max_connections;
  front.max_connections_per_client = o.max_connections_per_client;
  front.keep_alive_max_requests = o.keep_alive_max_requests;
  front.worker_threads = o.http_workers;
  front.trusted_proxies = o.trusted_proxies;
  front.tls_cert_file = o.tls_cert_file;
  front.tls_key_file = o.tls_key_file;
  return front;
}

void Server::Stop() {
  {
    MutexLock lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (scraper_.joinable()) scraper_.join();
  if (maintenance_.joinable()) maintenance_.join();
  if (notify_) notify_->Stop();
  if (http_) http_->Stop();
  if (writer_.joinable()) writer_.join();
  // Everything acknowledged goes to the ledger (if this fails, the next start replays it).
  if (Status s = FlushJournal(); !s.ok()) {
    ++counters_.journal_flush_errors;
    log_.Error("journal_final_flush_failed",
               {{"pending", journal_ ? journal_->pending() : 0}, {"status", s}});
  }
  if (Status s = FlushSightings(); !s.ok()) {
    ++counters_.sighting_errors;
    log_.Error("sightings_final_flush_failed", {{"status", s}});
  }
}

void BackgroundErrors::Record(const std::string& task, const Status& s, TimeMs now) {
  MutexLock lock(mu_);
  if (s.ok()) {
    if (auto it = last_.find(task); it != last_.end()) it->second.failing = false;
    return;
  }
  Entry& e = last_[task];
  e.status = s;
  e.at_ms = now;
  ++e.count;
  e.failing = true;
}

std::vector<std::pair<std::string, BackgroundErrors::Entry>> BackgroundErrors::Get() const {
  MutexLock lock(mu_);
  return {last_.begin(), last_.end()};
}

NoticeSink* Server::notice_sink() { return notify_ ? &notify_->sink() : nullptr; }

Status Server::EnqueueNotice(const Notice& n) {
  if (!notify_) return FailedPrecondition("notifications are off: the server was started without --notify");
  MutexLock lock(ledger_mu_);
  return notify_->sink().Enqueue(n);
}

size_t Server::open_connections() const { return http_ ? http_->open_connections() : 0; }

Status Server::FlushSightings() {
  MutexLock lock(ledger_mu_);
  DrainSightings();
  Status s = sightings_.Flush(*ledger_, clock_.Now());
  sightings_log_.Record(s);
  background_errors_.Record("sightings", s, clock_.Now());
  return s;
}

TimeMs Server::BooksAsOf(const BooksContext& ctx, std::optional<YearMonth> month) const {
  const TimeMs now = clock_.Now();
  if (options_.books_read_grain_ms <= 0) return now;
  const TimeMs floored = FloorTo(now, options_.books_read_grain_ms);
  if (month) {
    auto w = ctx.tz.MonthWindow(*month);
    if (w.ok() && floored <= w->start && now > w->start) return now;
  }
  return floored;
}

bool Server::WaitForStop(DurationMs ms) {
  MutexLock lock(stop_mu_);
  return clock_.WaitFor(stop_mu_, stop_cv_, ms, [this]() GL_REQUIRES(stop_mu_) { return stopping_; });
}

void Server::WriterLoop() {
  for (;;) {
    {
      // Every interval, or sooner when Store finds the journal holding a lot.
      MutexLock lock(stop_mu_);
      clock_.WaitFor(stop_mu_, stop_cv_, options_.journal_flush_interval_ms,
                     [this]() GL_REQUIRES(stop_mu_) { return stopping_ || flush_soon_; });
      if (stopping_) return;
      flush_soon_ = false;
    }
    if (!FlushJournal().ok()) ++counters_.journal_flush_errors;  // kept; retried next round (logged)
  }
}

Status Server::FlushJournal() {
  Status s = [&] {
    MutexLock lock(ledger_mu_);
    return FlushJournalLocked();
  }();
  RunPendingPauses();  // the launchers of pauses this flush decided, without the lock
  return s;
}

Status Server::FlushJournalLocked() {
  if (!journal_) return OkStatus();
  // Whoever flushes (the writer, a read, retention, Stop): logged once per cause.
  Status s = [&]() GL_REQUIRES(ledger_mu_) -> Status {
    // Sightings first: each was queued after its samples were appended, so these samples
    // are all in the Take below.
    DrainSightings();
    if (journal_->pending() > 0 && !ledger_->Health().reachable) {
      // The ledger is away: ask it (an immediate refusal while its reconnect backs off)
      // before taking and merging what may be millions of samples only to put them back.
      RETURN_IF_ERROR(ledger_->Ping());
    }
    IngestJournal::Taken taken = journal_->Take();
    if (!taken.samples.empty() || !taken.gpus.empty()) {
      int64_t registered = 0;
      Status put = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
        ASSIGN_OR_RETURN(registered, RegisterGpusLocked(taken.gpus));  // the GPUs the samples name first
        return ledger_->PutSamples(taken.samples);
      });
      if (!put.ok()) {
        journal_->Restore(std::move(taken));
        return put;
      }
      ++counters_.journal_flushes;
      counters_.gpus_registered += registered;
      NoteKnownGpus(taken.gpus);  // in the ledger now: later batches need not carry them
    }
    RETURN_IF_ERROR(journal_->Release(taken));
    // The sightings of what was just written, and any an earlier round failed to write.
    RETURN_IF_ERROR(Attribute());
    StartPendingJobsLocked(taken.samples);
    if (!taken.samples.empty()) WatchBudgetsLocked();  // budget_routes.cc
    EvaluatePoliciesForSamplesLocked(taken.samples);  // the policies that act (#13)
    return OkStatus();
  }();
  flush_log_.Record(s);
  background_errors_.Record("journal_flush", s, clock_.Now());
  return s;
}

void Server::MaintenanceLoop() {
  TimeMs last_retention = clock_.Now();  // Start applied it
  while (!WaitForStop(kMinuteMs)) {
    if (!FlushSightings().ok()) ++counters_.sighting_errors;  // logged by FlushSightings
    RunPendingPauses();  // any decided by a flush that a read or retention made
    RunDigestIfDue();    // the low-efficiency digest, once per period (policy/digest.h)
    (void)SendStatementsIfDue();  // last month's statements, once (logged and kept for /healthz)
    if (clock_.Now() - last_retention >= kHourMs) {
      last_retention = clock_.Now();
      if (!Retain().ok()) ++counters_.retention_errors;  // logged by Retain
    }
  }
}

Status Server::Retain() {
  if (options_.raw_retention_ms <= 0) return OkStatus();
  MutexLock lock(ledger_mu_);
  RETURN_IF_ERROR(FlushJournalLocked());  // the books are built from every acknowledged sample
  StatusOr<RetentionResult> r = [&]() GL_REQUIRES(ledger_mu_) -> StatusOr<RetentionResult> {
    ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger_));
    return ApplyRetention(*ledger_, ctx, clock_.Now(), options_.raw_retention_ms);
  }();
  retention_log_.Record(r.status());
  background_errors_.Record("retention", r.status(), clock_.Now());
  RETURN_IF_ERROR(r.status());
  counters_.retention_samples_dropped += r->samples_dropped;
  if (r->samples_dropped > 0) {
    log_.Info("retention_dropped", {{"samples", r->samples_dropped},
                                    {"cutoff", FormatTime(r->cutoff)},
                                    {"months_built", r->months_built},
                                    {"keep_days", options_.raw_retention_ms / kDayMs}});
  }
  return OkStatus();
}

StatusOr<std::vector<Gpu>> Server::NewGpus(const DcgmBatch& batch) {
  // GPUs come and go rarely: the ledger is asked only when a batch names one this server
  // has neither seen in it nor journaled (or at the first batch).
  auto unknown = [&](bool* ask_ledger) {
    MutexLock lock(ingest_mu_);
    std::vector<Gpu> out;
    for (const DcgmGpu& g : batch.gpus) {
      if (known_gpus_.count(g.labels->uuid)) continue;
      // Journaled and not flushed yet: carried again, as first journaled, so that every
      // frame can be stored on its own (a damaged earlier frame cannot strand these samples).
      auto journaled = journaled_gpus_.find(g.labels->uuid);
      if (journaled != journaled_gpus_.end()) {
        out.push_back(journaled->second);
      } else {
        out.push_back(g.ToGpu());
        if (ask_ledger != nullptr) *ask_ledger = true;
      }
    }
    return out;
  };
  bool ask_ledger = false;
  std::vector<Gpu> fresh = unknown(&ask_ledger);
  if (!ask_ledger) return fresh;
  Status away;  // the ledger could not say which GPUs it holds
  {
    MutexLock lock(ledger_mu_);
    StatusOr<std::vector<Gpu>> known = ledger_->ListGpus();  // perhaps imported meanwhile
    if (!known.ok()) {
      // With a journal that registers GPUs the flush decides what the ledger lacks: a new
      // GPU is taken while the ledger is away, as its known ones are.
      if (!journal_ || !options_.register_gpus || known.status().code() != StatusCode::kUnavailable)
        return known.status();
      away = known.status();
    } else {
      MutexLock ingest(ingest_mu_);
      for (const Gpu& g : *known) {
        known_gpus_.insert(g.uuid);
        journaled_gpus_.erase(g.uuid);
      }
    }
  }
  fresh = unknown(nullptr);
  // What the labels say is stored with the GPU: checked as the ledger will check it, so
  // that nothing journaled can be refused at the flush (and hold the journal back).
  for (const Gpu& g : fresh) {
    Status ok = CheckId(IdKind::kLabelValue, g.node).WithContext("GPU " + g.uuid + " Hostname");
    if (ok.ok()) ok = CheckId(IdKind::kLabelValue, g.model).WithContext("GPU " + g.uuid + " modelName");
    if (ok.ok()) ok = g.Validate();
    if (ok.ok()) continue;
    // While the ledger is away the GPU may be one it holds (whose labels would not be
    // stored): not refused for good, the sender retries once the ledger answers.
    if (!away.ok()) {
      return Unavailable("GPU " + g.uuid + " cannot be checked while the ledger is away (" +
                         std::string(away.message()) +
                         "), and as a new GPU it is refused: " + std::string(ok.message()));
    }
    return ok;
  }
  if (!fresh.empty() && !options_.register_gpus) {
    return NotFound("sample names unknown GPU '" + fresh.front().uuid +
                    "'; import it with `gpuledger import gpus` first");
  }
  return fresh;
}

StatusOr<int64_t> Server::RegisterGpusLocked(const std::vector<Gpu>& gpus) {
  if (gpus.empty()) return 0;
  // Only those still missing: an import or the GPU API may have registered one since,
  // and an upsert would overwrite what it said.
  ASSIGN_OR_RETURN(std::vector<Gpu> known, ledger_->ListGpus());
  std::unordered_set<std::string_view> held;
  for (const Gpu& g : known) held.insert(g.uuid);
  std::vector<Gpu> missing;
  for (const Gpu& g : gpus) {
    if (held.insert(g.uuid).second) missing.push_back(g);
  }
  if (!missing.empty()) RETURN_IF_ERROR(ledger_->PutGpus(missing));
  return static_cast<int64_t>(missing.size());
}

void Server::NoteKnownGpus(const std::vector<Gpu>& gpus) {
  MutexLock ingest(ingest_mu_);
  for (const Gpu& g : gpus) {
    known_gpus_.insert(g.uuid);
    journaled_gpus_.erase(g.uuid);
  }
}

void Server::NoteJournaledGpus(const std::vector<Gpu>& gpus) {
  MutexLock ingest(ingest_mu_);
  for (const Gpu& g : gpus) {
    if (!known_gpus_.count(g.uuid)) journaled_gpus_.try_emplace(g.uuid, g);  // a flush may have been quicker
  }
}

StatusOr<std::vector<std::string>> Server::HeldGpusWithoutSamples() {
  const TimeMs now = clock_.Now();
  MutexLock lock(ledger_mu_);
  ASSIGN_OR_RETURN(std::vector<Allocation> held, ledger_->AllocationsOverlapping({now, now + 1}));
  // What this server accepted lately counts before its journal reaches the ledger.
  auto last_seen = [this](const std::string& gpu) {
    MutexLock ingest(ingest_mu_);
    auto it = last_sample_ms_.find(gpu);
    return it == last_sample_ms_.end() ? kMinTimeMs : it->second;
  };
  ASSIGN_OR_RETURN(std::vector<SilentHold> silent,
                   FindSilentHolds(*ledger_, held, now, options_.held_without_samples_after_ms, last_seen));
  std::set<std::string> gpus;
  for (const SilentHold& h : silent) gpus.insert(h.gpu_uuid);
  return std::vector<std::string>(gpus.begin(), gpus.end());
}

Status Server::Store(DcgmBatch batch) {
  // All or nothing: whatever could refuse the batch is checked before any of it (a GPU,
  // a sighting, a sample) is stored.
  for (const DcgmGpu& g : batch.gpus) RETURN_IF_ERROR(CheckId(IdKind::kGpuUuid, g.labels->uuid));
  for (const GpuSample& g : batch.samples) RETURN_IF_ERROR(CheckSample(g.gpu_uuid, g.sample));
  if (journal_) RETURN_IF_ERROR(journal_->CheckRoom(batch.samples.size()));
  ASSIGN_OR_RETURN(std::vector<Gpu> fresh, NewGpus(batch));  // registered with the samples
  const auto count = static_cast<int64_t>(batch.samples.size());
  std::vector<LabelSighting> seen = SightingsOf(batch);  // before the samples move on
  // A workload label that is no valid job id can name no job: it is not kept.
  std::erase_if(seen, [](const LabelSighting& l) { return !CheckId(IdKind::kJobId, l.value).ok(); });
  // The latest sample of each GPU (a batch holds one GPU's samples together, in time order).
  std::vector<std::pair<std::string, TimeMs>> latest;
  for (const GpuSample& g : batch.samples) {
    if (!latest.empty() && latest.back().first == g.gpu_uuid) {
      latest.back().second = std::max(latest.back().second, g.sample.t);
    } else {
      latest.emplace_back(g.gpu_uuid, g.sample.t);
    }
  }
  auto note_latest = [&]() GL_REQUIRES(ingest_mu_) {
    for (const auto& [gpu, t] : latest) {
      TimeMs& last = last_sample_ms_[gpu];
      last = std::max(last, t);
    }
  };
  if (!journal_) {
    Status s = [&]() -> Status {
      MutexLock lock(ledger_mu_);
      // One transaction: committed (WAL) when it returns OK, nothing stored otherwise.
      int64_t registered = 0;
      RETURN_IF_ERROR(ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
        ASSIGN_OR_RETURN(registered, RegisterGpusLocked(fresh));
        return ledger_->PutSamples(batch.samples);
      }));
      counters_.gpus_registered += registered;
      NoteKnownGpus(fresh);
      {
        MutexLock ingest(ingest_mu_);
        note_latest();
      }
      counters_.samples_written += count;
      sightings_.Add(seen);
      RETURN_IF_ERROR(Attribute());
      StartPendingJobsLocked(batch.samples);
      WatchBudgetsLocked();                             // budget_routes.cc
      EvaluatePoliciesForSamplesLocked(batch.samples);  // the policies that act (#13)
      return OkStatus();
    }();
    RunPendingPauses();  // the launchers of pauses these samples decided, without the lock
    return s;
  }
  // The journal is thread-safe: a request never waits for the ledger (a flush sealing
  // an hour, a report). What the ledger would refuse was refused above: the journal
  // holds only what it takes. The new GPUs travel in the same frame and the flush
  // registers them before their samples: a refused append leaves nothing.
  RETURN_IF_ERROR(journal_->Append(std::move(batch.samples), fresh));
  NoteJournaledGpus(fresh);
  if (journal_->pending() >= kJournalFlushAtSamples) {
    {
      MutexLock wake(stop_mu_);
      flush_soon_ = true;
    }
    stop_cv_.NotifyAll();
  }
  counters_.samples_written += count;
  // The samples are safe; their workload labels name their job once they are in the
  // ledger: the flush that takes them from the journal takes these sightings first.
  MutexLock lock(ingest_mu_);
  note_latest();
  incoming_sightings_.insert(incoming_sightings_.end(), std::make_move_iterator(seen.begin()),
                             std::make_move_iterator(seen.end()));
  return OkStatus();
}

void Server::DrainSightings() {
  std::vector<LabelSighting> seen;
  {
    MutexLock lock(ingest_mu_);
    seen.swap(incoming_sightings_);
  }
  if (!seen.empty()) sightings_.Add(seen);
}

Status Server::Attribute() {
  AttributionStats stats;
  Status s = AttributePending(*ledger_, interval_ms_, label_jobs_, sightings_, clock_.Now(), &stats);
  counters_.label_allocations += stats.allocations;
  counters_.label_conflicts += stats.conflicts;
  return s;
}

Status Server::StartJobAtProgressLocked(const std::string& job_id) {
  RETURN_IF_ERROR(StartPendingJob(*ledger_, job_id, clock_.Now()));
  ASSIGN_OR_RETURN(bool again, RunPausedJobAgain(*ledger_, job_id, clock_.Now()));
  if (again) label_jobs_.Clear();  // its labels claim for it again, without its old end
  return OkStatus();
}

void Server::StartPendingJobsLocked(const std::vector<GpuSample>& samples) {
  if (samples.empty()) return;
  // The samples are stored whatever this finds: an error is kept for /healthz and the
  // job starts at its next sample (or progress).
  auto started = StartPendingJobsAtFirstSample(*ledger_, samples, &not_pending_jobs_);
  background_errors_.Record("start_pending", started.status(), clock_.Now());
  if (!started.ok()) return;
  if (!started->empty()) label_jobs_.Clear();  // the cached jobs' status changed
  if (not_pending_jobs_.size() > 1000000) not_pending_jobs_.clear();  // bounded
}

void Server::ScrapeLoop() {
  for (;;) {
    for (size_t i = 0; i < options_.scrape_targets.size(); ++i) {
      const std::string& target = options_.scrape_targets[i];
      // "http://host:port/path"; validated by Start().
      const std::string rest = target.substr(7);
      const size_t slash = rest.find('/');
      const std::string hostport = rest.substr(0, slash),
                        path = slash == std::string::npos ? "/" : rest.substr(slash);
      httplib::Client client("http://" + hostport);
      client.set_connection_timeout(2, 0);
      client.set_read_timeout(options_.read_timeout_s, 0);
      ++counters_.scrapes;
      auto res = client.Get(path.c_str());
      Status s;
      if (!res) {
        s = Unavailable("scrape " + target + ": " + httplib::to_string(res.error()));
      } else if (res->status != 200) {
        s = Unavailable("scrape " + target + ": HTTP " + std::to_string(res->status));
      } else if (auto series = ParsePromText(res->body); !series.ok()) {
        s = series.status();
      } else if (auto batch = SamplesFromDcgm(*series, clock_.Now()); !batch.ok()) {
        s = batch.status();
      } else {
        s = Store(std::move(batch).value());
      }
      if (!s.ok()) ++counters_.scrape_errors;
      scrape_logs_[i]->Record(s);
    }
    if (WaitForStop(options_.scrape_interval_ms)) return;
  }
}

std::string Server::HealthJson(bool* ready) {
  // The database, for readiness: a thread-safe ledger (PostgreSQL's pool) is pinged on a
  // free connection, beside whatever holds the ledger lock; an SQLite file is always there.
  // Liveness (ready null) never waits for the database: what it saw at its last use.
  const Status ping =
      ready != nullptr && ledger_unlocked_->thread_safe() ? ledger_unlocked_->Ping() : OkStatus();
  const LedgerHealth h = ledger_unlocked_->Health();
  const TimeMs now = clock_.Now();
  const bool db_ok = ping.ok() && h.reachable;
  nlohmann::json db = {{"ok", db_ok}, {"backend", h.backend}};
  if (!ping.ok()) db["error"] = ping.message();
  if (!h.last_error.ok()) db["last_error"] = h.last_error.message();
  if (!h.reachable) {
    db["down_since"] = FormatTime(h.down_since_ms);
    db["failed_connects"] = h.failed_connects;
  }
  if (h.backend != "sqlite") {
    db["connections_lost"] = h.losses;
    db["reconnects"] = h.reconnects;
    db["retries"] = h.retries;
  }
  nlohmann::json journal = {{"enabled", journal_ != nullptr}, {"ok", true}};
  if (journal_) {
    const Status room = journal_->CheckRoom(1);
    journal["ok"] = room.ok();
    journal["pending_samples"] = journal_->pending();
    journal["max_pending_samples"] = options_.journal_max_pending_samples;
    if (!room.ok()) journal["error"] = room.message();
  }
  nlohmann::json background = nlohmann::json::object();
  for (const auto& [task, e] : background_errors_.Get()) {
    background[task] = {{"failing", e.failing},
                        {"failures", e.count},
                        {"last_error", e.status.message()},
                        {"last_error_at", FormatTime(e.at_ms)}};
  }
  const bool ok = db_ok && journal["ok"].get<bool>();
  if (ready) *ready = ok;
  nlohmann::json out = {{"status", ok ? "ok" : "degraded"},
                        {"ready", ok},
                        {"time", FormatTime(now)},
                        {"dependencies", {{"database", db}, {"journal", journal}}},
                        {"background", background}};
  return out.dump() + "\n";
}

}  // namespace gpuledger
