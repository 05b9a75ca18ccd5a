// The gpuledger HTTP server: remote write ingestion, the jobs API and role-scoped
// reports over one Ledger (docs/api/openapi.yaml). The one place where a Status becomes
// an HTTP status code. Handlers run on cpp-httplib's thread pool; the Ledger is used
// under one mutex. Start/Stop from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "books/books.h"
#include "common/clock.h"
#include "ledger/ledger.h"
#include "server/attribution.h"

namespace httplib {
class Server;
}

namespace gpuledger {

struct DcgmBatch;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests)
  size_t max_body_bytes = 8 << 20;
  int read_timeout_s = 10;
  // Register GPUs that remote write names but the ledger lacks (model from modelName).
  bool register_gpus = true;
  // Scrape mode, for sites without Prometheus: dcgm-exporter pages to fetch
  // ("http://host:port/metrics"), every scrape_interval_ms, stamped with the clock's now.
  std::vector<std::string> scrape_targets;
  DurationMs scrape_interval_ms = 10 * kSecondMs;
};

struct ServerCounters {
  std::atomic<int64_t> write_requests{0}, write_rejected{0}, samples_written{0}, report_requests{0},
      denied{0}, gpus_registered{0}, scrapes{0}, scrape_errors{0}, label_allocations{0}, label_conflicts{0};
};

class Server {
 public:
  Server(std::unique_ptr<Ledger> ledger, const Clock& clock, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on a background thread; returns once it listens.
  Status Start();
  // Stops accepting, finishes requests in flight, joins the thread.
  void Stop();
  int port() const { return port_; }
  const ServerCounters& counters() const { return counters_; }

 private:
  void Routes();
  void ScrapeLoop();
  // Registers unknown GPUs (when allowed) and stores the samples in one transaction.
  // Takes the ledger lock.
  Status Store(const DcgmBatch& batch);
  std::unique_ptr<Ledger> ledger_;
  std::mutex ledger_mu_;  // guards ledger_ and label_jobs_
  JobLabelCache label_jobs_;
  DurationMs interval_ms_ = 10 * kSecondMs;  // the ledger's default sample interval, read at Start
  const Clock& clock_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::thread scraper_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  int port_ = 0;
  ServerCounters counters_;
};

}  // namespace gpuledger
