#include "cli/pause_flags.h"

namespace gpuledger {

void AddPauseFlags(CLI::App* server, PauseConfig* config) {
  server
      ->add_option("--docker-socket", config->docker_socket,
                   "pause: the Docker Engine API socket for jobs labelled gpuledger.launcher=docker "
                   "(\"none\": no Docker adapter)")
      ->capture_default_str();
  server->add_option("--k8s-api-server", config->k8s_api_server,
                     "pause: the Kubernetes API server, https://host:port, for jobs labelled "
                     "gpuledger.launcher=kubernetes (default: in-cluster; \"none\": no Kubernetes adapter)");
  server->add_option("--k8s-token-file", config->k8s_token_file,
                     "pause: a file holding the bearer token that may patch batch/v1 Jobs "
                     "(default: the pod's service-account token)");
  server->add_option("--k8s-ca-file", config->k8s_ca_file,
                     "pause: PEM CA certificate(s) of the API server (default: in-cluster, the service "
                     "account's ca.crt; with --k8s-api-server, the system's store)");
  server
      ->add_option("--scontrol", config->scontrol,
                   "pause: the scontrol program for jobs labelled gpuledger.launcher=slurm (\"none\": no "
                   "Slurm adapter)")
      ->capture_default_str();
  server
      ->add_option("--pause-timeout", config->timeout_s,
                   "pause: seconds each launcher call may take (HTTP exchange or scontrol)")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
}

}  // namespace gpuledger
