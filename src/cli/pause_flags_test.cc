#include "cli/pause_flags.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(PauseFlags, FillTheConfigAndKeepTheDefaults) {
  CLI::App app;
  PauseConfig defaults;
  AddPauseFlags(&app, &defaults);
  app.parse(std::vector<std::string>{});
  EXPECT_EQ(defaults.docker_socket, "/var/run/docker.sock");
  EXPECT_EQ(defaults.k8s_api_server, "");
  EXPECT_EQ(defaults.scontrol, "scontrol");
  EXPECT_EQ(defaults.timeout_s, 30);

  CLI::App app2;
  PauseConfig c;
  AddPauseFlags(&app2, &c);
  // CLI11 parses a reversed argv.
  app2.parse(std::vector<std::string>{"5", "--pause-timeout", "/usr/bin/scontrol", "--scontrol", "/ca.pem",
                                      "--k8s-ca-file", "/tok", "--k8s-token-file", "https://k8s:6443",
                                      "--k8s-api-server", "none", "--docker-socket"});
  EXPECT_EQ(c.docker_socket, "none");
  EXPECT_EQ(c.k8s_api_server, "https://k8s:6443");
  EXPECT_EQ(c.k8s_token_file, "/tok");
  EXPECT_EQ(c.k8s_ca_file, "/ca.pem");
  EXPECT_EQ(c.scontrol, "/usr/bin/scontrol");
  EXPECT_EQ(c.timeout_s, 5);

  CLI::App app3;
  PauseConfig bad;
  AddPauseFlags(&app3, &bad);
  EXPECT_THROW(app3.parse(std::vector<std::string>{"0", "--pause-timeout"}), CLI::ValidationError);
}

}  // namespace
}  // namespace gpuledger
