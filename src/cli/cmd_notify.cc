// gpuledger notify test: one test message through one configured channel, sent at once
// (not through the outbox), for operators checking a robot's URL, secret or relay.
#include <ostream>

#include "cli/commands.h"
#include "notify/outbox_sender.h"
#include "notify/outbox_sink.h"

namespace gpuledger {

Status CmdNotifyTest(const NotifyTestArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(NotifyConfig config, LoadNotifyConfigFile(a.config));
  const ChannelConfig* c = config.Find(a.channel);
  if (c == nullptr) {
    std::string names;
    for (const ChannelConfig& ch : config.channels) names += (names.empty() ? "" : ", ") + ch.name;
    return NotFound("notify config '" + a.config + "' has no channel '" + a.channel + "' (it has: " +
                    (names.empty() ? "none" : names) + ")");
  }
  // The channel alone, as the finance audience, so the real planning and rendering run.
  NotifyConfig one = config;
  one.finance.defaults = {c->name};
  const TimeMs now = clock.Now();
  Notice n;
  n.cause_key = "notify-test/" + std::to_string(now);
  n.event = "notify.test";
  n.at_ms = now;
  n.user = a.user;
  n.audiences = {Audience::kFinance};
  n.fields = {{"channel", c->name}};
  std::vector<OutboxDelivery> d = PlanDeliveries(one, n, now);
  if (d.empty()) {
    return InvalidArgument("channel '" + c->name + "' sends to {user} addresses only: give --user");
  }
  bool truncated = false;
  const ReplyVerdict v = SendDelivery(*c, d.front(), now, &truncated);
  if (v.verdict != Verdict::kSent) {
    return Unavailable("channel '" + c->name + "' (" + ChannelTypeName(c->type) + "): " + v.why +
                       (v.verdict == Verdict::kRetry ? " (the outbox would retry this)" : " (the outbox would give up)"));
  }
  out << "sent a test message through channel '" << c->name << "' (" << ChannelTypeName(c->type) << ", "
      << LanguageName(c->language) << ")\n";
  return OkStatus();
}

}  // namespace gpuledger
