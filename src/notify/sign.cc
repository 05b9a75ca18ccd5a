#include "notify/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gpuledger {

std::string HmacSha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const unsigned char kEmpty = 0;
  const auto* data = message.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(message.data());
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, message.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string HexLower(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string DingTalkSign(TimeMs ts_ms, std::string_view secret) {
  const std::string to_sign = std::to_string(ts_ms) + "\n" + std::string(secret);
  return UrlEncode(Base64(HmacSha256(secret, to_sign)));
}

std::string FeishuSign(int64_t ts_s, std::string_view secret) {
  const std::string key = std::to_string(ts_s) + "\n" + std::string(secret);
  return Base64(HmacSha256(key, ""));
}

std::string WebhookSign(int64_t ts_s, std::string_view body, std::string_view secret) {
  return "sha256=" + HexLower(HmacSha256(secret, std::to_string(ts_s) + "." + std::string(body)));
}

}  // namespace gpuledger
