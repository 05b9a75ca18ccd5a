// The notification configuration (docs/NOTIFICATIONS.md, "Configuration"): named
// channels (DingTalk, WeCom, Feishu/Lark, Slack, a generic JSON webhook, SMTP mail), each
// with its secrets, language and rate limit, and which channels each audience of a
// Notice (policy/actions.h) goes to. Parsed from JSON (`--notify FILE`); every refusal
// names the key, the limit and the value seen, except secrets (a URL holding a robot's
// token, a signing secret, a password), which are never echoed. And the schedule of the
// projects' monthly statements. Pure; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/actions.h"

namespace gpuledger {

enum class ChannelType { kDingTalk, kWeCom, kFeishu, kSlack, kWebhook, kSmtp };
enum class Language { kZhCn, kEn };
const char* ChannelTypeName(ChannelType t);
const char* LanguageName(Language l);

// At most `per_second` and `per_minute` sends (0: no such bound), over sliding windows.
struct RateLimit {
  int per_second = 0;
  int per_minute = 0;
};
// The services' documented limits (NOTIFICATIONS.md cites each): DingTalk and WeCom 20
// a minute per robot, Feishu 100 a minute and 5 a second per bot, Slack 1 a second;
// the generic webhook and mail none.
RateLimit DefaultRateLimit(ChannelType t);

struct ChannelConfig {
  std::string name;
  ChannelType type = ChannelType::kWebhook;
  Language language = Language::kZhCn;
  // Webhooks: the full URL the service gave (DingTalk's carries access_token, WeCom's
  // key, Feishu's and Slack's their token in the path): a secret, never logged.
  std::string url;
  // DingTalk and Feishu: the signing secret ("SEC..."; empty: the robot is not signed);
  // webhook: the HMAC key of X-Gpuledger-Signature (empty: unsigned).
  std::string secret;
  // WeCom: "markdown" (default) or "text" (content at most 2,048 bytes).
  bool wecom_text = false;
  // Mail.
  std::string host;
  int port = 25;
  bool starttls = false;  // STARTTLS required (refused when the relay does not offer it)
  std::string username, password;  // AUTH PLAIN, only over STARTTLS
  std::string from;
  // Addresses; "{user}" in one is replaced by the notice's user (e.g. "{user}@corp.example").
  std::vector<std::string> to;
  // Both: a PEM file of certificates to trust for https:// and STARTTLS (empty: the system's).
  std::string ca_file;
  int timeout_s = 10;
  RateLimit rate;
};

// Where one audience's notices go: the channels named for the notice's key (the user,
// project or department), else the default ones.
struct AudienceRoute {
  std::vector<std::string> defaults;
  std::map<std::string, std::vector<std::string>> by_key;
};

// Monthly statements sent on a schedule (docs/NOTIFICATIONS.md "Monthly statements"):
// once the month's `day` at `hour` has passed in the ledger's time zone, each project's
// statement of the month before goes to its channels, once.
struct StatementSchedule {
  bool enabled = false;  // the file has "statements"
  // "projects": "all" (default: every project with usage in the month) or these.
  bool all_projects = true;
  std::vector<std::string> projects;
  AudienceRoute channels;  // by project, else the default ones
  int day = 1;             // 1..28
  int hour = 9;            // 0..23
};

struct NotifyConfig {
  std::vector<ChannelConfig> channels;
  AudienceRoute job_owner, project_channel, dept_admin, finance;
  StatementSchedule statements;
  const ChannelConfig* Find(const std::string& name) const;
};

// Limits on the file, named in its refusals.
inline constexpr size_t kMaxNotifyConfigBytes = 1 << 20;
inline constexpr size_t kMaxChannels = 256;
inline constexpr size_t kMaxChannelNameBytes = 64;
inline constexpr size_t kMaxUrlBytes = 2048;
inline constexpr size_t kMaxSecretBytes = 512;
inline constexpr size_t kMaxRecipients = 100;
inline constexpr size_t kMaxStatementProjects = 10000;

StatusOr<NotifyConfig> ParseNotifyConfig(std::string_view json);
StatusOr<NotifyConfig> LoadNotifyConfigFile(const std::string& path);

// The channels a notice goes to, each once, in the order of its audiences.
std::vector<const ChannelConfig*> ResolveChannels(const NotifyConfig& config, const Notice& notice);

}  // namespace gpuledger
