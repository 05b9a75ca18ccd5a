#include "notify/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace gpuledger {

namespace {

using nlohmann::json;

struct TypeInfo {
  const char* name;
  ChannelType type;
};
constexpr TypeInfo kTypes[] = {{"dingtalk", ChannelType::kDingTalk}, {"wecom", ChannelType::kWeCom},
                               {"feishu", ChannelType::kFeishu},     {"slack", ChannelType::kSlack},
                               {"webhook", ChannelType::kWebhook},   {"smtp", ChannelType::kSmtp}};

std::string Quote(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

Status String(const json& v, const std::string& where, size_t max, std::string* out, bool secret = false) {
  if (!v.is_string()) return InvalidArgument(where + " must be a string, not " + (secret ? v.type_name() : Quote(v)));
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max) {
    return InvalidArgument(where + " is " + std::to_string(s.size()) + " bytes, over the limit of " +
                           std::to_string(max));
  }
  *out = s;
  return OkStatus();
}

Status Int(const json& v, const std::string& where, int64_t lo, int64_t hi, int* out) {
  const std::string range = " (allowed " + std::to_string(lo) + ".." + std::to_string(hi) + ")";
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return InvalidArgument(where + " is " + std::to_string(u) + range);
    if (static_cast<int64_t>(u) < lo) return InvalidArgument(where + " is " + std::to_string(u) + range);
    *out = static_cast<int>(u);
    return OkStatus();
  }
  if (!v.is_number_integer()) return InvalidArgument(where + " must be an integer, not " + Quote(v) + range);
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) return InvalidArgument(where + " is " + std::to_string(i) + range);
  *out = static_cast<int>(i);
  return OkStatus();
}

Status Bool(const json& v, const std::string& where, bool* out) {
  if (!v.is_boolean()) return InvalidArgument(where + " must be true or false, not " + Quote(v));
  *out = v.get<bool>();
  return OkStatus();
}

Status ParseLanguage(const json& v, const std::string& where, Language* out) {
  if (v == "zh-CN") {
    *out = Language::kZhCn;
  } else if (v == "en") {
    *out = Language::kEn;
  } else {
    return InvalidArgument(where + " is " + Quote(v) + R"(, not "zh-CN" or "en")");
  }
  return OkStatus();
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > kMaxChannelNameBytes) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

// The webhook URL: a secret (it holds the robot's token), so only its scheme is named.
Status CheckUrl(const std::string& url, const std::string& where) {
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return InvalidArgument(where + " must start with https:// or http:// (the value is not shown: it holds the "
                                   "robot's token)");
  }
  const size_t host = url.find("://") + 3;
  if (host >= url.size() || url[host] == '/' || url[host] == '?') return InvalidArgument(where + " names no host");
  for (unsigned char c : url) {
    if (c <= ' ' || c >= 0x7f) return InvalidArgument(where + " holds a space, control or non-ASCII byte");
  }
  return OkStatus();
}

Status ParseRate(const json& v, const std::string& where, RateLimit* r) {
  if (!v.is_object()) return InvalidArgument(where + " must be an object, not " + Quote(v));
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string k = where + "." + it.key();
    if (it.key() == "per_second") {
      RETURN_IF_ERROR(Int(*it, k, 0, 1000, &r->per_second));
    } else if (it.key() == "per_minute") {
      RETURN_IF_ERROR(Int(*it, k, 0, 60000, &r->per_minute));
    } else {
      return InvalidArgument("unknown key " + k + " (it takes per_second, per_minute)");
    }
  }
  return OkStatus();
}

Status ParseChannel(const std::string& name, const json& v, Language default_language, ChannelConfig* c) {
  const std::string where = "channels." + name;
  if (!ValidName(name)) {
    return InvalidArgument("channel name " + Quote(json(name)) + " must be 1.." +
                           std::to_string(kMaxChannelNameBytes) + " of [A-Za-z0-9._-]");
  }
  if (!v.is_object()) return InvalidArgument(where + " must be an object, not " + Quote(v));
  c->name = name;
  c->language = default_language;
  auto type = v.find("type");
  if (type == v.end()) {
    return InvalidArgument(where + ".type is missing (one of dingtalk, wecom, feishu, slack, webhook, smtp)");
  }
  bool known = false;
  for (const TypeInfo& t : kTypes) {
    if (*type == t.name) c->type = t.type, known = true;
  }
  if (!known) {
    return InvalidArgument(where + ".type is " + Quote(*type) +
                           ", not one of dingtalk, wecom, feishu, slack, webhook, smtp");
  }
  const bool mail = c->type == ChannelType::kSmtp;
  bool rate_set = false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    const std::string k = where + "." + key;
    if (key == "type") continue;
    if (key == "language") {
      RETURN_IF_ERROR(ParseLanguage(*it, k, &c->language));
    } else if (key == "timeout_s") {
      RETURN_IF_ERROR(Int(*it, k, 1, 120, &c->timeout_s));
    } else if (key == "rate_limit") {
      RETURN_IF_ERROR(ParseRate(*it, k, &c->rate));
      rate_set = true;
    } else if (key == "ca_file") {
      RETURN_IF_ERROR(String(*it, k, 4096, &c->ca_file));
    } else if (!mail && key == "url") {
      RETURN_IF_ERROR(String(*it, k, kMaxUrlBytes, &c->url, /*secret=*/true));
      RETURN_IF_ERROR(CheckUrl(c->url, k));
    } else if (key == "secret" &&
               (c->type == ChannelType::kDingTalk || c->type == ChannelType::kFeishu ||
                c->type == ChannelType::kWebhook)) {
      RETURN_IF_ERROR(String(*it, k, kMaxSecretBytes, &c->secret, /*secret=*/true));
    } else if (key == "format" && c->type == ChannelType::kWeCom) {
      if (*it != "markdown" && *it != "text") {
        return InvalidArgument(k + " is " + Quote(*it) + R"(, not "markdown" or "text")");
      }
      c->wecom_text = *it == "text";
    } else if (mail && key == "host") {
      RETURN_IF_ERROR(String(*it, k, 255, &c->host));
    } else if (mail && key == "port") {
      RETURN_IF_ERROR(Int(*it, k, 1, 65535, &c->port));
    } else if (mail && key == "starttls") {
      RETURN_IF_ERROR(Bool(*it, k, &c->starttls));
    } else if (mail && key == "username") {
      RETURN_IF_ERROR(String(*it, k, 255, &c->username));
    } else if (mail && key == "password") {
      RETURN_IF_ERROR(String(*it, k, kMaxSecretBytes, &c->password, /*secret=*/true));
    } else if (mail && key == "from") {
      RETURN_IF_ERROR(String(*it, k, 255, &c->from));
    } else if (mail && key == "to") {
      if (!it->is_array() || it->empty()) return InvalidArgument(k + " must be a non-empty array of addresses");
      if (it->size() > kMaxRecipients) {
        return InvalidArgument(k + " has " + std::to_string(it->size()) + " addresses, over the limit of " +
                               std::to_string(kMaxRecipients));
      }
      for (size_t i = 0; i < it->size(); ++i) {
        std::string a;
        RETURN_IF_ERROR(String((*it)[i], k + "[" + std::to_string(i) + "]", 255, &a));
        c->to.push_back(std::move(a));
      }
    } else {
      return InvalidArgument("unknown key " + k + " for a " + std::string(ChannelTypeName(c->type)) + " channel");
    }
  }
  if (!rate_set) c->rate = DefaultRateLimit(c->type);
  auto address_ok = [](const std::string& a) {
    const size_t at = a.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= a.size()) return false;
    for (unsigned char ch : a) {
      if (ch <= ' ' || ch == '<' || ch == '>' || ch == ',' || ch >= 0x7f) return false;
    }
    return true;
  };
  if (mail) {
    if (c->host.empty()) return InvalidArgument(where + ".host is missing");
    if (c->from.empty()) return InvalidArgument(where + ".from is missing");
    if (c->to.empty()) return InvalidArgument(where + ".to is missing");
    if (!address_ok(c->from)) return InvalidArgument(where + ".from " + Quote(json(c->from)) + " is not an address");
    for (const std::string& a : c->to) {
      if (!address_ok(a)) return InvalidArgument(where + ".to " + Quote(json(a)) + " is not an address");
    }
    if (!c->username.empty() && !c->starttls) {
      return InvalidArgument(where + ".username needs \"starttls\": true (a password is never sent in the clear)");
    }
    if (c->username.empty() != c->password.empty()) {
      return InvalidArgument(where + ": username and password go together");
    }
  } else if (c->url.empty()) {
    return InvalidArgument(where + ".url is missing");
  }
  return OkStatus();
}

Status ParseNames(const json& v, const std::string& where, const NotifyConfig& cfg, std::vector<std::string>* out) {
  if (!v.is_array()) return InvalidArgument(where + " must be an array of channel names, not " + Quote(v));
  if (v.size() > kMaxChannels) {
    return InvalidArgument(where + " names " + std::to_string(v.size()) + " channels, over the limit of " +
                           std::to_string(kMaxChannels));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string k = where + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) return InvalidArgument(k + " must be a channel name, not " + Quote(v[i]));
    const auto& n = v[i].get_ref<const std::string&>();
    if (cfg.Find(n) == nullptr) return InvalidArgument(k + " names channel " + Quote(v[i]) + ", which is not defined");
    out->push_back(n);
  }
  return OkStatus();
}

Status ParseRoute(const json& v, const std::string& where, const char* by, const NotifyConfig& cfg,
                  AudienceRoute* r) {
  if (v.is_array()) return ParseNames(v, where, cfg, &r->defaults);
  if (!v.is_object()) return InvalidArgument(where + " must be an object or an array of channel names");
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string k = where + "." + it.key();
    if (it.key() == "default") {
      RETURN_IF_ERROR(ParseNames(*it, k, cfg, &r->defaults));
    } else if (by != nullptr && it.key() == by) {
      if (!it->is_object()) return InvalidArgument(k + " must be an object of name -> channel names");
      for (auto e = it->begin(); e != it->end(); ++e) {
        RETURN_IF_ERROR(ParseNames(*e, k + "." + e.key(), cfg, &r->by_key[e.key()]));
      }
    } else {
      return InvalidArgument("unknown key " + k + " (it takes default" + (by ? std::string(", ") + by : "") + ")");
    }
  }
  return OkStatus();
}

// "statements": {"projects": "all" | [names], "channels": [names] | {"default": [...],
// "projects": {name: [...]}}, "day": 1..28, "hour": 0..23}.
Status ParseStatements(const json& v, const NotifyConfig& cfg, StatementSchedule* st) {
  if (!v.is_object()) return InvalidArgument("statements must be an object, not " + Quote(v));
  st->enabled = true;
  bool routed = false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string k = "statements." + it.key();
    if (it.key() == "projects") {
      if (*it == "all") continue;
      if (!it->is_array() || it->empty())
        return InvalidArgument(k + R"( must be "all" or a non-empty array of project names, not )" +
                               Quote(*it));
      if (it->size() > kMaxStatementProjects) {
        return InvalidArgument(k + " names " + std::to_string(it->size()) + " projects, over the limit of " +
                               std::to_string(kMaxStatementProjects));
      }
      st->all_projects = false;
      for (size_t i = 0; i < it->size(); ++i) {
        std::string name;
        RETURN_IF_ERROR(String((*it)[i], k + "[" + std::to_string(i) + "]", 128, &name));
        if (name.empty()) return InvalidArgument(k + "[" + std::to_string(i) + "] is empty");
        st->projects.push_back(std::move(name));
      }
    } else if (it.key() == "channels") {
      RETURN_IF_ERROR(ParseRoute(*it, k, "projects", cfg, &st->channels));
      routed = !st->channels.defaults.empty() || !st->channels.by_key.empty();
    } else if (it.key() == "day") {
      RETURN_IF_ERROR(Int(*it, k, 1, 28, &st->day));
    } else if (it.key() == "hour") {
      RETURN_IF_ERROR(Int(*it, k, 0, 23, &st->hour));
    } else {
      return InvalidArgument("unknown key " + k + " (it takes projects, channels, day, hour)");
    }
  }
  if (!routed) return InvalidArgument("statements.channels is missing: name the channels statements go to");
  return OkStatus();
}

}  // namespace

const char* ChannelTypeName(ChannelType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i.name;
  }
  return "webhook";
}

const char* LanguageName(Language l) { return l == Language::kEn ? "en" : "zh-CN"; }

RateLimit DefaultRateLimit(ChannelType t) {
  switch (t) {
    case ChannelType::kDingTalk:
    case ChannelType::kWeCom: return {0, 20};
    case ChannelType::kFeishu: return {5, 100};
    case ChannelType::kSlack: return {1, 0};
    case ChannelType::kWebhook:
    case ChannelType::kSmtp: return {0, 0};
  }
  return {0, 0};
}

const ChannelConfig* NotifyConfig::Find(const std::string& name) const {
  for (const ChannelConfig& c : channels) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

StatusOr<NotifyConfig> ParseNotifyConfig(std::string_view text) {
  if (text.size() > kMaxNotifyConfigBytes) {
    return InvalidArgument("notify config is " + std::to_string(text.size()) + " bytes, over the limit of " +
                           std::to_string(kMaxNotifyConfigBytes));
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("notify config: not valid JSON");
  if (!j.is_object()) return InvalidArgument("notify config: not a JSON object");
  NotifyConfig cfg;
  Language language = Language::kZhCn;
  if (auto l = j.find("language"); l != j.end()) RETURN_IF_ERROR(ParseLanguage(*l, "language", &language));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "language" && it.key() != "channels" && it.key() != "audiences" &&
        it.key() != "statements") {
      return InvalidArgument("notify config: unknown key '" + it.key() +
                             "' (it takes language, channels, audiences, statements)");
    }
  }
  if (auto ch = j.find("channels"); ch != j.end()) {
    if (!ch->is_object()) return InvalidArgument("channels must be an object of name -> channel");
    if (ch->size() > kMaxChannels) {
      return InvalidArgument("channels has " + std::to_string(ch->size()) + " entries, over the limit of " +
                             std::to_string(kMaxChannels));
    }
    for (auto it = ch->begin(); it != ch->end(); ++it) {
      ChannelConfig c;
      RETURN_IF_ERROR(ParseChannel(it.key(), *it, language, &c));
      cfg.channels.push_back(std::move(c));
    }
  }
  if (auto a = j.find("audiences"); a != j.end()) {
    if (!a->is_object()) return InvalidArgument("audiences must be an object");
    for (auto it = a->begin(); it != a->end(); ++it) {
      const std::string k = "audiences." + it.key();
      if (it.key() == "job_owner") {
        RETURN_IF_ERROR(ParseRoute(*it, k, "users", cfg, &cfg.job_owner));
      } else if (it.key() == "project_channel") {
        RETURN_IF_ERROR(ParseRoute(*it, k, "projects", cfg, &cfg.project_channel));
      } else if (it.key() == "dept_admin") {
        RETURN_IF_ERROR(ParseRoute(*it, k, "departments", cfg, &cfg.dept_admin));
      } else if (it.key() == "finance") {
        RETURN_IF_ERROR(ParseRoute(*it, k, nullptr, cfg, &cfg.finance));
      } else {
        return InvalidArgument("unknown key " + k +
                               " (it takes job_owner, project_channel, dept_admin, finance)");
      }
    }
  }
  if (auto st = j.find("statements"); st != j.end())
    RETURN_IF_ERROR(ParseStatements(*st, cfg, &cfg.statements));
  return cfg;
}

StatusOr<NotifyConfig> LoadNotifyConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("notify config '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseNotifyConfig(ss.str());
  if (!c.ok()) return InvalidArgument("notify config '" + path + "': " + c.status().message());
  return c;
}

std::vector<const ChannelConfig*> ResolveChannels(const NotifyConfig& config, const Notice& notice) {
  std::vector<const ChannelConfig*> out;
  std::set<std::string> seen;
  auto add = [&](const AudienceRoute& r, const std::string& key) {
    auto it = r.by_key.find(key);
    const std::vector<std::string>& names = it != r.by_key.end() ? it->second : r.defaults;
    for (const std::string& n : names) {
      const ChannelConfig* c = config.Find(n);
      if (c != nullptr && seen.insert(n).second) out.push_back(c);
    }
  };
  for (Audience a : notice.audiences) {
    switch (a) {
      case Audience::kJobOwner: add(config.job_owner, notice.user); break;
      case Audience::kProjectChannel: add(config.project_channel, notice.project); break;
      case Audience::kDeptAdmin: add(config.dept_admin, notice.department); break;
      case Audience::kFinance: add(config.finance, ""); break;
      case Audience::kStatement: add(config.statements.channels, notice.project); break;
    }
  }
  return out;
}

}  // namespace gpuledger
