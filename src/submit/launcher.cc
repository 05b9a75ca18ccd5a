#include "submit/launcher.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pause/target.h"

namespace gpuledger {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
  return s.substr(i);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t WholeGpus(const Job& j) { return (j.gpu_share_ppm + kFullShare - 1) / kFullShare; }

}  // namespace

StatusOr<Job> LaunchSubmission(Ledger& ledger, const Submission& s, Launcher& launcher,
                               const std::function<Status(const Job&)>& also) {
  Job job = s.job;
  auto is_new = [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<Job> before, ledger.GetJob(job.id));
    if (before)
      return AlreadyExists("job '" + job.id + "' is already in the books; submit it under another id");
    return OkStatus();
  };
  // The id first (nothing is made for a job already in the books), then the launcher,
  // outside any transaction: a slow daemon, sbatch or API server holds no ledger lock
  // (SQLite's writers would give up behind it). Then the job, its estimate and `also`
  // in one transaction, the id checked again; a failure there undoes the launch.
  Status done = is_new();
  const bool checked = done.ok();
  bool started = false;
  if (done.ok()) done = launcher.Prepare(job);
  const bool prepared = done.ok();
  if (done.ok()) {
    done = launcher.Start(job);
    started = done.ok();
  }
  if (done.ok()) {
    done = ledger.InTransaction([&]() -> Status {
      RETURN_IF_ERROR(is_new());
      RETURN_IF_ERROR(ledger.PutJobs({job}));
      JobEstimate e = StoredEstimate(s);
      RETURN_IF_ERROR(ledger.PutEstimate(e));
      if (also) RETURN_IF_ERROR(also(job));
      return OkStatus();
    });
  }
  if (!checked) return done;
  if (done.ok()) return job;
  // Prepare or Start may have made part of their work before they failed (a create or
  // sbatch whose answer was lost or odd); Undo knows what they made or meant to make.
  Status undone = launcher.Undo();
  if (!undone.ok()) {
    return Status(done.code(), done.message() + "; nothing registered, but undoing the launch failed: " +
                                   undone.message() + (started ? " (the work was started)" : ""));
  }
  return Status(done.code(),
                done.message() + "; nothing registered" + (prepared ? ", the launch undone" : ""));
}

// --- Docker ---------------------------------------------------------------------

std::string DockerContainerName(const Job& job) {
  std::string out = "gpuledger-";
  for (char c : job.id) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    out += ok ? c : '-';
  }
  if (out.size() > 128) out.resize(128);
  return out;
}

std::string DockerCreateConfig(const Job& j, const DockerLaunchOptions& o) {
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : LaunchEnvironment(j, o.env)) env.push_back(k + "=" + v);
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : j.labels) labels[k] = v;
  auto label = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) labels["gpuledger." + k] = v;
  };
  // What the agent reads from a container's labels (agent/node_attribution.h) and what
  // the pause adapter finds it by (pause/target.h).
  label("job_id", j.id);
  label("user", j.user);
  label("project", j.project);
  label("department", j.department);
  label("model_type", j.model_type);
  labels[kLauncherLabel] = "docker";
  labels[kDockerContainerLabel] = DockerContainerName(j);
  nlohmann::json config = {{"Image", j.image_digest.empty() ? j.image() : j.image() + "@" + j.image_digest},
                           {"Env", env},
                           {"Labels", labels}};
  if (!o.env.command.empty()) config["Cmd"] = {"/bin/sh", "-c", o.env.command};
  nlohmann::json host = nlohmann::json::object();
  if (j.gpu_share_ppm > 0 || !o.device_ids.empty()) {
    nlohmann::json req = {{"Driver", "nvidia"}, {"Capabilities", {{"gpu"}}}};
    if (!o.device_ids.empty()) {
      req["DeviceIDs"] = o.device_ids;
    } else {
      req["Count"] = WholeGpus(j);
    }
    host["DeviceRequests"] = nlohmann::json::array({req});
  }
  config["HostConfig"] = host;
  return config.dump();
}

Status DockerLauncher::Prepare(Job& job) {
  if (job.image().empty()) return InvalidArgument("--launcher docker needs an image (repo:tag)");
  const std::string ref = job.image_digest.empty() ? job.image() : job.image() + "@" + job.image_digest;
  ASSIGN_OR_RETURN(std::string digest, engine_.ImageDigest(ref));
  if (job.image_digest.empty()) job.image_digest = digest;
  name_ = DockerContainerName(job);
  // The container's environment carries the labels as submitted; the job also keeps
  // where it runs (what the pause adapter reads).
  StatusOr<std::string> created = engine_.CreateContainer(name_, DockerCreateConfig(job, options_));
  if (!created.ok()) {
    // Unless the daemon refused it (409: the name is another container's; 404: no such
    // image), the container may exist: Undo removes it by its name.
    const StatusCode c = created.status().code();
    maybe_created_ = c != StatusCode::kAlreadyExists && c != StatusCode::kNotFound;
    return created.status();
  }
  id_ = *created;
  job.labels[kLauncherLabel] = "docker";
  job.labels[kDockerContainerLabel] = name_;
  return OkStatus();
}

Status DockerLauncher::Start(Job&) {
  if (id_.empty()) return FailedPrecondition("docker start: no container was created");
  return engine_.StartContainer(id_);
}

Status DockerLauncher::Undo() {
  const std::string which = !id_.empty() ? id_ : maybe_created_ ? name_ : "";
  if (which.empty()) return OkStatus();
  RETURN_IF_ERROR(engine_.RemoveContainer(which));  // a 404 is fine: nothing was made
  id_.clear();
  maybe_created_ = false;
  return OkStatus();
}

std::string DockerLauncher::Launched() const {
  return "docker container " + name_ + " (id " + id_.substr(0, 12) + ") started on " + engine_.socket();
}

// --- Slurm ----------------------------------------------------------------------

StatusOr<std::string> ParseSbatchJobId(const std::string& out) {
  const std::string t = Trim(out);
  static const std::string kPrefix = "Submitted batch job ";
  std::string id;
  const size_t at = t.rfind(kPrefix);
  if (at != std::string::npos) {
    id = t.substr(at + kPrefix.size());
    id = id.substr(0, id.find(' '));  // "... on cluster X"
  } else if (t.find('\n') == std::string::npos) {
    id = t.substr(0, t.find(';'));  // --parsable: "123" or "123;cluster"
  }
  if (!AllDigits(id) || id.size() > 20) {
    return InvalidArgument(R"(sbatch's answer names no job id (expected "Submitted batch job N"); saw ")" +
                           t.substr(0, 200) + "\"");
  }
  return id;
}

Status SlurmLauncher::Prepare(Job&) { return OkStatus(); }

Status SlurmLauncher::Start(Job& job) {
  std::string dir = options_.script_dir;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read only
    dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string path = dir + "/gpuledger-sbatch-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return Unavailable("the sbatch script cannot be written in " + dir);
  ::close(fd);
  struct Remove {
    std::string p;
    ~Remove() { ::unlink(p.c_str()); }
  } remove{path};
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << RenderSbatchScript(job, options_.env);
    if (!f.flush()) return Unavailable("the sbatch script " + path + " cannot be written");
  }
  std::vector<std::string> argv = {options_.sbatch};
  argv.insert(argv.end(), options_.sbatch_args.begin(), options_.sbatch_args.end());
  argv.push_back(path);
  // From here on a batch job may exist even if no id comes back (sbatch killed at its
  // time limit, an answer without the id): Undo cancels it by its name then.
  name_ = DnsLabel(job.id);
  StatusOr<CommandResult> r = runner_->Run(argv, options_.timeout_ms);
  if (!r.ok()) {
    // Killed at its time limit, it may have queued the job; one that never ran did not.
    maybe_submitted_ = r.status().message().find("not found") == std::string::npos;
    return r.status();
  }
  if (r->exit_code != 0) {
    return FailedPrecondition("sbatch exited " + std::to_string(r->exit_code) + ": " +
                              Trim(r->err.empty() ? r->out : r->err).substr(0, 500));
  }
  StatusOr<std::string> id = ParseSbatchJobId(r->out);
  if (!id.ok()) {
    maybe_submitted_ = true;
    return id.status();
  }
  slurm_id_ = *id;
  job.labels[kLauncherLabel] = "slurm";
  job.labels[kSlurmJobIdLabel] = slurm_id_;
  // dcgm-exporter's hpc_job label carries the Slurm id: it names this job (attribution.h).
  job.labels["hpc_job"] = slurm_id_;
  return OkStatus();
}

Status SlurmLauncher::Undo() {
  std::vector<std::string> argv = {options_.scancel};
  if (!slurm_id_.empty()) {
    argv.push_back(slurm_id_);
  } else if (maybe_submitted_) {
    argv.push_back("--name=" + name_);  // the script's --job-name
  } else {
    return OkStatus();
  }
  ASSIGN_OR_RETURN(CommandResult r, runner_->Run(argv, options_.timeout_ms));
  if (r.exit_code != 0) {
    return Unavailable("scancel " + argv.back() + " exited " + std::to_string(r.exit_code) + ": " +
                       Trim(r.err).substr(0, 500));
  }
  slurm_id_.clear();
  maybe_submitted_ = false;
  return OkStatus();
}

std::string SlurmLauncher::Launched() const { return "Slurm batch job " + slurm_id_ + " submitted"; }

// --- Kubernetes -----------------------------------------------------------------

Status KubernetesLauncher::Prepare(Job&) { return OkStatus(); }

Status KubernetesLauncher::Start(Job& job) {
  const std::string ns = env_.k8s_namespace.empty() ? "default" : env_.k8s_namespace;
  ns_ = ns;
  StatusOr<std::string> name = CreateKubernetesJob(api_, ns, RenderKubernetesJob(job, env_, &estimate_));
  if (!name.ok()) {
    // Unless the API server refused it (409: that name is taken; 400/422: invalid), the
    // Job may exist under the manifest's name: Undo deletes it by that name.
    const StatusCode c = name.status().code();
    if (c != StatusCode::kAlreadyExists && c != StatusCode::kInvalidArgument)
      name_ = DnsLabel("gpuledger-" + job.id);
    return name.status();
  }
  name_ = *name;
  job.labels[kLauncherLabel] = "kubernetes";
  job.labels[kK8sNamespaceLabel] = ns_;
  job.labels[kK8sJobLabel] = name_;
  return OkStatus();
}

Status KubernetesLauncher::Undo() {
  if (name_.empty()) return OkStatus();
  RETURN_IF_ERROR(DeleteKubernetesJob(api_, ns_, name_));
  name_.clear();
  return OkStatus();
}

std::string KubernetesLauncher::Launched() const {
  return "Kubernetes Job " + ns_ + "/" + name_ + " created";
}

}  // namespace gpuledger
