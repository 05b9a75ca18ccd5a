// A policy decision (rules.h) as the Notice (actions.h) its owner and project channel are
// told, rendered by notify/'s templates (breaker.paused, idle.warn, idle.acted,
// duration.warn, duration.acted). Pure; thread-compatible.
#pragma once

#include <string>

#include "domain/types.h"
#include "policy/actions.h"
#include "policy/rules.h"

namespace gpuledger {

// Fields: reason (the decision's sentence, figures and thresholds in it), action_zh and
// action_en (暂停 / 停止, paused / stopped), outcome (what was done), window_from and
// window_to, and resume (the resume command) when the job was paused. Audiences: the
// job's owner and project channel, and the department admin when the rule acted.
Notice DecisionNotice(const Job& job, const Decision& d, const std::string& outcome,
                      const std::string& resume_command);

}  // namespace gpuledger
