// The Ledger contract for the notification outbox (migration 0013), on SQLite and on
// PostgreSQL (GPULEDGER_TEST_PG; skipped without it, as the main contract suite).
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/test_util.h"
#include "ledger/ledger.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

using Factory = std::unique_ptr<Ledger> (*)(const std::string& dir);

std::unique_ptr<Ledger> Sqlite(const std::string& dir) {
  auto l = OpenSqliteLedger(dir + "/ledger.db");
  return l.ok() ? std::move(l).value() : nullptr;
}

std::unique_ptr<Ledger> Postgres(const std::string&) {
  std::string why;
  const std::optional<std::string> conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) {
    ADD_FAILURE() << why;
    return nullptr;
  }
  auto l = OpenPostgresLedger(*conninfo);
  if (!l.ok()) ADD_FAILURE() << l.status().ToString();
  return l.ok() ? std::move(l).value() : nullptr;
}

struct Backend {
  const char* name;
  Factory make;
};

class OutboxContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "postgres" && std::getenv("GPULEDGER_TEST_PG") == nullptr) {
      GTEST_SKIP() << "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    }
    ledger_ = GetParam().make(dir_.path());
    ASSERT_NE(ledger_, nullptr);
  }
  static OutboxNotice Notice(const std::string& key) {
    OutboxNotice n;
    n.cause_key = key;
    n.event = "idle.warn";
    n.at_ms = kT0;
    n.job_id = "j1";
    n.user = "zhangsan";
    n.project = "defect-detection";
    n.department = "manufacturing";
    n.fields_json = R"([["idle_minutes","60"]])";
    n.enqueued_ms = kT0 + 1;
    return n;
  }
  static OutboxDelivery To(const std::string& channel, TimeMs due) {
    OutboxDelivery d;
    d.channel = channel;
    d.title = "标题";
    d.text = "空闲 60 分钟";
    d.created_ms = kT0 + 1;
    d.next_attempt_ms = due;
    return d;
  }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_P(OutboxContract, ANoticeIsStoredOncePerCauseKeyWithItsDeliveries) {
  auto first = ledger_->PutNotice(Notice("idle/j1/60"), {To("ops", kT0), To("owner-mail", kT0)});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto again = ledger_->PutNotice(Notice("idle/j1/60"), {To("ops", kT0), To("third", kT0)});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(*again);
  auto all = ledger_->ListDeliveries("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].channel, "ops");
  EXPECT_EQ((*all)[0].text, "空闲 60 分钟");
  EXPECT_EQ((*all)[0].state, DeliveryState::kPending);
  EXPECT_EQ((*all)[1].channel, "owner-mail");
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  EXPECT_EQ(ledger_->ListDeliveries("other")->size(), 0u);
}

TEST_P(OutboxContract, AFailedUnitOfWorkTakesTheNoticeBackWithIt) {
  Status s = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutNotice(Notice("budget/p/80"), {To("finance", kT0)}).status());
    return InvalidArgument("the caller's later write failed");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ledger_->ListDeliveries("")->size(), 0u);
  // Not remembered either: the same cause can be enqueued once the caller succeeds.
  auto later = ledger_->PutNotice(Notice("budget/p/80"), {To("finance", kT0)});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(*later);
}

TEST_P(OutboxContract, ASeenCauseInsideATransactionLeavesTheCallersWritesAlone) {
  ASSERT_TRUE(ledger_->PutNotice(Notice("k"), {To("ops", kT0)}).ok());
  Status s = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutNotice(Notice("k"), {To("ops", kT0)}).status());
    return ledger_->PutNotice(Notice("k2"), {To("ops", kT0)}).status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ledger_->ListDeliveries("")->size(), 2u);
}

TEST_P(OutboxContract, DueDeliveriesComeInOrderAndUpdatesStick) {
  ASSERT_TRUE(ledger_->PutNotice(Notice("a"), {To("late", kT0 + 5000), To("early", kT0)}).ok());
  ASSERT_TRUE(ledger_->PutNotice(Notice("b"), {To("ops", kT0 + 1000)}).ok());
  auto due = ledger_->DueDeliveries(kT0 + 1000, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].channel, "early");
  EXPECT_EQ((*due)[1].channel, "ops");
  EXPECT_EQ(ledger_->DueDeliveries(kT0 + 9000, 1)->size(), 1u);

  OutboxDelivery d = (*due)[0];
  d.state = DeliveryState::kSending;
  d.attempts = 1;
  ASSERT_TRUE(ledger_->UpdateDelivery(d).ok());
  EXPECT_EQ(ledger_->DueDeliveries(kT0, 10)->size(), 1u);  // an unrecorded attempt is still due
  d.state = DeliveryState::kSent;
  d.sent_ms = kT0 + 20;
  ASSERT_TRUE(ledger_->UpdateDelivery(d).ok());
  OutboxDelivery f = (*due)[1];
  f.state = DeliveryState::kFailed;
  f.attempts = 3;
  f.last_error = "HTTP 404: no such robot";
  ASSERT_TRUE(ledger_->UpdateDelivery(f).ok());
  EXPECT_EQ(ledger_->DueDeliveries(kT0 + 9000, 10)->size(), 1u);  // only "late"
  auto a = ledger_->ListDeliveries("a");
  ASSERT_EQ(a->size(), 2u);
  const OutboxDelivery& sent = (*a)[0].channel == "early" ? (*a)[0] : (*a)[1];
  EXPECT_EQ(sent.state, DeliveryState::kSent);
  EXPECT_EQ(sent.sent_ms, kT0 + 20);
  EXPECT_EQ(sent.attempts, 1);
  auto b = ledger_->ListDeliveries("b");
  EXPECT_EQ((*b)[0].state, DeliveryState::kFailed);
  EXPECT_EQ((*b)[0].last_error, "HTTP 404: no such robot");

  OutboxDelivery ghost;
  ghost.id = 999999;
  EXPECT_EQ(ledger_->UpdateDelivery(ghost).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxContract,
                         ::testing::Values(Backend{"sqlite", Sqlite}, Backend{"postgres", Postgres}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpuledger
