#include "policy/notices.h"

#include <gtest/gtest.h>

#include "notify/templates.h"

namespace gpuledger {
namespace {

Decision Acted(PolicyAction action) {
  Decision d;
  d.job_id = "j1";
  d.rule = kIdleRule;
  d.cause_key = "idle/j1/segment-1/act";
  d.event = "idle.acted";
  d.action = action;
  d.at_ms = 1796205600000;
  d.window = {1796205600000 - 2 * kHourMs, 1796205600000};
  d.reason = "1 of the job's 1 GPUs read at most 0 % for 120 min (act at 120 min)";
  return d;
}

Job Owner() {
  Job j;
  j.id = "j1";
  j.user = "zhangsan";
  j.project = "det";
  j.department = "retail";
  return j;
}

TEST(DecisionNotice, AnActedDecisionTellsTheOwnerTheProjectAndTheDepartmentAdmin) {
  Notice n = DecisionNotice(Owner(), Acted(PolicyAction::kPause), "paused (cooperative)", "yolo train resume");
  EXPECT_EQ(n.cause_key, "idle/j1/segment-1/act");
  EXPECT_EQ(n.event, "idle.acted");
  EXPECT_EQ(n.user, "zhangsan");
  EXPECT_EQ(n.audiences,
            (std::vector<Audience>{Audience::kJobOwner, Audience::kProjectChannel, Audience::kDeptAdmin}));
  const RenderedMessage en = RenderNotice(n, Language::kEn, MessageFormat::kText);
  EXPECT_EQ(en.title, "Idle GPUs: job j1 paused");
  EXPECT_NE(en.text.find("for 120 min (act at 120 min)"), std::string::npos) << en.text;
  EXPECT_NE(en.text.find("yolo train resume"), std::string::npos) << en.text;
  const RenderedMessage zh = RenderNotice(n, Language::kZhCn, MessageFormat::kText);
  EXPECT_EQ(zh.title, "GPU 长时间空闲：任务 j1 已暂停");
}

TEST(DecisionNotice, AWarningTellsOnlyTheOwnerAndTheProjectAStopSaysStopped) {
  Decision warn = Acted(PolicyAction::kWarn);
  warn.event = "idle.warn";
  Notice n = DecisionNotice(Owner(), warn, "warned", "");
  EXPECT_EQ(n.audiences, (std::vector<Audience>{Audience::kJobOwner, Audience::kProjectChannel}));
  for (const auto& [k, v] : n.fields) EXPECT_NE(k, "resume");
  Decision stop = Acted(PolicyAction::kStop);
  stop.event = "duration.acted";
  const RenderedMessage en =
      RenderNotice(DecisionNotice(Owner(), stop, "stop requested", ""), Language::kEn, MessageFormat::kText);
  EXPECT_EQ(en.title, "Duration limit reached: job j1 stopped");
}

}  // namespace
}  // namespace gpuledger
