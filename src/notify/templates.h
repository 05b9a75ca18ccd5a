// Templates (docs/NOTIFICATIONS.md, "Templates"): a Notice rendered in Chinese (zh-CN)
// or English, in the format its channel shows: markdown (DingTalk, WeCom, Feishu),
// Slack's mrkdwn, or plain text with a subject (mail, WeCom's text messages). One
// template per Notice.event (breaker.paused, idle.warn, idle.act, duration.warn,
// duration.act, digest.weekly, budget.80, budget.100, budget.projected,
// statement.monthly, notify.test) and a fallback for any other event; every template then
// lists the notice's job, user, project, department and fields (a field named *_json is
// not shown; one named *_text is shown as a preformatted block after them). Pure;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "notify/config.h"
#include "policy/actions.h"

namespace gpuledger {

enum class MessageFormat { kMarkdown, kSlackMrkdwn, kText };
MessageFormat FormatOf(const ChannelConfig& c);

struct RenderedMessage {
  std::string title;  // the subject (mail), the markdown title (DingTalk), the card header (Feishu)
  std::string text;   // the body, in the format asked for
};

RenderedMessage RenderNotice(const Notice& n, Language language, MessageFormat format);
// The generic webhook's payload: the notice as JSON (event, cause_key, at_ms, job_id,
// user, project, department, fields as an object, title and text in the channel's language).
std::string NoticeJson(const Notice& n, const RenderedMessage& m);
// The notice's fields as stored in the outbox (a JSON array of [name, value] pairs).
std::string FieldsJson(const Notice& n);

// `s` cut to at most `max_bytes`, on a UTF-8 character boundary, with `marker` appended
// when it was cut (the marker counts toward max_bytes). *truncated says whether it was.
std::string TruncateUtf8(std::string_view s, size_t max_bytes, std::string_view marker, bool* truncated = nullptr);

}  // namespace gpuledger
