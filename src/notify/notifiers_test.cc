// Each webhook notifier against a real local HTTP server (test_peer.h): the request's
// shape, the services' size limits, DingTalk's and Feishu's signatures recomputed here
// by their documented algorithms (with OpenSSL directly, not notify/sign.h), and how
// the sender reads the answers (retry, give up, Retry-After, rate limits). Notices go
// through the real path: OutboxSink into an SQLite ledger, OutboxSender out of it.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "notify/outbox_sender.h"
#include "notify/outbox_sink.h"
#include "notify/test_peer.h"

namespace gpuledger {
namespace {

constexpr TimeMs kNow = 1796203200123;  // 2026-12-02T09:20:00.123Z

std::string RefHmacBase64(const std::string& key, const std::string& msg) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &n);
  unsigned char b64[128];
  const int len = EVP_EncodeBlock(b64, mac, static_cast<int>(n));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(len));
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

Notice Breaker(const std::string& key = "breaker/job-17/2026-12-02T10:00Z") {
  Notice n;
  n.cause_key = key;
  n.event = "breaker.paused";
  n.at_ms = kNow - 5000;
  n.job_id = "job-17";
  n.user = "zhangsan";
  n.project = "defect-detection";
  n.department = "manufacturing";
  n.audiences = {Audience::kProjectChannel};
  n.fields = {{"loss_delta", "0.0004"}, {"gpu_util_pct", "31.5"}, {"resume", "yolo train resume=True"}};
  return n;
}

class Notifiers : public ::testing::Test {
 protected:
  // A config with one channel `json` (its url made from the peer) for the project channel.
  void Configure(nlohmann::json channel) {
    nlohmann::json cfg = {{"channels", {{"c", channel}}}, {"audiences", {{"project_channel", {"c"}}}}};
    auto c = ParseNotifyConfig(cfg.dump());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    sink_ = std::make_unique<OutboxSink>(*ledger_, config_, clock_);
    SenderOptions o;
    o.logger = &log_;
    sender_ = std::make_unique<OutboxSender>(DirectLedgerAccess(*ledger_), config_, clock_, o);
  }
  OutboxDelivery Only() {
    auto all = ledger_->ListDeliveries("");
    EXPECT_EQ(all->size(), 1u);
    return all->empty() ? OutboxDelivery{} : all->front();
  }

  testing::TempDir dir_;
  testing::HttpPeer peer_;
  SimulatedClock clock_{kNow};
  CapturingLogger log_;
  NotifyConfig config_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<OutboxSink> sink_;
  std::unique_ptr<OutboxSender> sender_;
};

TEST_F(Notifiers, DingTalkIsSignedInTheQueryAndSendsMarkdown) {
  Configure({{"type", "dingtalk"},
             {"url", peer_.base() + "/robot/send?access_token=TOKEN123"},
             {"secret", "SECabc"},
             {"language", "zh-CN"}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  auto seen = peer_.seen();
  ASSERT_EQ(seen.size(), 1u);
  const auto& r = seen[0];
  EXPECT_EQ(r.path, "/robot/send");
  EXPECT_EQ(r.params.find("access_token")->second, "TOKEN123");
  const std::string ts = r.params.find("timestamp")->second;
  EXPECT_EQ(ts, std::to_string(kNow));  // milliseconds
  // sign = URL-encode(Base64(HMAC-SHA256(secret, ts + "\n" + secret))); the server decoded it.
  EXPECT_EQ(r.params.find("sign")->second, RefHmacBase64("SECabc", ts + "\nSECabc"));
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_EQ(body["markdown"]["title"], "熔断：任务 job-17 已暂停");
  const std::string text = body["markdown"]["text"];
  EXPECT_NE(text.find("### 熔断：任务 job-17 已暂停"), std::string::npos);
  EXPECT_NE(text.find("- **loss_delta**: 0.0004"), std::string::npos);
  EXPECT_NE(text.find("- **项目**: defect-detection"), std::string::npos);
  EXPECT_FALSE(body["at"]["isAtAll"].get<bool>());
  EXPECT_EQ(Only().state, DeliveryState::kSent);
  EXPECT_EQ(Only().sent_ms, kNow);
  // The token and the secret are in no log line.
  EXPECT_EQ(log_.Text().find("TOKEN123"), std::string::npos);
  EXPECT_EQ(log_.Text().find("SECabc"), std::string::npos);
}

TEST_F(Notifiers, FeishuIsSignedInTheBodyWithTheTimestampAndSecretAsTheKey) {
  Configure({{"type", "feishu"},
             {"url", peer_.base() + "/open-apis/bot/v2/hook/HOOKTOKEN"},
             {"secret", "feishu-secret"},
             {"language", "en"}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  auto seen = peer_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/open-apis/bot/v2/hook/HOOKTOKEN");
  const auto body = nlohmann::json::parse(seen[0].body);
  const std::string ts = body["timestamp"];
  EXPECT_EQ(ts, std::to_string(kNow / 1000));  // seconds, as a string
  // sign = Base64(HMAC-SHA256(key = ts + "\n" + secret, message = "")).
  EXPECT_EQ(body["sign"], RefHmacBase64(ts + "\nfeishu-secret", ""));
  EXPECT_NE(body["sign"], RefHmacBase64("feishu-secret", ts + "\nfeishu-secret"));  // the common mistake
  EXPECT_EQ(body["msg_type"], "interactive");
  EXPECT_EQ(body["card"]["header"]["title"]["content"], "Circuit breaker: job job-17 paused");
  const std::string md = body["card"]["elements"][0]["content"];
  EXPECT_NE(md.find("- **gpu_util_pct**: 31.5"), std::string::npos);
  EXPECT_LE(seen[0].body.size(), kFeishuBodyMaxBytes);
  EXPECT_EQ(Only().state, DeliveryState::kSent);
}

TEST_F(Notifiers, FeishuBodiesAreCutToTwentyKilobytes) {
  Configure({{"type", "feishu"}, {"url", peer_.base() + "/open-apis/bot/v2/hook/T"}, {"secret", "s"}});
  Notice n = Breaker();
  n.fields.clear();
  for (int i = 0; i < 60; ++i) n.fields.emplace_back("f" + std::to_string(i), std::string(500, 'x') + "\"引号\"");
  ASSERT_TRUE(sink_->Enqueue(n).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  auto seen = peer_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_LE(seen[0].body.size(), kFeishuBodyMaxBytes);
  EXPECT_GT(seen[0].body.size(), kFeishuBodyMaxBytes - 1000);
  const std::string md = nlohmann::json::parse(seen[0].body)["card"]["elements"][0]["content"];
  EXPECT_TRUE(ValidUtf8(md));
  EXPECT_NE(md.find("已截断"), std::string::npos);
  EXPECT_EQ(Only().last_error, "sent, with the text cut to the service's size limit");
}

TEST_F(Notifiers, WeComTextStaysWithin2048BytesCutOnACharacterBoundary) {
  Configure({{"type", "wecom"}, {"url", peer_.base() + "/cgi-bin/webhook/send?key=WECOMKEY"}, {"format", "text"}});
  Notice n = Breaker();
  for (int i = 0; i < 40; ++i) n.fields.emplace_back("说明" + std::to_string(i), "损失几乎没有改善，利用率偏低");
  ASSERT_TRUE(sink_->Enqueue(n).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  auto seen = peer_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].params.find("key")->second, "WECOMKEY");
  const auto body = nlohmann::json::parse(seen[0].body);
  EXPECT_EQ(body["msgtype"], "text");
  const std::string content = body["text"]["content"];
  EXPECT_LE(content.size(), kWeComTextMaxBytes);
  EXPECT_GT(content.size(), kWeComTextMaxBytes - 4);  // cut, not dropped: at most one character short
  EXPECT_TRUE(ValidUtf8(content));
  EXPECT_EQ(content.rfind("熔断：任务 job-17 已暂停", 0), 0u);
  EXPECT_NE(content.find("（内容过长，已截断）"), std::string::npos);
}

// DingTalk's markdown text, WeCom's markdown content and Slack's text, each at its cap.
TEST_F(Notifiers, LongTextsAreCutToEachServicesLimit) {
  struct Case {
    const char* type;
    const char* path;
    size_t limit;
    std::vector<std::string> text_at;
  };
  const Case cases[] = {{"dingtalk", "/robot/send?access_token=T", kDingTalkTextMaxBytes, {"markdown", "text"}},
                        {"wecom", "/cgi-bin/webhook/send?key=K", kWeComMarkdownMaxBytes, {"markdown", "content"}},
                        {"slack", "/services/A/B/C", kSlackTextMaxBytes, {"text"}}};
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    testing::HttpPeer peer;
    nlohmann::json cfg = {{"channels", {{"c", {{"type", c.type}, {"url", peer.base() + c.path}}}}},
                          {"audiences", {{"project_channel", {"c"}}}}};
    auto config = ParseNotifyConfig(cfg.dump());
    ASSERT_TRUE(config.ok());
    auto ledger = OpenSqliteLedger(dir_.path() + "/cap" + std::to_string(i++) + ".db");
    OutboxSink sink(**ledger, *config, clock_);
    Notice n = Breaker();
    for (int k = 0; k < 97; ++k) n.fields.emplace_back("f" + std::to_string(k), std::string(450, 'x') + "，利用率");
    ASSERT_TRUE(sink.Enqueue(n).ok());
    OutboxSender sender(DirectLedgerAccess(**ledger), *config, clock_);
    ASSERT_TRUE(sender.DeliverDue().ok());
    ASSERT_EQ(peer.count(), 1u);
    nlohmann::json j = nlohmann::json::parse(peer.seen()[0].body);
    for (const std::string& key : c.text_at) j = j[key];
    const std::string text = j.get<std::string>();
    EXPECT_LE(text.size(), c.limit);
    EXPECT_GT(text.size(), c.limit - 4);
    EXPECT_TRUE(ValidUtf8(text));
    EXPECT_EQ((*ledger)->ListDeliveries("")->front().last_error, "sent, with the text cut to the service's size limit");
  }
}

TEST_F(Notifiers, WeComMarkdownByDefault) {
  Configure({{"type", "wecom"}, {"url", peer_.base() + "/cgi-bin/webhook/send?key=K"}, {"language", "en"}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  const auto body = nlohmann::json::parse(peer_.seen().at(0).body);
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_NE(body["markdown"]["content"].get<std::string>().find("### Circuit breaker"), std::string::npos);
}

TEST_F(Notifiers, SlackGetsMrkdwnWithItsCharactersEscaped) {
  Configure({{"type", "slack"}, {"url", peer_.base() + "/services/T0/B0/XYZ"}, {"language", "en"}});
  peer_.set_default({200, "ok", ""});
  Notice n = Breaker();
  n.fields.emplace_back("note", "a<b & c>d");
  ASSERT_TRUE(sink_->Enqueue(n).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  const auto body = nlohmann::json::parse(peer_.seen().at(0).body);
  const std::string text = body["text"];
  EXPECT_EQ(text.rfind("*Circuit breaker: job job-17 paused*\n", 0), 0u);
  EXPECT_NE(text.find("• *note*: a&lt;b &amp; c&gt;d"), std::string::npos);
  EXPECT_EQ(Only().state, DeliveryState::kSent);
}

TEST_F(Notifiers, TheGenericWebhookCarriesTheNoticeAsJsonSignedInAHeader) {
  Configure({{"type", "webhook"}, {"url", peer_.base() + "/hooks/gpuledger"}, {"secret", "whsec"}, {"language", "en"}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  const auto r = peer_.seen().at(0);
  const std::string ts = r.headers.find("X-Gpuledger-Timestamp")->second;
  EXPECT_EQ(ts, std::to_string(kNow / 1000));
  EXPECT_EQ(r.headers.find("X-Gpuledger-Delivery")->second, std::to_string(Only().id));
  // sha256=hex(HMAC-SHA256(secret, ts + "." + body)).
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const std::string msg = ts + "." + r.body;
  HMAC(EVP_sha256(), "whsec", 5, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &n);
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", mac[i]);
    hex += b;
  }
  EXPECT_EQ(r.headers.find("X-Gpuledger-Signature")->second, "sha256=" + hex);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["event"], "breaker.paused");
  EXPECT_EQ(body["cause_key"], "breaker/job-17/2026-12-02T10:00Z");
  EXPECT_EQ(body["fields"]["loss_delta"], "0.0004");
  EXPECT_EQ(body["job_id"], "job-17");
}

TEST_F(Notifiers, A5xxIsRetriedWithBackoffAndThenSent) {
  Configure({{"type", "webhook"}, {"url", peer_.base() + "/h"}});
  peer_.Script({{503, "busy", ""}, {500, "oops", ""}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  OutboxDelivery d = Only();
  EXPECT_EQ(d.state, DeliveryState::kPending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.next_attempt_ms, kNow + 30 * kSecondMs);
  EXPECT_EQ(d.last_error, "HTTP 503: busy");
  ASSERT_TRUE(sender_->DeliverDue().ok());  // not due yet: nothing sent
  EXPECT_EQ(peer_.count(), 1u);
  clock_.Advance(30 * kSecondMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(Only().next_attempt_ms, kNow + 30 * kSecondMs + 60 * kSecondMs);  // doubled
  clock_.Advance(60 * kSecondMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 3u);
  EXPECT_EQ(Only().state, DeliveryState::kSent);
  EXPECT_EQ(Only().attempts, 3);
}

TEST_F(Notifiers, A4xxIsNotRetriedButA429WaitsForRetryAfter) {
  Configure({{"type", "webhook"}, {"url", peer_.base() + "/h"}});
  peer_.Script({{429, "slow down", "120"}, {404, "no such hook", ""}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(Only().state, DeliveryState::kPending);
  EXPECT_EQ(Only().next_attempt_ms, kNow + 120 * kSecondMs);
  clock_.Advance(119 * kSecondMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 1u);
  clock_.Advance(1 * kSecondMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 2u);
  EXPECT_EQ(Only().state, DeliveryState::kFailed);
  EXPECT_EQ(Only().last_error, "HTTP 404: no such hook");
  clock_.Advance(kHourMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 2u);
}

TEST_F(Notifiers, ServiceErrorCodesInA200AreReadRateLimitsRetriedOthersGivenUp) {
  Configure({{"type", "dingtalk"}, {"url", peer_.base() + "/robot/send?access_token=T"}});
  peer_.Script({{200, R"({"errcode":130101,"errmsg":"send too fast"})", ""},
                {200, R"({"errcode":310000,"errmsg":"sign not match"})", ""}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(Only().state, DeliveryState::kPending);
  EXPECT_EQ(Only().next_attempt_ms, kNow + 10 * kMinuteMs);  // DingTalk holds a robot 10 minutes
  clock_.Advance(10 * kMinuteMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(Only().state, DeliveryState::kFailed);
  EXPECT_NE(Only().last_error.find("code 310000"), std::string::npos);
}

TEST_F(Notifiers, NoAnswerIsRetriedAndGivenUpAfterTheLimit) {
  Configure({{"type", "webhook"}, {"url", "http://127.0.0.1:1/nothing-listens"}, {"timeout_s", 1}});
  ASSERT_TRUE(sink_->Enqueue(Breaker()).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(sender_->DeliverDue().ok());
    clock_.Advance(kHourMs);
  }
  const OutboxDelivery d = Only();
  EXPECT_EQ(d.state, DeliveryState::kFailed);
  EXPECT_EQ(d.attempts, 10);
  EXPECT_EQ(d.last_error.rfind("gave up after 10 attempts: no answer: 127.0.0.1:1", 0), 0u) << d.last_error;
}

TEST_F(Notifiers, DingTalkSendsAtMostTwentyAMinute) {
  Configure({{"type", "dingtalk"}, {"url", peer_.base() + "/robot/send?access_token=T"}});
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(sink_->Enqueue(Breaker("k" + std::to_string(i))).ok());
  auto next = sender_->DeliverDue();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(peer_.count(), 20u);
  EXPECT_EQ(*next, kNow + kMinuteMs);  // the first send leaves the window then
  clock_.Advance(kMinuteMs - 1);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 20u);
  clock_.Advance(1);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 25u);
}

TEST_F(Notifiers, FeishuSendsAtMostFiveASecond) {
  Configure({{"type", "feishu"}, {"url", peer_.base() + "/open-apis/bot/v2/hook/T"}});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(sink_->Enqueue(Breaker("k" + std::to_string(i))).ok());
  auto next = sender_->DeliverDue();
  EXPECT_EQ(peer_.count(), 5u);
  EXPECT_EQ(*next, kNow + kSecondMs);
  clock_.Advance(kSecondMs);
  ASSERT_TRUE(sender_->DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 7u);
}

}  // namespace
}  // namespace gpuledger
