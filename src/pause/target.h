// Where a job runs, read from its labels, so the policy engine and the manual pause
// route can hand a JobController (policy/actions.h) a PauseTarget (#13 item 4). The
// labels, set by whoever launches the job (the Python client, a Slurm prolog, a pod
// template, `docker run --label`):
//   gpuledger.launcher         cooperative | docker | kubernetes | slurm (absent: cooperative)
//   gpuledger.docker.container the container's id or name              (docker)
//   gpuledger.k8s.namespace    the Job's namespace                      (kubernetes)
//   gpuledger.k8s.job          the Job's name                           (kubernetes)
//   gpuledger.slurm.job_id     the Slurm job id, "123" or "123_4"       (slurm)
//   gpuledger.slurm.pause      suspend | requeue (absent: suspend)      (slurm)
//   gpuledger.node             the node the job runs on (optional, for the record)
// Pure: no I/O. A label that is missing or malformed is an InvalidArgument naming the
// label, what it must be and the value seen.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "policy/actions.h"

namespace gpuledger {

inline constexpr char kLauncherLabel[] = "gpuledger.launcher";
inline constexpr char kDockerContainerLabel[] = "gpuledger.docker.container";
inline constexpr char kK8sNamespaceLabel[] = "gpuledger.k8s.namespace";
inline constexpr char kK8sJobLabel[] = "gpuledger.k8s.job";
inline constexpr char kSlurmJobIdLabel[] = "gpuledger.slurm.job_id";
inline constexpr char kSlurmPauseLabel[] = "gpuledger.slurm.pause";
inline constexpr char kNodeLabel[] = "gpuledger.node";

StatusOr<PauseTarget> PauseTargetFromLabels(const std::string& job_id,
                                            const std::map<std::string, std::string>& labels);

// "cooperative", "docker", "kubernetes", "slurm-suspend", "slurm-requeue".
const char* PauseModeName(PauseMode mode);

}  // namespace gpuledger
