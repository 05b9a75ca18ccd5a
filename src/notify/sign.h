// The signatures and encodings the chat services ask for (docs/NOTIFICATIONS.md,
// "Signing"), over OpenSSL's HMAC-SHA256. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/time.h"

namespace gpuledger {

std::string HmacSha256(std::string_view key, std::string_view message);  // 32 raw bytes
std::string Base64(std::string_view bytes);                              // standard alphabet, padded
std::string HexLower(std::string_view bytes);
// RFC 3986: unreserved characters kept, every other byte %XX (upper-case hex).
std::string UrlEncode(std::string_view s);

// DingTalk custom robot: Base64(HMAC-SHA256(key = secret, message = ts_ms + "\n" +
// secret)), URL-encoded for the query.
std::string DingTalkSign(TimeMs ts_ms, std::string_view secret);
// Feishu/Lark custom bot: Base64(HMAC-SHA256(key = ts_s + "\n" + secret, message = "")).
std::string FeishuSign(int64_t ts_s, std::string_view secret);
// The generic webhook's X-Gpuledger-Signature: "sha256=" + hex HMAC-SHA256(key = secret,
// message = ts_s + "." + body).
std::string WebhookSign(int64_t ts_s, std::string_view body, std::string_view secret);

}  // namespace gpuledger
