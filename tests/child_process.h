// Test helper: run the real gpuledger binary (or any program) as a child process.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace gpuledger::testing {

struct Child {
  pid_t pid = -1;
  int port = 0;  // servers: the port their first line names
};

// Starts `args` (args[0] is the program) with `extra_env` added to this process's
// environment; stdout goes to `out_path` ("" keeps it). Does not wait.
inline Child Spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                   const std::string& out_path = "") {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!out_path.empty())
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> a = args, env = extra_env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::vector<char*> argv, envp;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), envp.data()), 0) << args[0];
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

// `gpuledger server --db db --listen 127.0.0.1:<port>` plus `extra`; returns once its
// first line (which names the port) is out.
inline Child StartServer(const std::string& db, int port = 0, const std::vector<std::string>& extra = {}) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<std::string> args = {
      GPULEDGER_BINARY, "server", "--db", db, "--listen", "127.0.0.1:" + std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, GPULEDGER_BINARY, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string line;
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  close(out[0]);
  const size_t colon = line.find(':', line.find("127.0.0.1"));
  EXPECT_NE(colon, std::string::npos) << "server said: " << line;
  if (colon != std::string::npos) c.port = std::atoi(line.c_str() + colon + 1);
  return c;
}

// Waits for the child; returns its exit status as waitpid reports it.
inline int Wait(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  return status;
}

}  // namespace gpuledger::testing
