#include "notify/outbox_sink.h"

#include "notify/templates.h"

namespace gpuledger {

namespace {

Status CheckNotice(const Notice& n) {
  auto bytes = [](const char* what, const std::string& v, size_t lo, size_t max) -> Status {
    if (v.size() < lo || v.size() > max) {
      return InvalidArgument(std::string("notice ") + what + " is " + std::to_string(v.size()) +
                             " bytes (allowed " + std::to_string(lo) + ".." + std::to_string(max) + ")");
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(bytes("cause_key", n.cause_key, 1, kMaxCauseKeyBytes));
  RETURN_IF_ERROR(bytes("event", n.event, 1, kMaxEventBytes));
  if (n.fields.size() > kMaxNoticeFields) {
    return InvalidArgument("notice '" + n.cause_key + "' has " + std::to_string(n.fields.size()) +
                           " fields, over the limit of " + std::to_string(kMaxNoticeFields));
  }
  for (const auto& [k, v] : n.fields) {
    if (k.empty() || k.size() > 64 || v.size() > kMaxFieldValueBytes) {
      return InvalidArgument("notice '" + n.cause_key + "' field '" + k.substr(0, 64) + "': name of " +
                             std::to_string(k.size()) + " bytes (allowed 1..64), value of " +
                             std::to_string(v.size()) + " bytes (limit " + std::to_string(kMaxFieldValueBytes) +
                             ")");
    }
  }
  return OkStatus();
}

std::string Recipients(const ChannelConfig& c, const Notice& n) {
  std::string out;
  for (const std::string& a : c.to) {
    std::string addr = a;
    if (const size_t p = addr.find("{user}"); p != std::string::npos) {
      if (n.user.empty()) continue;  // an address made from the user, with no user
      addr.replace(p, 6, n.user);
    }
    out += (out.empty() ? "" : ", ") + addr;
  }
  return out;
}

}  // namespace

std::vector<OutboxDelivery> PlanDeliveries(const NotifyConfig& config, const Notice& notice, TimeMs now) {
  std::vector<OutboxDelivery> out;
  for (const ChannelConfig* c : ResolveChannels(config, notice)) {
    OutboxDelivery d;
    d.cause_key = notice.cause_key;
    d.channel = c->name;
    const RenderedMessage m = RenderNotice(notice, c->language, FormatOf(*c));
    d.title = m.title;
    d.text = c->type == ChannelType::kWebhook ? NoticeJson(notice, m) : m.text;
    if (c->type == ChannelType::kSmtp) {
      d.recipients = Recipients(*c, notice);
      if (d.recipients.empty()) continue;  // every address needed a user the notice lacks
    }
    d.created_ms = now;
    d.next_attempt_ms = now;
    out.push_back(std::move(d));
  }
  return out;
}

OutboxSink::OutboxSink(Ledger& ledger, const NotifyConfig& config, const Clock& clock,
                       std::function<void()> on_enqueued, Logger* logger)
    : ledger_(ledger),
      config_(config),
      clock_(clock),
      on_enqueued_(std::move(on_enqueued)),
      log_(logger != nullptr ? *logger : null_logger_) {}

Status OutboxSink::Enqueue(const Notice& notice) {
  RETURN_IF_ERROR(CheckNotice(notice));
  const TimeMs now = clock_.Now();
  OutboxNotice row;
  row.cause_key = notice.cause_key;
  row.event = notice.event;
  row.at_ms = notice.at_ms;
  row.job_id = notice.job_id;
  row.user = notice.user;
  row.project = notice.project;
  row.department = notice.department;
  row.fields_json = FieldsJson(notice);
  row.enqueued_ms = now;
  const std::vector<OutboxDelivery> deliveries = PlanDeliveries(config_, notice, now);
  ASSIGN_OR_RETURN(bool stored, ledger_.PutNotice(row, deliveries));
  if (!stored) {
    ++counters_.duplicates;
    return OkStatus();
  }
  ++counters_.notices;
  counters_.deliveries += static_cast<int64_t>(deliveries.size());
  if (deliveries.empty()) {
    ++counters_.unrouted;
    log_.Warn("notice_unrouted", {{"cause_key", notice.cause_key}, {"event", notice.event}});
    return OkStatus();
  }
  log_.Info("notice_queued", {{"cause_key", notice.cause_key},
                              {"event", notice.event},
                              {"deliveries", static_cast<int64_t>(deliveries.size())}});
  if (on_enqueued_) on_enqueued_();
  return OkStatus();
}

}  // namespace gpuledger
