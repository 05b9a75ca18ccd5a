#include "policy/notices.h"

namespace gpuledger {

Notice DecisionNotice(const Job& job, const Decision& d, const std::string& outcome,
                      const std::string& resume_command) {
  Notice n;
  n.cause_key = d.cause_key;
  n.event = d.event;
  n.at_ms = d.at_ms;
  n.job_id = job.id;
  n.user = job.user;
  n.project = job.project;
  n.department = job.department;
  n.audiences = {Audience::kJobOwner, Audience::kProjectChannel};
  const bool acted = d.action == PolicyAction::kPause || d.action == PolicyAction::kStop;
  if (acted) n.audiences.push_back(Audience::kDeptAdmin);
  const bool stop = d.action == PolicyAction::kStop;
  n.fields = {{"reason", d.reason},
              {"action_zh", stop ? "停止" : "暂停"},
              {"action_en", stop ? "stopped" : "paused"},
              {"outcome", outcome},
              {"window_from", FormatTime(d.window.start)},
              {"window_to", FormatTime(d.window.end)}};
  if (!resume_command.empty()) n.fields.emplace_back("resume", resume_command);
  return n;
}

}  // namespace gpuledger
