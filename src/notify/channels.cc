#include "notify/channels.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "notify/sign.h"
#include "notify/templates.h"

namespace gpuledger {

namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Marker(const ChannelConfig& c) {
  return c.language == Language::kZhCn ? "\n…（内容过长，已截断）" : "\n… (truncated)";
}

// Builds the body with `text` cut until the whole body fits `max_body` (JSON escaping
// can make the body longer than the text by more than its frame).
template <class Make>
std::string FitBody(const std::string& text, size_t max_body, const std::string& marker, bool* truncated,
                    Make make) {
  std::string body = make(text);
  size_t budget = text.size();
  while (body.size() > max_body && budget > 0) {
    const size_t over = body.size() - max_body;
    budget = budget > over ? budget - over : 0;
    bool cut = false;
    body = make(TruncateUtf8(text, budget, marker, &cut));
    *truncated = true;
  }
  return body;
}

}  // namespace

WireRequest BuildWebhookRequest(const ChannelConfig& c, const OutboxDelivery& d, TimeMs now) {
  WireRequest r;
  r.url = c.url;
  const std::string marker = Marker(c);
  switch (c.type) {
    case ChannelType::kDingTalk: {
      const std::string text = TruncateUtf8(d.text, kDingTalkTextMaxBytes, marker, &r.truncated);
      r.body = Dump({{"msgtype", "markdown"},
                     {"markdown", {{"title", d.title}, {"text", text}}},
                     {"at", {{"atMobiles", json::array()}, {"atUserIds", json::array()}, {"isAtAll", false}}}});
      if (!c.secret.empty()) {
        r.url += (r.url.find('?') == std::string::npos ? "?" : "&");
        r.url += "timestamp=" + std::to_string(now) + "&sign=" + DingTalkSign(now, c.secret);
      }
      break;
    }
    case ChannelType::kWeCom:
      if (c.wecom_text) {
        const std::string text = TruncateUtf8(d.title + "\n\n" + d.text, kWeComTextMaxBytes, marker, &r.truncated);
        r.body = Dump({{"msgtype", "text"}, {"text", {{"content", text}}}});
      } else {
        const std::string text = TruncateUtf8(d.text, kWeComMarkdownMaxBytes, marker, &r.truncated);
        r.body = Dump({{"msgtype", "markdown"}, {"markdown", {{"content", text}}}});
      }
      break;
    case ChannelType::kFeishu: {
      const int64_t ts_s = now / 1000;
      r.body = FitBody(d.text, kFeishuBodyMaxBytes, marker, &r.truncated, [&](const std::string& text) {
        json j = {{"msg_type", "interactive"},
                  {"card",
                   {{"header", {{"title", {{"tag", "plain_text"}, {"content", d.title}}}}},
                    {"elements", json::array({{{"tag", "markdown"}, {"content", text}}})}}}};
        if (!c.secret.empty()) {
          j["timestamp"] = std::to_string(ts_s);
          j["sign"] = FeishuSign(ts_s, c.secret);
        }
        return Dump(j);
      });
      break;
    }
    case ChannelType::kSlack: {
      const std::string text = TruncateUtf8(d.text, kSlackTextMaxBytes, marker, &r.truncated);
      r.body = Dump({{"text", text}, {"mrkdwn", true}});
      break;
    }
    case ChannelType::kWebhook:
    case ChannelType::kSmtp: {
      r.body = d.text;  // the notice as JSON, made at enqueue (templates.h NoticeJson)
      const int64_t ts_s = now / 1000;
      r.headers.emplace_back("X-Gpuledger-Delivery", std::to_string(d.id));
      r.headers.emplace_back("X-Gpuledger-Timestamp", std::to_string(ts_s));
      if (!c.secret.empty()) r.headers.emplace_back("X-Gpuledger-Signature", WebhookSign(ts_s, r.body, c.secret));
      break;
    }
  }
  return r;
}

DurationMs ParseRetryAfterMs(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() > 9) return -1;
  int64_t s = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return -1;
    s = s * 10 + (ch - '0');
  }
  return s * 1000;
}

ReplyVerdict ClassifyHttpReply(ChannelType type, const HttpReply& reply) {
  ReplyVerdict v;
  const std::string snippet = reply.body.substr(0, 200);
  if (reply.status == 0) {
    v.verdict = Verdict::kRetry;
    v.why = "no answer: " + reply.error;
    return v;
  }
  const json j = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  auto code_of = [&](const char* key) -> std::optional<int64_t> {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  // Feishu's older APIs answer a rate limit with HTTP 400 and code 99991400.
  if (type == ChannelType::kFeishu && code_of("code") == 99991400) {
    v.verdict = Verdict::kRetry;
    v.retry_after_ms = ParseRetryAfterMs(reply.ratelimit_reset);
    v.why = "rate limited (code 99991400)";
    return v;
  }
  if (reply.status >= 200 && reply.status < 300) {
    std::optional<int64_t> code;
    std::vector<int64_t> throttled;
    DurationMs throttle_ms = 60 * kSecondMs;
    if (type == ChannelType::kDingTalk) {
      code = code_of("errcode");
      throttled = {130101};      // "send too fast": DingTalk then holds the robot for 10 minutes
      throttle_ms = 10 * kMinuteMs;
    } else if (type == ChannelType::kWeCom) {
      code = code_of("errcode");
      throttled = {45009};  // api freq out of limit
    } else if (type == ChannelType::kFeishu) {
      code = code_of("code");
      if (!code) code = code_of("StatusCode");
      throttled = {9499, 11232};
    }
    if (!code || *code == 0) {
      v.verdict = Verdict::kSent;
      return v;
    }
    for (int64_t t : throttled) {
      if (*code == t) {
        v.verdict = Verdict::kRetry;
        v.retry_after_ms = throttle_ms;
        v.why = "rate limited by the service (code " + std::to_string(*code) + "): " + snippet;
        return v;
      }
    }
    v.verdict = Verdict::kGiveUp;
    v.why = "refused by the service (HTTP " + std::to_string(reply.status) + ", code " + std::to_string(*code) +
            "): " + snippet;
    return v;
  }
  if (reply.status == 429 || reply.status == 408) {
    v.verdict = Verdict::kRetry;
    v.retry_after_ms = ParseRetryAfterMs(reply.retry_after);
    if (v.retry_after_ms < 0) v.retry_after_ms = ParseRetryAfterMs(reply.ratelimit_reset);
    v.why = "HTTP " + std::to_string(reply.status) + (reply.status == 429 ? " (rate limited)" : " (timeout)");
    return v;
  }
  if (reply.status >= 500) {
    v.verdict = Verdict::kRetry;
    v.why = "HTTP " + std::to_string(reply.status) + ": " + snippet;
    return v;
  }
  v.verdict = Verdict::kGiveUp;
  v.why = "HTTP " + std::to_string(reply.status) + (reply.status < 400 ? " (a redirect is not followed)" : "") +
          ": " + snippet;
  return v;
}

HttpReply HttpPost(const WireRequest& r, int timeout_s, const std::string& ca_file) {
  HttpReply out;
  const size_t scheme_end = r.url.find("://");
  const size_t path_at = scheme_end == std::string::npos ? std::string::npos : r.url.find('/', scheme_end + 3);
  const size_t query_at = r.url.find('?', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const size_t split = std::min(path_at, query_at);
  const std::string base = split == std::string::npos ? r.url : r.url.substr(0, split);
  std::string path = split == std::string::npos ? "/" : r.url.substr(split);
  if (path.front() == '?') path = "/" + path;
  // The host alone may be named in errors: the token is in the path or the query.
  const std::string host = scheme_end == std::string::npos ? base : base.substr(scheme_end + 3);
  httplib::Client client(base);
  if (!client.is_valid()) {
    out.error = "cannot make a client for " + host;
    return out;
  }
  if (!ca_file.empty()) client.set_ca_cert_path(ca_file);
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(timeout_s, 0);
  client.set_read_timeout(timeout_s, 0);
  client.set_write_timeout(timeout_s, 0);
  httplib::Headers headers;
  for (const auto& [k, v] : r.headers) headers.emplace(k, v);
  auto res = client.Post(path, headers, r.body, "application/json; charset=utf-8");
  if (!res) {
    out.error = host + ": " + httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.body = res->body.substr(0, 4096);
  out.retry_after = res->get_header_value("Retry-After");
  out.ratelimit_reset = res->get_header_value("x-ogw-ratelimit-reset");
  return out;
}

}  // namespace gpuledger
