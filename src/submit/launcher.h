// Launching a submitted job (docs/ESTIMATE.md "Launchers"), and the order that keeps the
// product's rule "a refusal leaves nothing behind": if `gpuledger submit` answers an
// error, no pending job, estimate or audit entry stays in the ledger and no container,
// Slurm job or Kubernetes Job stays on the site.
//
// LaunchSubmission:
//   1. the job id is checked absent from the ledger (nothing is made for a job already
//      in the books);
//   2. launcher.Prepare(job): what can be made without starting the work (Docker: the
//      image's digest from the daemon, then the container, created, not started);
//   3. launcher.Start(job) (Docker: start; Slurm: sbatch; Kubernetes: create the Job),
//      outside any ledger transaction: a slow daemon or API server (up to the launch
//      timeout) holds no ledger lock, so a server writing the same SQLite file is not
//      made to give up behind it;
//   4. one ledger transaction: the job checked absent again, then the pending job with
//      the labels Start added, its estimate and `also` (the audit entry);
//   5. any failure after step 2 began: launcher.Undo() removes what was made (docker
//      rm -f, scancel, DELETE the Job), by its name when a create or sbatch ran but its
//      answer was lost or odd (the work may exist without its id). An Undo that fails is
//      named in the error, with what is left.
// The job is committed only once its work is really started; a failing commit is undone
// like any other failure.
//
// The launchers' pure parts (the container's create body, sbatch's answer) are free
// functions below. A launcher is used for one submission. Not thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/command.h"
#include "pause/docker.h"
#include "pause/kubernetes.h"
#include "submit/launch.h"
#include "submit/submission.h"

namespace gpuledger {

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Before the job is registered; may set the job's image digest and labels.
  virtual Status Prepare(Job& job) = 0;
  // Starts the job's work; may add labels (the Slurm job id, the Kubernetes Job).
  virtual Status Start(Job& job) = 0;
  // Removes what Prepare and Start made (nothing when they made nothing).
  virtual Status Undo() = 0;
  // What was launched, for the output: "docker container gpuledger-x (id 3f2a...)".
  virtual std::string Launched() const = 0;
};

StatusOr<Job> LaunchSubmission(Ledger& ledger, const Submission& s, Launcher& launcher,
                               const std::function<Status(const Job&)>& also);

// --- Docker ---------------------------------------------------------------------

struct DockerLaunchOptions {
  LaunchOptions env;                    // GPULEDGER_SERVER and the command (sh -c)
  std::vector<std::string> device_ids;  // GPUs by index or UUID; empty: Count from gpu_request
};

// The container's name: "gpuledger-" + the job id, in Docker's name characters.
std::string DockerContainerName(const Job& job);

// The POST /containers/create body: Image (with @digest when the job has one), Cmd
// (["/bin/sh","-c",command] when there is one), Env (LaunchEnvironment), Labels
// (gpuledger.job_id/user/project/department/model_type, gpuledger.launcher=docker,
// gpuledger.docker.container=<name>, and the job's own labels), HostConfig.DeviceRequests
// [{Driver:"nvidia", Count:N | DeviceIDs:[...], Capabilities:[["gpu"]]}] when the job
// asks for GPUs (N: gpu_request's count, rounded up). Pure.
std::string DockerCreateConfig(const Job& job, const DockerLaunchOptions& o);

class DockerLauncher : public Launcher {
 public:
  DockerLauncher(DockerEngine engine, DockerLaunchOptions options)
      : engine_(std::move(engine)), options_(std::move(options)) {}
  // The image's digest (NotFound when the daemon lacks the image: nothing is created),
  // then the container, created with the job's labels.
  Status Prepare(Job& job) override;
  Status Start(Job& job) override;
  Status Undo() override;
  std::string Launched() const override;

 private:
  DockerEngine engine_;
  DockerLaunchOptions options_;
  std::string name_, id_;
  bool maybe_created_ = false;  // a create whose outcome is unknown: Undo removes by name
};

// --- Slurm ----------------------------------------------------------------------

// The Slurm job id in sbatch's answer: "Submitted batch job 123" (optionally "... on
// cluster X"), or --parsable's "123" / "123;cluster". InvalidArgument quoting the answer
// otherwise. Pure.
StatusOr<std::string> ParseSbatchJobId(const std::string& out);

struct SlurmLaunchOptions {
  LaunchOptions env;
  std::string sbatch = "sbatch";
  std::string scancel = "scancel";
  std::vector<std::string> sbatch_args;  // before the script: --partition=gpu, --output=...
  std::string script_dir;                // where the script is written for sbatch; "" = $TMPDIR or /tmp
  int timeout_ms = 60000;
};

// Runs `sbatch [args] <script file>` (argv, no shell; the script is RenderSbatchScript's)
// and labels the job gpuledger.launcher=slurm and gpuledger.slurm.job_id=<id>. sbatch's
// refusal ("Invalid generic resource (gres) specification") is FailedPrecondition with
// its stderr; Undo runs `scancel <id>` (`scancel --name=<job name>` when sbatch ran but no
// id came back).
class SlurmLauncher : public Launcher {
 public:
  // `runner` outlives the launcher.
  SlurmLauncher(CommandRunner* runner, SlurmLaunchOptions options)
      : runner_(runner), options_(std::move(options)) {}
  Status Prepare(Job& job) override;
  Status Start(Job& job) override;
  Status Undo() override;
  std::string Launched() const override;

 private:
  CommandRunner* runner_;
  SlurmLaunchOptions options_;
  std::string slurm_id_;
  std::string name_;              // the batch job's name (its --job-name)
  bool maybe_submitted_ = false;  // sbatch ran but no id came back: Undo cancels by name
};

// --- Kubernetes -----------------------------------------------------------------

// Creates the batch/v1 Job RenderKubernetesJob renders through the API server (in the
// namespace of LaunchOptions, else "default") and labels the job
// gpuledger.launcher=kubernetes, gpuledger.k8s.namespace and gpuledger.k8s.job; Undo
// deletes the Job.
class KubernetesLauncher : public Launcher {
 public:
  KubernetesLauncher(KubernetesOptions api, LaunchOptions env, JobEstimate estimate)
      : api_(std::move(api)), env_(std::move(env)), estimate_(std::move(estimate)) {}
  Status Prepare(Job& job) override;
  Status Start(Job& job) override;
  Status Undo() override;
  std::string Launched() const override;

 private:
  KubernetesOptions api_;
  LaunchOptions env_;
  JobEstimate estimate_;
  std::string ns_, name_;
};

}  // namespace gpuledger
