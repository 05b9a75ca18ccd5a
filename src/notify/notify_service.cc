#include "notify/notify_service.h"

namespace gpuledger {

std::unique_ptr<NotifyService> NotifyService::Start(NotifyConfig config, Ledger& ledger, LedgerAccess access,
                                                    const Clock& clock, Logger* logger, SenderOptions options) {
  std::unique_ptr<NotifyService> s(new NotifyService());
  s->config_ = std::move(config);
  options.logger = logger;
  s->sender_ = std::make_unique<OutboxSender>(std::move(access), s->config_, clock, options);
  OutboxSender* sender = s->sender_.get();
  s->sink_ = std::make_unique<OutboxSink>(ledger, s->config_, clock, [sender] { sender->Nudge(); }, logger);
  s->thread_ = std::thread([sender] { sender->Run(); });
  return s;
}

StatusOr<std::unique_ptr<NotifyService>> NotifyService::Start(const std::string& config_file, Ledger& ledger,
                                                              LedgerAccess access, const Clock& clock,
                                                              Logger* logger, SenderOptions options) {
  ASSIGN_OR_RETURN(NotifyConfig config, LoadNotifyConfigFile(config_file));
  return Start(std::move(config), ledger, std::move(access), clock, logger, options);
}

NotifyService::~NotifyService() { Stop(); }

void NotifyService::Stop() {
  if (!thread_.joinable()) return;
  sender_->Stop();
  thread_.join();
}

std::string NotifyService::MetricsText() const {
  std::string out = sender_->MetricsText();
  const SinkCounters& c = sink_->counters();
  out += "# HELP gpuledger_notify_queued_total Deliveries enqueued (notice x channel).\n"
         "# TYPE gpuledger_notify_queued_total counter\ngpuledger_notify_queued_total " +
         std::to_string(c.deliveries.load()) + "\n";
  return out;
}

}  // namespace gpuledger
