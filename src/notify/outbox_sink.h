// OutboxSink: the NoticeSink (policy/actions.h) the policy engine and budgets hand their
// notices to. Enqueue resolves the notice's audiences to channels (config.h), renders
// it per channel in that channel's language and format (templates.h), and stores the
// notice with one delivery per channel in the ledger (Ledger::PutNotice): in the
// caller's transaction when there is one (Ledger::InTransaction), else in its own. A
// cause_key seen before stores nothing. Delivery is the OutboxSender's (outbox_sender.h).
// Thread-safety: as the Ledger it writes to (the caller holds whatever lock that needs);
// the config is immutable.
#pragma once

#include <atomic>
#include <functional>

#include "common/clock.h"
#include "common/logger.h"
#include "ledger/ledger.h"
#include "notify/config.h"
#include "policy/actions.h"

namespace gpuledger {

// Limits on a notice, named in Enqueue's refusals.
inline constexpr size_t kMaxCauseKeyBytes = 512;
inline constexpr size_t kMaxEventBytes = 64;
inline constexpr size_t kMaxNoticeFields = 100;
inline constexpr size_t kMaxFieldValueBytes = 8192;

struct SinkCounters {
  std::atomic<int64_t> notices{0}, duplicates{0}, deliveries{0}, unrouted{0};
};

class OutboxSink final : public NoticeSink {
 public:
  // `on_enqueued` (optional) is called after a notice with deliveries is stored: the
  // sender's Nudge. `logger` may be null.
  OutboxSink(Ledger& ledger, const NotifyConfig& config, const Clock& clock,
             std::function<void()> on_enqueued = nullptr, Logger* logger = nullptr);
  Status Enqueue(const Notice& notice) override;
  const SinkCounters& counters() const { return counters_; }

 private:
  Ledger& ledger_;
  const NotifyConfig& config_;
  const Clock& clock_;
  std::function<void()> on_enqueued_;
  NullLogger null_logger_;
  Logger& log_;
  SinkCounters counters_;
};

// The deliveries `notice` makes under `config` at `now` (what Enqueue stores; pure).
std::vector<OutboxDelivery> PlanDeliveries(const NotifyConfig& config, const Notice& notice, TimeMs now);

}  // namespace gpuledger
