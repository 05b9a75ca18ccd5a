// The gpuledger HTTP server: remote write ingestion, the jobs API and role-scoped
// reports over one Ledger (docs/api/openapi.yaml). The one place where a Status becomes
// an HTTP status code. Handlers run on cpp-httplib's thread pool; the Ledger is used
// under one mutex. Start/Stop from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "books/books.h"
#include "common/clock.h"
#include "ledger/ledger.h"

namespace httplib {
class Server;
}

namespace gpuledger {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests)
  size_t max_body_bytes = 8 << 20;
  int read_timeout_s = 10;
  // Register GPUs that remote write names but the ledger lacks (model from modelName).
  bool register_gpus = true;
};

struct ServerCounters {
  std::atomic<int64_t> write_requests{0}, write_rejected{0}, samples_written{0}, report_requests{0},
      denied{0}, gpus_registered{0};
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
  std::unique_ptr<Ledger> ledger_;
  std::mutex ledger_mu_;  // guards ledger_
  const Clock& clock_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  ServerCounters counters_;
};

}  // namespace gpuledger
