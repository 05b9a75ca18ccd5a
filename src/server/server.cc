// The server's life cycle: start and stop, storing remote-written batches, the scrape
// loop and the maintenance loop (sightings, retention). Routes: routes.cc.
#include "server/server.h"

#include <httplib.h>

#include "books/retention.h"
#include "ingest/dcgm.h"
#include "ledger/checks.h"

namespace gpuledger {

Server::Server(std::unique_ptr<Ledger> ledger, const Clock& clock, ServerOptions options, FileSystem* fs)
    : ledger_(std::move(ledger)),
      clock_(clock),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      throttle_(options_.auth_throttle) {
  if (fs == nullptr) {
    own_fs_ = std::make_unique<PosixFileSystem>();
    fs = own_fs_.get();
  }
  fs_ = fs;
}

Server::~Server() { Stop(); }

Status Server::Start() {
  {
    // Read once: the ingest path should not query settings per request (a changed
    // default interval takes effect at the next start).
    std::lock_guard lock(ledger_mu_);
    ASSIGN_OR_RETURN(LedgerSettings settings, ledger_->GetSettings());
    interval_ms_ = settings.default_interval_ms;
    if (!options_.journal_dir.empty()) {
      // What an earlier run acknowledged but had not written to the ledger (a crash).
      ASSIGN_OR_RETURN(journal_,
                       IngestJournal::Open(*fs_, options_.journal_dir, options_.journal_max_pending_samples));
      counters_.journal_replayed += static_cast<int64_t>(journal_->pending());
      RETURN_IF_ERROR(FlushJournalLocked());
    }
  }
  RETURN_IF_ERROR(Retain());
  for (const std::string& t : options_.scrape_targets) {
    if (t.rfind("http://", 0) != 0 || t.size() <= 7) {
      return InvalidArgument("scrape target '" + t +
                             "' is not http://host:port/path (https is not supported)");
    }
  }
  if (!options_.access_log.empty()) {
    ASSIGN_OR_RETURN(access_log_, AccessLog::Open(options_.access_log));
    InstallAccessLog();
  }
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(options_.read_timeout_s, 0);
  http_->set_write_timeout(options_.read_timeout_s, 0);
  Routes();
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else {
    port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  if (!options_.scrape_targets.empty()) scraper_ = std::thread([this] { ScrapeLoop(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  if (journal_) writer_ = std::thread([this] { WriterLoop(); });
  // cpp-httplib 0.11 has no wait_until_ready: the socket is bound and listening already
  // (connections queue in the backlog); wait for the accept loop to report running.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http_->is_running()) return Unavailable("the HTTP server did not start");
  return OkStatus();
}

void Server::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (scraper_.joinable()) scraper_.join();
  if (maintenance_.joinable()) maintenance_.join();
  if (http_ && http_->is_running()) http_->stop();
  if (thread_.joinable()) thread_.join();
  if (writer_.joinable()) writer_.join();
  // Everything acknowledged goes to the ledger (if this fails, the next start replays it).
  if (!FlushJournal().ok()) ++counters_.journal_flush_errors;
  if (!FlushSightings().ok()) ++counters_.sighting_errors;
}

Status Server::FlushSightings() {
  std::lock_guard lock(ledger_mu_);
  DrainSightings();
  return sightings_.Flush(*ledger_, clock_.Now());
}

bool Server::WaitForStop(DurationMs ms) {
  std::unique_lock lock(stop_mu_);
  return stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

void Server::WriterLoop() {
  for (;;) {
    {
      // Every interval, or sooner when Store finds the journal holding a lot.
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.journal_flush_interval_ms),
                        [this] { return stopping_ || flush_soon_; });
      if (stopping_) return;
      flush_soon_ = false;
    }
    if (!FlushJournal().ok()) ++counters_.journal_flush_errors;  // kept; retried next round
  }
}

Status Server::FlushJournal() {
  std::lock_guard lock(ledger_mu_);
  return FlushJournalLocked();
}

Status Server::FlushJournalLocked() {
  if (!journal_) return OkStatus();
  // Sightings first: each was queued after its samples were appended, so these samples
  // are all in the Take below.
  DrainSightings();
  IngestJournal::Taken taken = journal_->Take();
  if (!taken.samples.empty()) {
    Status s = ledger_->PutSamples(taken.samples);  // one transaction
    if (!s.ok()) {
      journal_->Restore(std::move(taken));
      return s;
    }
    ++counters_.journal_flushes;
  }
  RETURN_IF_ERROR(journal_->Release(taken));
  // The sightings of what was just written, and any an earlier round failed to write.
  return Attribute();
}

void Server::MaintenanceLoop() {
  TimeMs last_retention = clock_.Now();  // Start applied it
  while (!WaitForStop(kMinuteMs)) {
    if (!FlushSightings().ok()) ++counters_.sighting_errors;
    if (clock_.Now() - last_retention >= kHourMs) {
      last_retention = clock_.Now();
      if (!Retain().ok()) ++counters_.retention_errors;
    }
  }
}

Status Server::Retain() {
  if (options_.raw_retention_ms <= 0) return OkStatus();
  std::lock_guard lock(ledger_mu_);
  RETURN_IF_ERROR(FlushJournalLocked());  // the books are built from every acknowledged sample
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger_));
  ASSIGN_OR_RETURN(RetentionResult r, ApplyRetention(*ledger_, ctx, clock_.Now(), options_.raw_retention_ms));
  counters_.retention_samples_dropped += r.samples_dropped;
  return OkStatus();
}

Status Server::RegisterGpus(const DcgmBatch& batch) {
  // GPUs come and go rarely: the ledger is asked only when a batch names one this server
  // has not seen (or at the first batch).
  auto unknown = [&] {
    std::lock_guard lock(ingest_mu_);
    std::vector<Gpu> out;
    for (const DcgmGpu& g : batch.gpus) {
      if (!known_gpus_.count(g.labels->uuid)) out.push_back(g.ToGpu());
    }
    return out;
  };
  std::vector<Gpu> fresh = unknown();
  if (fresh.empty()) return OkStatus();
  std::lock_guard lock(ledger_mu_);
  // Perhaps imported or registered meanwhile: an upsert would overwrite it.
  ASSIGN_OR_RETURN(std::vector<Gpu> known, ledger_->ListGpus());
  {
    std::lock_guard ingest(ingest_mu_);
    for (const Gpu& g : known) known_gpus_.insert(g.uuid);
  }
  fresh = unknown();
  if (fresh.empty()) return OkStatus();
  if (!options_.register_gpus) {
    return NotFound("sample names unknown GPU '" + fresh.front().uuid +
                    "'; import it with `gpuledger import gpus` first");
  }
  RETURN_IF_ERROR(ledger_->PutGpus(fresh));
  {
    std::lock_guard ingest(ingest_mu_);
    for (const Gpu& g : fresh) known_gpus_.insert(g.uuid);
  }
  counters_.gpus_registered += static_cast<int64_t>(fresh.size());
  return OkStatus();
}

Status Server::Store(DcgmBatch batch) {
  RETURN_IF_ERROR(RegisterGpus(batch));
  const auto count = static_cast<int64_t>(batch.samples.size());
  std::vector<LabelSighting> seen = SightingsOf(batch);  // before the samples move on
  if (!journal_) {
    std::lock_guard lock(ledger_mu_);
    // One transaction: committed (WAL) when it returns OK, nothing stored otherwise.
    RETURN_IF_ERROR(ledger_->PutSamples(batch.samples));
    counters_.samples_written += count;
    sightings_.Add(seen);
    return Attribute();
  }
  // The journal is thread-safe: a request never waits for the ledger (a flush sealing
  // an hour, a report). What the ledger would refuse is refused now: the journal holds
  // only what it takes.
  for (const GpuSample& g : batch.samples) RETURN_IF_ERROR(CheckSample(g.gpu_uuid, g.sample));
  RETURN_IF_ERROR(journal_->Append(std::move(batch.samples)));
  if (journal_->pending() >= kJournalFlushAtSamples) {
    {
      std::lock_guard wake(stop_mu_);
      flush_soon_ = true;
    }
    stop_cv_.notify_all();
  }
  counters_.samples_written += count;
  // The samples are safe; their workload labels name their job once they are in the
  // ledger: the flush that takes them from the journal takes these sightings first.
  std::lock_guard lock(ingest_mu_);
  incoming_sightings_.insert(incoming_sightings_.end(), std::make_move_iterator(seen.begin()),
                             std::make_move_iterator(seen.end()));
  return OkStatus();
}

void Server::DrainSightings() {
  std::vector<LabelSighting> seen;
  {
    std::lock_guard lock(ingest_mu_);
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

void Server::ScrapeLoop() {
  for (;;) {
    for (const std::string& target : options_.scrape_targets) {
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
      if (!res || res->status != 200) {
        s = Unavailable("scrape " + target + " failed");
      } else if (auto series = ParsePromText(res->body); !series.ok()) {
        s = series.status();
      } else if (auto batch = SamplesFromDcgm(*series, clock_.Now()); !batch.ok()) {
        s = batch.status();
      } else {
        s = Store(std::move(batch).value());
      }
      if (!s.ok()) ++counters_.scrape_errors;
    }
    if (WaitForStop(options_.scrape_interval_ms)) return;
  }
}

}  // namespace gpuledger
