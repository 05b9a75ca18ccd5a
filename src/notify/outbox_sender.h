// OutboxSender: delivers what the outbox holds (docs/NOTIFICATIONS.md, "Delivery").
// Each pass reads the deliveries due now from the ledger and, for each whose channel's
// rate limit allows it, records the attempt (state sending, attempts + 1), sends it
// without holding the ledger, and records the outcome at once: sent after the service's
// 2xx; retried after a capped exponential delay (or the Retry-After the service gave)
// on 5xx, 429, timeouts and connection errors; failed on other 4xx, or once
// max_attempts is spent, with the reason in last_error. A mark that fails (the ledger
// away) is kept in memory and written before anything else is sent, so a delivery the
// service took is not sent again while this process lives; only a crash between the
// 2xx and that write sends one twice (the window, NOTIFICATIONS.md).
//
// Time is the injected Clock; the thread's waiting is bounded by idle_wait_ms and cut
// short by Nudge and Stop, so tests drive DeliverDue on a SimulatedClock and never sleep.
// Thread-safety: DeliverDue from one thread at a time (Run's, or a test's); Stop, Nudge
// and counters() from any.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/logger.h"
#include "common/mutex.h"
#include "ledger/ledger.h"
#include "notify/channels.h"
#include "notify/config.h"
#include "notify/rate_limit.h"

namespace gpuledger {

struct SenderOptions {
  int max_attempts = 10;                  // then failed ("gave up after 10 attempts: ...")
  DurationMs first_retry_ms = 30 * kSecondMs;
  DurationMs max_retry_ms = 30 * kMinuteMs;  // the cap of the doubling delay
  DurationMs max_retry_after_ms = kHourMs;   // a longer Retry-After is cut to this
  size_t batch = 100;                        // deliveries read per pass
  DurationMs idle_wait_ms = 5 * kSecondMs;   // Run looks again at least this often
  Logger* logger = nullptr;                  // not owned; null: nothing logged
};

// The delay after the attempts-th failed attempt: first_retry_ms doubling, capped.
DurationMs RetryDelayMs(int attempts, const SenderOptions& o);

// Sends delivery `d` once on channel `c` at `now` (mail or webhook) and reads the answer;
// *truncated says whether its text was cut to the service's limit. What each attempt of
// the sender does, and `gpuledger notify test`.
ReplyVerdict SendDelivery(const ChannelConfig& c, const OutboxDelivery& d, TimeMs now, bool* truncated);

// How the sender reaches the ledger: runs `work` with it, under whatever lock the owner
// needs (the server's ledger mutex). Never held while a message is sent.
using LedgerAccess = std::function<Status(const std::function<Status(Ledger&)>&)>;
LedgerAccess DirectLedgerAccess(Ledger& ledger);  // no lock: a ledger this thread owns

struct SenderCounters {
  std::atomic<int64_t> sent{0}, retried{0}, failed{0}, resent_after_restart{0}, truncated{0}, held_by_rate{0};
};

class OutboxSender {
 public:
  OutboxSender(LedgerAccess ledger, const NotifyConfig& config, const Clock& clock, SenderOptions options = {});
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  // One pass over what is due at the clock's now. Returns when to look again: the
  // earliest time a delivery held back by a rate limit may go, now when the batch was
  // full, or 0 when nothing is waiting on this pass (later deliveries: Run polls).
  StatusOr<TimeMs> DeliverDue();
  // Passes until Stop, waiting between them as DeliverDue says (at most idle_wait_ms).
  void Run();
  // Ends Run after the delivery in flight (its outcome recorded).
  void Stop();
  // Wakes a waiting Run (a notice was enqueued).
  void Nudge();
  const SenderCounters& counters() const { return counters_; }
  // gpuledger_notify_* counters in the Prometheus text format, for /metrics.
  std::string MetricsText() const;

 private:
  // Sends one delivery and returns it with its outcome applied (not yet recorded).
  OutboxDelivery Attempt(const ChannelConfig& c, OutboxDelivery d);
  Status Record(const OutboxDelivery& d);
  bool Stopping();

  LedgerAccess ledger_;
  const NotifyConfig& config_;
  const Clock& clock_;
  SenderOptions options_;
  std::map<std::string, RateLimiter> limiters_;  // by channel; DeliverDue's thread only
  std::map<int64_t, OutboxDelivery> unrecorded_;  // outcomes the ledger did not take yet
  SenderCounters counters_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GL_GUARDED_BY(mu_) = false;
  bool nudged_ GL_GUARDED_BY(mu_) = false;
  NullLogger null_logger_;
  Logger& log_;
  FailureLog pass_log_;
};

}  // namespace gpuledger
