// The notify config: what it accepts, and refusals that name the key, the limit and the
// value (never a secret). Also the signing primitives against published vectors, the
// templates in both languages, and the UTF-8-safe cut.
#include "notify/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify/sign.h"
#include "notify/templates.h"

namespace gpuledger {
namespace {

constexpr const char* kExample = R"({
  "language": "zh-CN",
  "channels": {
    "ops-dingtalk": {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=T", "secret": "SECx"},
    "edge-wecom": {"type": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", "format": "text"},
    "lark": {"type": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/H", "secret": "s", "language": "en"},
    "slack": {"type": "slack", "url": "https://hooks.slack.com/services/A/B/C", "rate_limit": {"per_second": 2}},
    "owner-mail": {"type": "smtp", "host": "smtp.corp.example", "port": 587, "starttls": true,
                   "username": "robot", "password": "pw", "from": "gpuledger@corp.example",
                   "to": ["{user}@corp.example"]},
    "finance-mail": {"type": "smtp", "host": "smtp.corp.example", "from": "gpuledger@corp.example",
                     "to": ["finance@corp.example"], "language": "en"}
  },
  "audiences": {
    "job_owner": {"default": ["owner-mail"], "users": {"zhangsan": ["owner-mail", "slack"]}},
    "project_channel": {"default": ["ops-dingtalk"], "projects": {"yolo-edge": ["edge-wecom"]}},
    "dept_admin": {"departments": {"vision": ["lark"]}},
    "finance": ["finance-mail"]
  }
})";

TEST(NotifyConfig, TheDocumentedExampleParses) {
  auto c = ParseNotifyConfig(kExample);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->channels.size(), 6u);
  const ChannelConfig* d = c->Find("ops-dingtalk");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, ChannelType::kDingTalk);
  EXPECT_EQ(d->language, Language::kZhCn);
  EXPECT_EQ(d->rate.per_minute, 20);
  EXPECT_EQ(c->Find("lark")->language, Language::kEn);
  EXPECT_EQ(c->Find("lark")->rate.per_second, 5);
  EXPECT_EQ(c->Find("lark")->rate.per_minute, 100);
  EXPECT_EQ(c->Find("slack")->rate.per_second, 2);
  EXPECT_TRUE(c->Find("edge-wecom")->wecom_text);
  EXPECT_EQ(c->Find("owner-mail")->port, 587);
  EXPECT_EQ(c->Find("finance-mail")->port, 25);

  Notice n;
  n.user = "zhangsan";
  n.project = "yolo-edge";
  n.department = "vision";
  n.audiences = {Audience::kJobOwner, Audience::kProjectChannel, Audience::kDeptAdmin, Audience::kFinance,
                 Audience::kJobOwner};
  std::vector<std::string> names;
  for (const ChannelConfig* ch : ResolveChannels(*c, n)) names.push_back(ch->name);
  EXPECT_EQ(names, (std::vector<std::string>{"owner-mail", "slack", "edge-wecom", "lark", "finance-mail"}));
  n.user = "lisi";
  n.project = "other";
  n.department = "other";
  names.clear();
  for (const ChannelConfig* ch : ResolveChannels(*c, n)) names.push_back(ch->name);
  EXPECT_EQ(names, (std::vector<std::string>{"owner-mail", "ops-dingtalk", "finance-mail"}));
}

std::string Refusal(const std::string& json) {
  auto c = ParseNotifyConfig(json);
  EXPECT_FALSE(c.ok()) << json;
  return c.ok() ? "" : c.status().message();
}

TEST(NotifyConfig, RefusalsNameTheKeyTheLimitAndTheValue) {
  EXPECT_EQ(Refusal("[1]"), "notify config: not a JSON object");
  EXPECT_EQ(Refusal("{"), "notify config: not valid JSON");
  EXPECT_EQ(Refusal(R"({"chanels": {}})"),
            "notify config: unknown key 'chanels' (it takes language, channels, audiences, statements)");
  EXPECT_EQ(Refusal(R"({"language": "fr"})"), R"(language is "fr", not "zh-CN" or "en")");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"url": "https://x"}}})"),
            "channels.a.type is missing (one of dingtalk, wecom, feishu, slack, webhook, smtp)");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"type": "teams", "url": "https://x"}}})"),
            R"(channels.a.type is "teams", not one of dingtalk, wecom, feishu, slack, webhook, smtp)");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"type": "slack"}}})"), "channels.a.url is missing");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"type": "slack", "url": "https://x", "timeout_s": 600}}})"),
            "channels.a.timeout_s is 600 (allowed 1..120)");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"type": "slack", "url": "https://x", "rate_limit": {"per_hour": 1}}}})"),
            "unknown key channels.a.rate_limit.per_hour (it takes per_second, per_minute)");
  EXPECT_EQ(Refusal(R"({"channels": {"a": {"type": "slack", "url": "https://x", "secret": "s"}}})"),
            "unknown key channels.a.secret for a slack channel");
  EXPECT_EQ(Refusal(R"({"channels": {"a b": {"type": "slack", "url": "https://x"}}})"),
            R"(channel name "a b" must be 1..64 of [A-Za-z0-9._-])");
  EXPECT_EQ(Refusal(R"({"channels": {"m": {"type": "smtp", "host": "h", "port": 70000, "from": "a@b", "to": ["c@d"]}}})"),
            "channels.m.port is 70000 (allowed 1..65535)");
  EXPECT_EQ(Refusal(R"({"channels": {"m": {"type": "smtp", "host": "h", "from": "nobody", "to": ["c@d"]}}})"),
            R"(channels.m.from "nobody" is not an address)");
  EXPECT_EQ(Refusal(R"({"channels": {"m": {"type": "smtp", "host": "h", "from": "a@b", "to": ["c@d"],
                    "username": "u", "password": "p"}}})"),
            "channels.m.username needs \"starttls\": true (a password is never sent in the clear)");
  EXPECT_EQ(Refusal(R"({"channels": {}, "audiences": {"finance": ["nope"]}})"),
            R"(audiences.finance[0] names channel "nope", which is not defined)");
  EXPECT_EQ(Refusal(R"({"audiences": {"owners": []}})"),
            "unknown key audiences.owners (it takes job_owner, project_channel, dept_admin, finance)");
  std::string big = R"({"channels": {"a": {"type": "slack", "url": "https://x/)" + std::string(3000, 'a') + R"("}}})";
  EXPECT_EQ(Refusal(big), "channels.a.url is 3010 bytes, over the limit of 2048");
}

TEST(NotifyConfig, AStatementScheduleNamesItsProjectsChannelsDayAndHour) {
  const std::string channels =
      R"("channels": {"fin": {"type": "webhook", "url": "http://127.0.0.1:9/f"},
                      "edge": {"type": "slack", "url": "https://hooks.slack.com/services/A"}})";
  auto all = ParseNotifyConfig("{" + channels + R"(, "statements": {"channels": ["fin"]}})");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->statements.enabled);
  EXPECT_TRUE(all->statements.all_projects);
  EXPECT_EQ(all->statements.day, 1);
  EXPECT_EQ(all->statements.hour, 9);
  EXPECT_FALSE(ParseNotifyConfig("{" + channels + "}")->statements.enabled);

  auto some =
      ParseNotifyConfig("{" + channels + R"(, "statements": {"projects": ["yolo-edge", "pcb"], "day": 3,
      "hour": 0, "channels": {"default": ["fin"], "projects": {"yolo-edge": ["edge", "fin"]}}}})");
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_FALSE(some->statements.all_projects);
  EXPECT_EQ(some->statements.projects, (std::vector<std::string>{"yolo-edge", "pcb"}));
  EXPECT_EQ((std::pair{some->statements.day, some->statements.hour}), (std::pair{3, 0}));
  // A statement goes to its project's channels, else the default; no other audience's.
  Notice n;
  n.project = "yolo-edge";
  n.audiences = {Audience::kStatement};
  std::vector<std::string> names;
  for (const ChannelConfig* ch : ResolveChannels(*some, n)) names.push_back(ch->name);
  EXPECT_EQ(names, (std::vector<std::string>{"edge", "fin"}));
  n.project = "pcb";
  names.clear();
  for (const ChannelConfig* ch : ResolveChannels(*some, n)) names.push_back(ch->name);
  EXPECT_EQ(names, (std::vector<std::string>{"fin"}));

  auto refused = [&](const std::string& statements) {
    return Refusal("{" + channels + R"(, "statements": )" + statements + "}");
  };
  EXPECT_EQ(refused(R"({"day": 1})"), "statements.channels is missing: name the channels statements go to");
  EXPECT_EQ(refused(R"({"channels": ["fin"], "day": 29})"), "statements.day is 29 (allowed 1..28)");
  EXPECT_EQ(refused(R"({"channels": ["fin"], "hour": 24})"), "statements.hour is 24 (allowed 0..23)");
  EXPECT_EQ(refused(R"({"channels": ["nope"]})"),
            R"(statements.channels[0] names channel "nope", which is not defined)");
  EXPECT_EQ(refused(R"({"channels": ["fin"], "projects": "some"})"),
            R"(statements.projects must be "all" or a non-empty array of project names, not "some")");
  EXPECT_EQ(refused(R"({"channels": ["fin"], "at": "09:00"})"),
            "unknown key statements.at (it takes projects, channels, day, hour)");
  EXPECT_EQ(refused(R"({"channels": {"users": {}}})"),
            "unknown key statements.channels.users (it takes default, projects)");
}

TEST(NotifyConfig, SecretsAreNeverEchoed) {
  const std::string m1 = Refusal(R"({"channels": {"a": {"type": "dingtalk", "url": "ftp://oapi/robot?access_token=TOPSECRET"}}})");
  EXPECT_EQ(m1.find("TOPSECRET"), std::string::npos) << m1;
  EXPECT_NE(m1.find("channels.a.url must start with https:// or http://"), std::string::npos);
  const std::string m2 = Refusal(R"({"channels": {"a": {"type": "dingtalk", "url": "https://x", "secret": 12345678}}})");
  EXPECT_EQ(m2, "channels.a.secret must be a string, not number");
}

TEST(Sign, HmacSha256AndBase64MatchPublishedVectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexLower(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4648 section 10.
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(UrlEncode("a+b/c=d e~"), "a%2Bb%2Fc%3Dd%20e~");
}

Notice Budget() {
  Notice n;
  n.cause_key = "budget/yolo-edge/2026-12/80";
  n.event = "budget.80";
  n.project = "yolo-edge";
  n.department = "vision";
  n.fields = {{"budget", "10000.00 CNY"}, {"month_to_date", "8012.50 CNY"}};
  return n;
}

TEST(Templates, EveryEventReadsInChineseAndEnglish) {
  for (const char* event :
       {"breaker.paused", "idle.warn", "idle.act", "duration.warn", "duration.act", "digest.weekly",
        "budget.80", "budget.100", "budget.projected", "statement.monthly", "notify.test"}) {
    Notice n = Budget();
    n.event = event;
    n.job_id = "j1";
    n.user = "zhangsan";
    const RenderedMessage zh = RenderNotice(n, Language::kZhCn, MessageFormat::kText);
    const RenderedMessage en = RenderNotice(n, Language::kEn, MessageFormat::kText);
    EXPECT_EQ(zh.title.find("gpuledger 通知"), std::string::npos) << event << ": fell back";
    EXPECT_NE(zh.title, en.title) << event;
    EXPECT_NE(zh.text.find("month_to_date：8012.50 CNY"), std::string::npos) << event;
    EXPECT_NE(en.text.find("month_to_date: 8012.50 CNY"), std::string::npos) << event;
  }
  const RenderedMessage m = RenderNotice(Budget(), Language::kZhCn, MessageFormat::kMarkdown);
  EXPECT_EQ(m.title, "预算提醒：yolo-edge 已用 80%");
  EXPECT_EQ(m.text,
            "### 预算提醒：yolo-edge 已用 80%\n\nyolo-edge 本月至今的成本已达到月度预算的 80%。\n\n"
            "- **项目**: yolo-edge\n- **部门**: vision\n- **budget**: 10000.00 CNY\n"
            "- **month_to_date**: 8012.50 CNY\n");
}

TEST(Templates, AStatementShowsItsTableAsABlockAndKeepsItsJsonForMachines) {
  Notice n;
  n.cause_key = "statement/yolo-edge/2026-10";
  n.event = "statement.monthly";
  n.project = "yolo-edge";
  n.fields = {{"month", "2026-10"},
              {"cost", "812.50"},
              {"statement_text", "Statement 2026-10: project yolo-edge\n  user  cost\n  ```x\n"},
              {"statement_json", R"({"cost":"812.50"})"}};
  const RenderedMessage en = RenderNotice(n, Language::kEn, MessageFormat::kText);
  EXPECT_EQ(en.title, "Monthly statement: project yolo-edge, 2026-10");
  EXPECT_NE(en.text.find("cost: 812.50\n\nStatement 2026-10: project yolo-edge\n  user  cost\n"),
            std::string::npos)
      << en.text;
  EXPECT_EQ(en.text.find("statement_json"), std::string::npos) << en.text;
  EXPECT_EQ(en.text.find("statement_text"), std::string::npos) << en.text;
  const RenderedMessage zh = RenderNotice(n, Language::kZhCn, MessageFormat::kMarkdown);
  EXPECT_EQ(zh.title, "月度账单：项目 yolo-edge（2026-10）");
  // In a code fence, which a ``` inside cannot close.
  EXPECT_NE(
      zh.text.find("\n```\nStatement 2026-10: project yolo-edge\n  user  cost\n  `\u200b`\u200b`x\n```\n"),
      std::string::npos)
      << zh.text;
  // The generic webhook carries both as fields.
  const auto j = nlohmann::json::parse(NoticeJson(n, en));
  EXPECT_EQ(j["fields"]["statement_json"], R"({"cost":"812.50"})");
  EXPECT_EQ(j["event"], "statement.monthly");
}

TEST(Templates, AnUnknownEventFallsBackToTheFields) {
  Notice n = Budget();
  n.event = "quota.exceeded";
  const RenderedMessage en = RenderNotice(n, Language::kEn, MessageFormat::kSlackMrkdwn);
  EXPECT_EQ(en.title, "gpuledger notice: quota.exceeded");
  EXPECT_NE(en.text.find("• *event*: quota.exceeded\n"), std::string::npos);
  EXPECT_NE(en.text.find("• *budget*: 10000.00 CNY\n"), std::string::npos);
}

TEST(Templates, TruncationNeverSplitsACharacter) {
  const std::string s = "预算预算预算";  // 18 bytes, 3 per character
  bool cut = false;
  EXPECT_EQ(TruncateUtf8(s, 18, "…", &cut), s);
  EXPECT_FALSE(cut);
  EXPECT_EQ(TruncateUtf8(s, 10, "", &cut), "预算预");  // 9 bytes: the 4th character does not fit
  EXPECT_TRUE(cut);
  EXPECT_EQ(TruncateUtf8(s, 11, "…"), "预算…");  // 6 + 3 bytes; 7 for the text would split one
}

}  // namespace
}  // namespace gpuledger
