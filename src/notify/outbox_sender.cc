#include "notify/outbox_sender.h"

#include <algorithm>

#include "notify/channels.h"
#include "notify/smtp.h"

namespace gpuledger {

DurationMs RetryDelayMs(int attempts, const SenderOptions& o) {
  DurationMs d = o.first_retry_ms;
  for (int i = 1; i < attempts && d < o.max_retry_ms; ++i) d *= 2;
  return std::min(d, o.max_retry_ms);
}

LedgerAccess DirectLedgerAccess(Ledger& ledger) {
  return [&ledger](const std::function<Status(Ledger&)>& work) { return work(ledger); };
}

OutboxSender::OutboxSender(LedgerAccess ledger, const NotifyConfig& config, const Clock& clock,
                           SenderOptions options)
    : ledger_(std::move(ledger)),
      config_(config),
      clock_(clock),
      options_(options),
      log_(options_.logger != nullptr ? *options_.logger : null_logger_),
      pass_log_(log_, "notify_outbox") {
  for (const ChannelConfig& c : config_.channels) limiters_.emplace(c.name, RateLimiter(c.rate));
}

bool OutboxSender::Stopping() {
  MutexLock lock(mu_);
  return stop_;
}

void OutboxSender::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
}

void OutboxSender::Nudge() {
  {
    MutexLock lock(mu_);
    nudged_ = true;
  }
  cv_.NotifyAll();
}

Status OutboxSender::Record(const OutboxDelivery& d) {
  Status s = ledger_([&](Ledger& l) { return l.UpdateDelivery(d); });
  if (s.ok()) {
    unrecorded_.erase(d.id);
  } else if (d.state != DeliveryState::kSending) {
    unrecorded_[d.id] = d;  // written first on the next pass; never sent again meanwhile
  }
  return s;
}

ReplyVerdict SendDelivery(const ChannelConfig& c, const OutboxDelivery& d, TimeMs now, bool* truncated) {
  *truncated = false;
  if (c.type == ChannelType::kSmtp) {
    MailMessage m;
    m.from = c.from;
    m.to = SplitRecipients(d.recipients);
    m.subject = d.title;
    m.text = d.text;
    m.date_ms = now;
    const size_t at = c.from.find('@');
    m.message_id = "<gpuledger." + std::to_string(d.id) + "." + std::to_string(d.created_ms) + "@" +
                   c.from.substr(at + 1) + ">";
    return SendMail(c, m);
  }
  const WireRequest r = BuildWebhookRequest(c, d, now);
  *truncated = r.truncated;
  return ClassifyHttpReply(c.type, HttpPost(r, c.timeout_s, c.ca_file));
}

OutboxDelivery OutboxSender::Attempt(const ChannelConfig& c, OutboxDelivery d) {
  bool truncated = false;
  const ReplyVerdict v = SendDelivery(c, d, clock_.Now(), &truncated);
  const TimeMs done = clock_.Now();
  switch (v.verdict) {
    case Verdict::kSent:
      d.state = DeliveryState::kSent;
      d.sent_ms = done;
      d.last_error = truncated ? "sent, with the text cut to the service's size limit" : "";
      if (truncated) ++counters_.truncated;
      break;
    case Verdict::kRetry:
      if (v.retry_after_ms >= 0) {
        limiters_[c.name].HoldUntil(done + std::min(v.retry_after_ms, options_.max_retry_after_ms));
      }
      if (d.attempts >= options_.max_attempts) {
        d.state = DeliveryState::kFailed;
        d.last_error = "gave up after " + std::to_string(d.attempts) + " attempts: " + v.why;
      } else {
        d.state = DeliveryState::kPending;
        DurationMs wait = RetryDelayMs(d.attempts, options_);
        if (v.retry_after_ms >= 0) wait = std::max(wait, std::min(v.retry_after_ms, options_.max_retry_after_ms));
        d.next_attempt_ms = done + wait;
        d.last_error = v.why;
      }
      break;
    case Verdict::kGiveUp:
      d.state = DeliveryState::kFailed;
      d.last_error = v.why;
      break;
  }
  return d;
}

StatusOr<TimeMs> OutboxSender::DeliverDue() {
  // Outcomes the ledger refused last time go in first.
  for (auto it = unrecorded_.begin(); it != unrecorded_.end();) {
    const OutboxDelivery d = it->second;
    ++it;
    RETURN_IF_ERROR(Record(d));
  }
  std::vector<OutboxDelivery> due;
  RETURN_IF_ERROR(ledger_([&](Ledger& l) -> Status {
    ASSIGN_OR_RETURN(due, l.DueDeliveries(clock_.Now(), options_.batch));
    return OkStatus();
  }));
  TimeMs next = 0;
  for (OutboxDelivery& d : due) {
    if (Stopping()) break;
    const ChannelConfig* c = config_.Find(d.channel);
    if (c == nullptr) {
      d.state = DeliveryState::kFailed;
      d.last_error = "channel '" + d.channel + "' is not in the notify config";
      ++counters_.failed;
      log_.Warn("notify_failed", {{"delivery", d.id}, {"channel", d.channel}, {"why", d.last_error}});
      RETURN_IF_ERROR(Record(d));
      continue;
    }
    RateLimiter& limiter = limiters_[c->name];
    const TimeMs now = clock_.Now();
    if (const TimeMs allowed = limiter.NextAllowed(now); allowed > now) {
      ++counters_.held_by_rate;
      next = next == 0 ? allowed : std::min(next, allowed);
      continue;
    }
    if (d.state == DeliveryState::kSending) {
      // The process stopped during this delivery's last attempt: whether the service took
      // it is unknown. Sent again (NOTIFICATIONS.md, "Exactly once, and its window").
      ++counters_.resent_after_restart;
      log_.Warn("notify_resent", {{"delivery", d.id}, {"channel", d.channel}, {"attempts", d.attempts}});
    }
    d.state = DeliveryState::kSending;
    ++d.attempts;
    RETURN_IF_ERROR(Record(d));  // the attempt is on record before a byte is sent
    limiter.Record(now);
    const OutboxDelivery out = Attempt(*c, d);
    if (out.state == DeliveryState::kSent) {
      ++counters_.sent;
      log_.Info("notify_sent", {{"delivery", out.id}, {"channel", out.channel}, {"attempts", out.attempts}});
    } else if (out.state == DeliveryState::kFailed) {
      ++counters_.failed;
      log_.Warn("notify_failed", {{"delivery", out.id}, {"channel", out.channel}, {"why", out.last_error}});
    } else {
      ++counters_.retried;
      log_.Info("notify_retry", {{"delivery", out.id},
                                 {"channel", out.channel},
                                 {"attempts", out.attempts},
                                 {"why", out.last_error}});
    }
    RETURN_IF_ERROR(Record(out));
  }
  if (due.size() == options_.batch) return clock_.Now();
  return next;
}

void OutboxSender::Run() {
  while (!Stopping()) {
    StatusOr<TimeMs> next = DeliverDue();
    pass_log_.Record(next.status());
    DurationMs wait = options_.idle_wait_ms;
    if (next.ok() && *next > 0) wait = std::clamp<DurationMs>(*next - clock_.Now(), 0, options_.idle_wait_ms);
    MutexLock lock(mu_);
    if (wait > 0) clock_.WaitFor(mu_, cv_, wait, [this]() GL_REQUIRES(mu_) { return stop_ || nudged_; });
    nudged_ = false;
  }
}

std::string OutboxSender::MetricsText() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v) + "\n";
  };
  counter("gpuledger_notify_sent_total", "Deliveries the service accepted (2xx).", counters_.sent.load());
  counter("gpuledger_notify_retried_total", "Attempts that failed and will be retried.", counters_.retried.load());
  counter("gpuledger_notify_failed_total", "Deliveries given up.", counters_.failed.load());
  counter("gpuledger_notify_resent_total", "Deliveries sent again after a restart cut an attempt short.",
          counters_.resent_after_restart.load());
  counter("gpuledger_notify_rate_held_total", "Deliveries held back by a channel's rate limit.",
          counters_.held_by_rate.load());
  return out;
}

}  // namespace gpuledger
