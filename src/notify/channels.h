// What goes on the wire for each webhook channel (docs/NOTIFICATIONS.md, "Channels"):
// the signed POST built from a delivery at a given time, each service's size limit
// applied on a UTF-8 boundary, and each service's answer read into a verdict (sent,
// retry, give up). Building and reading are pure; HttpPost sends one request with
// cpp-httplib (OpenSSL for https://, the server's certificate verified), as the agent's
// shipper does. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/outbox.h"
#include "notify/config.h"

namespace gpuledger {

// The services' size limits on what we send (bytes; the sources are in NOTIFICATIONS.md).
inline constexpr size_t kWeComTextMaxBytes = 2048;      // text.content
inline constexpr size_t kWeComMarkdownMaxBytes = 4096;  // markdown.content
inline constexpr size_t kFeishuBodyMaxBytes = 20000;    // the whole request body ("20 KB")
inline constexpr size_t kDingTalkTextMaxBytes = 20000;  // our cap; DingTalk documents none we could confirm
inline constexpr size_t kSlackTextMaxBytes = 39000;     // Slack truncates text past 40,000 characters

struct WireRequest {
  std::string url;  // holds the channel's token (and DingTalk's signature): never logged
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type: application/json
  bool truncated = false;  // the text was cut to the service's limit
};

// The POST for delivery `d` on channel `c` (not mail) at `now` (DingTalk's and Feishu's
// signatures and the webhook's timestamp are of this time).
WireRequest BuildWebhookRequest(const ChannelConfig& c, const OutboxDelivery& d, TimeMs now);

enum class Verdict { kSent, kRetry, kGiveUp };
struct ReplyVerdict {
  Verdict verdict = Verdict::kRetry;
  DurationMs retry_after_ms = -1;  // the service said when to come back (-1: it did not)
  std::string why;                 // for the delivery's last_error (never holds a secret)
};

struct HttpReply {
  int status = 0;           // 0: no answer (connection refused, timeout, TLS failure)
  std::string error;        // when status is 0
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  std::string ratelimit_reset;  // Feishu's x-ogw-ratelimit-reset, if any
};

// 2xx: sent, unless the body carries the service's own error code (DingTalk and WeCom
// errcode, Feishu code): their rate-limit codes are retried, the others given up. 429
// (and 408): retried, after Retry-After when given. Other 4xx: given up. 5xx and no
// answer: retried.
ReplyVerdict ClassifyHttpReply(ChannelType type, const HttpReply& reply);
// Retry-After as delta-seconds (an HTTP-date is not read: -1), in ms.
DurationMs ParseRetryAfterMs(std::string_view value);

// Sends `r` with a deadline of timeout_s for connecting, writing and reading.
HttpReply HttpPost(const WireRequest& r, int timeout_s, const std::string& ca_file);

}  // namespace gpuledger
