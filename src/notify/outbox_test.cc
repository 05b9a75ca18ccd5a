// The outbox end to end on an SQLite ledger file: what Enqueue stores (once per cause,
// inside the caller's transaction, nothing for a refused notice), and a restart with
// deliveries pending: the sender stopped mid-queue, a new one built on the same ledger
// file, every delivery counted exactly once at a real HTTP peer.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/test_util.h"
#include "common/mutex.h"
#include "notify/notify_service.h"
#include "notify/outbox_sender.h"
#include "notify/outbox_sink.h"
#include "notify/test_peer.h"

namespace gpuledger {
namespace {

constexpr TimeMs kNow = 1796205600000;

NotifyConfig Config(const std::string& url) {
  auto c = ParseNotifyConfig(R"({"channels": {
      "hook": {"type": "webhook", "url": ")" + url + R"("},
      "owner-mail": {"type": "smtp", "host": "127.0.0.1", "port": 2525, "from": "gpuledger@corp.example",
                     "to": ["{user}@corp.example"], "language": "en"}},
    "audiences": {"project_channel": ["hook"], "job_owner": ["owner-mail"], "finance": ["hook"]}})");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : NotifyConfig{};
}

Notice Idle(const std::string& key) {
  Notice n;
  n.cause_key = key;
  n.event = "idle.warn";
  n.at_ms = kNow;
  n.job_id = "job-" + key;
  n.user = "lisi";
  n.project = "yolo-edge";
  n.department = "vision";
  n.audiences = {Audience::kJobOwner, Audience::kProjectChannel};
  n.fields = {{"idle_minutes", "60"}};
  return n;
}

class Outbox : public ::testing::Test {
 protected:
  std::unique_ptr<Ledger> Open() {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(l).value() : nullptr;
  }
  testing::TempDir dir_;
  testing::HttpPeer peer_;
  SimulatedClock clock_{kNow};
};

TEST_F(Outbox, ANoticeMakesOneDeliveryPerChannelAndItsCauseIsEnqueuedOnce) {
  auto ledger = Open();
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  int nudges = 0;
  OutboxSink sink(*ledger, cfg, clock_, [&] { ++nudges; });
  ASSERT_TRUE(sink.Enqueue(Idle("a")).ok());
  ASSERT_TRUE(sink.Enqueue(Idle("a")).ok());  // re-evaluated on the next flush: nothing new
  auto all = ledger->ListDeliveries("");
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].channel, "owner-mail");
  EXPECT_EQ((*all)[0].recipients, "lisi@corp.example");
  EXPECT_EQ((*all)[0].title, "Idle GPUs: job job-a");
  EXPECT_EQ((*all)[1].channel, "hook");
  EXPECT_EQ(nudges, 1);
  EXPECT_EQ(sink.counters().duplicates.load(), 1);
}

TEST_F(Outbox, EnqueueJoinsTheCallersTransaction) {
  auto ledger = Open();
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  OutboxSink sink(*ledger, cfg, clock_);
  Status s = ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(sink.Enqueue(Idle("a")));
    return FailedPrecondition("the decision record failed");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(ledger->ListDeliveries("")->empty());
  ASSERT_TRUE(ledger->InTransaction([&] { return sink.Enqueue(Idle("a")); }).ok());
  EXPECT_EQ(ledger->ListDeliveries("")->size(), 2u);
}

TEST_F(Outbox, ARefusedNoticeStoresNothingAndSaysWhy) {
  auto ledger = Open();
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  OutboxSink sink(*ledger, cfg, clock_);
  Notice n = Idle("");
  Status s = sink.Enqueue(n);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "notice cause_key is 0 bytes (allowed 1..512)");
  n = Idle("b");
  n.fields.emplace_back("huge", std::string(9000, 'x'));
  s = sink.Enqueue(n);
  EXPECT_NE(s.message().find("value of 9000 bytes (limit 8192)"), std::string::npos) << s.ToString();
  EXPECT_TRUE(ledger->ListDeliveries("")->empty());
}

TEST_F(Outbox, ANoticeForNoConfiguredAudienceIsRememberedButSendsNothing) {
  auto ledger = Open();
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  CapturingLogger log;
  OutboxSink sink(*ledger, cfg, clock_, nullptr, &log);
  Notice n = Idle("c");
  n.audiences = {Audience::kDeptAdmin};
  ASSERT_TRUE(sink.Enqueue(n).ok());
  EXPECT_TRUE(ledger->ListDeliveries("")->empty());
  EXPECT_EQ(log.Count("notice_unrouted"), 1u);
  n.audiences = {Audience::kFinance};  // the same cause again: still nothing
  ASSERT_TRUE(sink.Enqueue(n).ok());
  EXPECT_TRUE(ledger->ListDeliveries("")->empty());
}

TEST_F(Outbox, ARestartWithDeliveriesPendingSendsEachExactlyOnce) {
  constexpr int kNotices = 40;
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  {
    auto ledger = Open();
    OutboxSink sink(*ledger, cfg, clock_);
    for (int i = 0; i < kNotices; ++i) {
      Notice n = Idle("n" + std::to_string(i));
      n.audiences = {Audience::kProjectChannel};  // the webhook only
      ASSERT_TRUE(sink.Enqueue(n).ok());
    }
  }
  // First process: its sender runs on its own thread and is stopped mid-queue.
  {
    auto ledger = Open();
    SenderOptions o;
    o.batch = 7;
    OutboxSender sender(DirectLedgerAccess(*ledger), cfg, clock_, o);
    peer_.HoldAt(10);
    std::thread t([&] { sender.Run(); });
    peer_.WaitFor(10);
    sender.Stop();  // while the 10th request waits for its answer
    peer_.Release();
    t.join();
  }
  EXPECT_EQ(peer_.count(), 10u);
  // Second process, same ledger file.
  {
    auto ledger = Open();
    OutboxSender sender(DirectLedgerAccess(*ledger), cfg, clock_);
    std::thread t([&] { sender.Run(); });
    peer_.WaitFor(kNotices);
    sender.Stop();
    t.join();
    ASSERT_TRUE(sender.DeliverDue().ok());  // nothing left to send
    EXPECT_EQ(sender.counters().resent_after_restart.load(), 0);
    auto all = ledger->ListDeliveries("");
    ASSERT_TRUE(all.ok());
    for (const OutboxDelivery& d : *all) {
      EXPECT_EQ(d.state, DeliveryState::kSent) << d.id;
      EXPECT_EQ(d.attempts, 1) << d.id;
    }
  }
  std::multiset<std::string> ids;
  for (const auto& r : peer_.seen()) ids.insert(r.headers.find("X-Gpuledger-Delivery")->second);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kNotices));
  for (const std::string& id : ids) EXPECT_EQ(ids.count(id), 1u) << "delivery " << id << " sent twice";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), static_cast<size_t>(kNotices));
}

TEST_F(Outbox, AnAttemptCutShortByACrashIsSentAgainAndSaysSo) {
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  auto ledger = Open();
  OutboxSink sink(*ledger, cfg, clock_);
  Notice n = Idle("x");
  n.audiences = {Audience::kProjectChannel};
  ASSERT_TRUE(sink.Enqueue(n).ok());
  // What a process that died between recording the attempt and recording its outcome leaves.
  OutboxDelivery d = ledger->ListDeliveries("")->front();
  d.state = DeliveryState::kSending;
  d.attempts = 1;
  ASSERT_TRUE(ledger->UpdateDelivery(d).ok());
  CapturingLogger log;
  SenderOptions o;
  o.logger = &log;
  OutboxSender sender(DirectLedgerAccess(*ledger), cfg, clock_, o);
  ASSERT_TRUE(sender.DeliverDue().ok());
  EXPECT_EQ(peer_.count(), 1u);
  EXPECT_EQ(sender.counters().resent_after_restart.load(), 1);
  EXPECT_EQ(log.Count("notify_resent"), 1u);
  d = ledger->ListDeliveries("")->front();
  EXPECT_EQ(d.state, DeliveryState::kSent);
  EXPECT_EQ(d.attempts, 2);
}

TEST_F(Outbox, ASentMarkTheLedgerRefusedIsWrittenLaterAndNothingIsSentAgain) {
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  auto ledger = Open();
  OutboxSink sink(*ledger, cfg, clock_);
  Notice n = Idle("z");
  n.audiences = {Audience::kProjectChannel};
  ASSERT_TRUE(sink.Enqueue(n).ok());
  // The ledger goes away for the third call of the pass: the mark after the 2xx.
  int calls = 0;
  bool away = true;
  LedgerAccess flaky = [&](const std::function<Status(Ledger&)>& work) -> Status {
    if (away && ++calls == 3) return Unavailable("PostgreSQL is away");
    return work(*ledger);
  };
  OutboxSender sender(flaky, cfg, clock_);
  auto first = sender.DeliverDue();
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(peer_.count(), 1u);
  EXPECT_EQ(ledger->ListDeliveries("")->front().state, DeliveryState::kSending);
  away = false;
  ASSERT_TRUE(sender.DeliverDue().ok());  // the kept outcome goes in first; nothing is sent again
  EXPECT_EQ(peer_.count(), 1u);
  EXPECT_EQ(ledger->ListDeliveries("")->front().state, DeliveryState::kSent);
  EXPECT_EQ(sender.counters().resent_after_restart.load(), 0);
}

TEST_F(Outbox, ADeliveryToAChannelNoLongerConfiguredFailsNamingIt) {
  auto ledger = Open();
  const NotifyConfig cfg = Config(peer_.base() + "/h");
  OutboxSink sink(*ledger, cfg, clock_);
  ASSERT_TRUE(sink.Enqueue(Idle("y")).ok());
  NotifyConfig smaller = cfg;
  std::erase_if(smaller.channels, [](const ChannelConfig& c) { return c.name == "owner-mail"; });
  OutboxSender sender(DirectLedgerAccess(*ledger), smaller, clock_);
  ASSERT_TRUE(sender.DeliverDue().ok());
  auto all = ledger->ListDeliveries("");
  EXPECT_EQ((*all)[0].state, DeliveryState::kFailed);
  EXPECT_EQ((*all)[0].last_error, "channel 'owner-mail' is not in the notify config");
  EXPECT_EQ((*all)[1].state, DeliveryState::kSent);
}

TEST_F(Outbox, TheServiceSendsOnItsOwnThreadUnderTheOwnersLockAndCounts) {
  auto ledger = Open();
  Mutex mu;  // the owner's ledger lock (the server's ledger mutex)
  LedgerAccess access = [&](const std::function<Status(Ledger&)>& work) {
    MutexLock lock(mu);
    return work(*ledger);
  };
  auto service = NotifyService::Start(Config(peer_.base() + "/h"), *ledger, access, clock_);
  Notice n = Idle("svc");
  n.audiences = {Audience::kProjectChannel};
  {
    MutexLock lock(mu);
    ASSERT_TRUE(service->sink().Enqueue(n).ok());
  }
  peer_.WaitFor(1);
  service->Stop();
  EXPECT_EQ(peer_.count(), 1u);
  const std::string m = service->MetricsText();
  EXPECT_NE(m.find("gpuledger_notify_queued_total 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("gpuledger_notify_sent_total 1\n"), std::string::npos) << m;
  EXPECT_EQ(ledger->ListDeliveries("")->front().state, DeliveryState::kSent);
}

}  // namespace
}  // namespace gpuledger
