// NotifyService: the notify config, the OutboxSink and the OutboxSender on its thread,
// owned together, so that wiring notifications into a long-running process (the server)
// is one construction and one Stop:
//
//   ASSIGN_OR_RETURN(notify_, NotifyService::Start(file, *ledger_, access, clock_, &log_));
//   policy_engine.set_sink(&notify_->sink());        // Enqueue under the ledger lock
//   /metrics: body += notify_->MetricsText();
//   Stop(): notify_->Stop();
//
// `ledger` is the Ledger the sink writes to (the caller's, so Enqueue joins the caller's
// transaction); `access` is how the sender's thread reaches a ledger (the server: its
// ledger mutex held around the call). Thread-safety: sink() as the Ledger it writes to;
// MetricsText and Stop from any thread; Stop once.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "notify/outbox_sender.h"
#include "notify/outbox_sink.h"

namespace gpuledger {

class NotifyService {
 public:
  // Loads `config_file` (errors name the file and the key) and starts the sender.
  static StatusOr<std::unique_ptr<NotifyService>> Start(const std::string& config_file, Ledger& ledger,
                                                        LedgerAccess access, const Clock& clock,
                                                        Logger* logger = nullptr, SenderOptions options = {});
  // From a parsed config (tests).
  static std::unique_ptr<NotifyService> Start(NotifyConfig config, Ledger& ledger, LedgerAccess access,
                                              const Clock& clock, Logger* logger = nullptr,
                                              SenderOptions options = {});
  ~NotifyService();
  NotifyService(const NotifyService&) = delete;
  NotifyService& operator=(const NotifyService&) = delete;

  NoticeSink& sink() { return *sink_; }
  const NotifyConfig& config() const { return config_; }  // immutable once started
  const OutboxSender& sender() const { return *sender_; }
  std::string MetricsText() const;
  // Ends the sender after the delivery in flight and joins its thread.
  void Stop();

 private:
  NotifyService() = default;
  NotifyConfig config_;
  std::unique_ptr<OutboxSender> sender_;
  std::unique_ptr<OutboxSink> sink_;
  std::thread thread_;
};

}  // namespace gpuledger
