// What a site needs to run a submitted job (docs/ESTIMATE.md "Launchers"): the
// GPULEDGER_* environment the agent, the Slurm prolog and the Python callback read, as
// shell exports (--launcher none), an sbatch script carrying it (slurm), or a batch/v1
// Job manifest with the environment, labels and annotations (kubernetes). Printed, never
// run here. Pure; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "domain/types.h"

namespace gpuledger {

struct LaunchOptions {
  std::string server;         // GPULEDGER_SERVER, when given
  std::string command;        // what the job runs (yolo train ...); "" = the image's default
  std::string k8s_namespace;  // "" = the context's
  std::string token_secret = "gpuledger-ingest";  // Kubernetes Secret holding key `token`
};

// GPULEDGER_JOB_ID and the job's fields as GPULEDGER_<FIELD> (the jobs API's names), in
// a fixed order; fields the job lacks are left out.
std::vector<std::pair<std::string, std::string>> LaunchEnvironment(const Job& job, const LaunchOptions& o);

// `value` in single quotes for a POSIX shell.
std::string ShellQuote(const std::string& value);

std::string RenderEnvExports(const Job& job, const LaunchOptions& o);
std::string RenderSbatchScript(const Job& job, const LaunchOptions& o);
// JSON (which kubectl reads as it reads YAML).
std::string RenderKubernetesJob(const Job& job, const LaunchOptions& o, const JobEstimate* estimate);

// A DNS-1123 label from `s` (lower case, [a-z0-9-], at most 63, alphanumeric ends).
std::string DnsLabel(const std::string& s);

}  // namespace gpuledger
