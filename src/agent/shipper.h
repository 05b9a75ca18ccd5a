// Shipper: sends the agent's outbox (disk_queue.h) to the server in order, one request
// at a time. 2xx: acknowledged and removed. 400, 404, 409, 413, 415: the server will
// never take it (named in the log, counted, removed so it cannot block the queue).
// Anything else (no connection, 401/403 from a wrong token, 429, 5xx): kept, retried
// with exponential backoff up to max_backoff. Over https a certificate that does not
// verify is such a failure too (kept, retried, said in last_error). Failures are logged
// once per cause (`ship_failed` when sending starts failing or fails differently,
// `ship_recovered` with the count when a request goes through again), refusals each
// (`ship_refused`). Thread-safe counters; Run on its own thread.
#pragma once

#include <atomic>
#include <string>

#include "agent/disk_queue.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/mutex.h"
#include "common/time.h"

namespace gpuledger {

struct ShipperOptions {
  std::string url;  // http://host:port or https://host:port
  std::string token;
  // https: a PEM file of the certificate(s) to trust (a self-signed server's own, or a
  // private CA's); empty: the system's trust store. The server's name is checked.
  std::string ca_file = "";
  int timeout_s = 10;
  DurationMs min_backoff_ms = 500;
  DurationMs max_backoff_ms = 30 * kSecondMs;
  Logger* logger = nullptr;  // not owned; null: nothing logged
  const Clock* clock = nullptr;  // not owned: what its waits (backoff, idle polls) count; null: real time
};

struct ShipperCounters {
  std::atomic<int64_t> sent{0}, rejected{0}, failures{0};
};

class Shipper {
 public:
  Shipper(DiskQueue& queue, ShipperOptions options) : queue_(queue), options_(std::move(options)) {}
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;
  // Ships until Stop; with `drain`, returns as soon as the queue is empty too.
  void Run(bool drain = false);
  void Stop();
  // Wakes a waiting Run (new data queued).
  void Nudge();
  const ShipperCounters& counters() const { return counters_; }
  std::string last_error() const;

 private:
  bool Wait(DurationMs ms);  // true when stopping
  DiskQueue& queue_;
  ShipperOptions options_;
  ShipperCounters counters_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GL_GUARDED_BY(mu_) = false;
  bool nudged_ GL_GUARDED_BY(mu_) = false;
  std::string last_error_ GL_GUARDED_BY(mu_);
  SystemClock system_clock_;
  const Clock& clock_ = options_.clock ? *options_.clock : system_clock_;
  NullLogger null_logger_;
  Logger& log_ = options_.logger ? *options_.logger : null_logger_;
  FailureLog ship_log_{log_, "ship"};
};

}  // namespace gpuledger
