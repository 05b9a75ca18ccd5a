#include "agent/node_attribution.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "agent/docker_labels.h"
#include "common/test_util.h"

namespace gpuledger {
namespace {

using std::string_literals::operator""s;

TEST(NodeAttribution, ParsesCgroupsOfSlurmKubernetesAndDocker) {
  EXPECT_EQ(ParseCgroup("0::/system.slice/slurmstepd.scope/job_4242/step_0/user/task_0\n").slurm_job, "4242");
  EXPECT_EQ(ParseCgroup("12:devices:/slurm/uid_1000/job_77/step_batch\n5:cpu:/\n").slurm_job, "77");
  const std::string id(64, 'a');
  CgroupIds k8s = ParseCgroup(
      "0::/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
      "cri-containerd-" +
      id + ".scope\n");
  EXPECT_EQ(k8s.pod_uid, "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
  EXPECT_EQ(k8s.container_id, id);
  EXPECT_EQ(ParseCgroup("4:memory:/kubepods/burstable/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/" + id).pod_uid,
            "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
  EXPECT_EQ(ParseCgroup("0::/system.slice/docker-" + id + ".scope").container_id, id);
  EXPECT_EQ(ParseCgroup("0::/user.slice/user-1000.slice/session-3.scope").slurm_job, "");
  EXPECT_EQ(ParseCgroup("garbage without colons").pod_uid, "");
}

TEST(NodeAttribution, EnvironKeepsOnlyGpuledgerVariablesAndHostname) {
  auto env = ParseEnviron("PATH=/bin\0GPULEDGER_JOB_ID=run-7\0HOSTNAME=yolo-0\0=x\0GPULEDGER_USER=lisi"s);
  EXPECT_EQ(env.size(), 3u);
  EXPECT_EQ(env["GPULEDGER_JOB_ID"], "run-7");
  EXPECT_EQ(env["HOSTNAME"], "yolo-0");
  EXPECT_EQ(ParseCmdline("yolo\0train\0project=runs\0"s),
            (std::vector<std::string>{"yolo", "train", "project=runs"}));
}

TEST(NodeAttribution, ProcessStartSurvivesOddCommandNames) {
  // Field 22 (starttime) is 500 ticks; the command name holds spaces and a ')'.
  std::string line = "4242 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 20";
  EXPECT_EQ(ProcessStartMs(line, 1'000'000, 100), 1'000'000 + 5'000);
  EXPECT_EQ(ProcessStartMs("no parens", 1, 100), 0);
  EXPECT_EQ(ProcessStartMs("1 (x) S 2", 1, 100), 0);
  // Found by fuzz_agent_proc: 17 digits of ticks x 1000 overflowed int64 (UB).
  EXPECT_EQ(ProcessStartMs("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 50055555000230412 20", 1, 1),
            0);
  EXPECT_EQ(ProcessStartMs("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999999999999999 20", 0, 1),
            999'999'999'999'999'000);
}

class ResolveTest : public ::testing::Test {
 protected:
  void Proc(uint32_t pid, const std::string& environ, const std::string& cgroup) {
    const std::string dir = "/proc/" + std::to_string(pid);
    ASSERT_TRUE(fs_.Append(dir + "/environ", environ).ok());
    ASSERT_TRUE(fs_.Append(dir + "/cgroup", cgroup).ok());
  }
  GpuReading Gpu(int index, std::vector<uint32_t> pids) {
    GpuReading g;
    g.index = index;
    g.uuid = "GPU-" + std::to_string(index);
    for (uint32_t p : pids) g.processes.push_back({p, 100, ""});
    return g;
  }
  MemFileSystem fs_;
};

TEST_F(ResolveTest, FollowsTheDocumentedOrder) {
  Proc(300, "GPULEDGER_JOB_ID=run-7\0GPULEDGER_PROJECT=pcb\0GPULEDGER_RUN_DIR=/runs/a\0"s,
       "0::/system.slice/slurmstepd.scope/job_99/step_0");
  Proc(200, "HOSTNAME=yolo-train-0\0"s,
       "0::/kubepods.slice/kubepods-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/x");
  Proc(100, "PATH=/bin\0"s, "0::/system.slice/slurmstepd.scope/job_4242/step_0");
  ASSERT_TRUE(fs_.Append("/run/gpustat/3", "5151 1000\n").ok());
  ASSERT_TRUE(fs_.Append("/run/gpustat/GPU-4", "6161 1000\n").ok());
  ASSERT_TRUE(fs_.Append("/dcgm-map/5", "7171\n7272\n").ok());
  NodeAttributor a(fs_, {"/proc", "/run/gpustat", "/dcgm-map"});
  auto w = a.Resolve(
      {Gpu(0, {100, 300}), Gpu(1, {200}), Gpu(2, {100}), Gpu(3, {}), Gpu(4, {}), Gpu(5, {}), Gpu(6, {})});
  ASSERT_EQ(w.size(), 7u);
  // The environment wins over a lower pid's cgroup.
  EXPECT_EQ(w[0].source, "environ");
  EXPECT_EQ(w[0].job_id, "run-7");
  EXPECT_EQ(w[0].JobLabel(), "run-7");
  EXPECT_EQ(w[0].pid, 300u);
  EXPECT_EQ(w[0].fields.at("project"), "pcb");
  EXPECT_EQ(w[0].fields.at("run_dir"), "/runs/a");
  EXPECT_EQ(w[1].source, "cgroup");
  EXPECT_EQ(w[1].pod, "yolo-train-0");
  EXPECT_EQ(w[1].pod_uid, "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901");
  EXPECT_EQ(w[2].hpc_job, "4242");
  EXPECT_EQ(w[2].JobLabel(), "4242");
  EXPECT_EQ(w[3].source, "gpustat");  // by index
  EXPECT_EQ(w[3].hpc_job, "5151");
  EXPECT_EQ(w[4].hpc_job, "6161");  // by UUID
  EXPECT_EQ(w[5].source, "dcgm-hpc-map");
  EXPECT_EQ(w[5].hpc_job, "7171");
  EXPECT_TRUE(w[6].empty());
}

TEST_F(ResolveTest, ADockerContainerLabelNamesTheJob) {
  const std::string id(64, 'b');
  Proc(100, "PATH=/bin\0"s, "0::/system.slice/docker-" + id + ".scope");
  int asked = 0;
  NodeAttributor a(fs_, {}, [&](const std::string& container) -> std::map<std::string, std::string> {
    ++asked;
    if (container != id) return {};
    return {{"gpuledger.job_id", "run-9"}, {"gpuledger.user", "wangwu"}, {"maintainer", "x"}};
  });
  auto w = a.Resolve({Gpu(0, {100})});
  EXPECT_EQ(w[0].source, "docker-label");
  EXPECT_EQ(w[0].job_id, "run-9");
  EXPECT_EQ(w[0].fields.at("user"), "wangwu");
  EXPECT_EQ(w[0].container_id, id);
  EXPECT_EQ(asked, 1);
}

TEST(DockerLabels, ParsesTheEngineApiAnswer) {
  auto labels = ParseContainerLabels(
      "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
      R"({"Id": "abc", "Config": {"Image": "yolo:1", "Labels": {"gpuledger.job_id": "run-9", "n": 5}}})");
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->size(), 1u);
  EXPECT_EQ(labels->at("gpuledger.job_id"), "run-9");
  EXPECT_EQ(ParseContainerLabels("HTTP/1.0 404 Not Found\r\n\r\n{}").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ParseContainerLabels("garbage").ok());
  EXPECT_TRUE(ParseContainerLabels("HTTP/1.0 200 OK\r\n\r\n{\"Config\": {\"Labels\": null}}")->empty());
  DockerLabels none("/nonexistent/docker.sock");
  EXPECT_TRUE(none.Labels(std::string(64, 'a')).empty());  // no daemon: no labels, no error
  EXPECT_TRUE(none.Labels("../../etc").empty());           // not a container id: never asked
}

TEST(DockerLabels, AsksTheDaemonOverItsUnixSocketOncePerContainer) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/docker.sock";
  const int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(srv, 4), 0);
  std::string request;
  std::thread daemon([&] {  // a fake Engine API: answers one request
    const int c = accept(srv, nullptr, nullptr);
    char buf[1024];
    const ssize_t n = read(c, buf, sizeof buf);
    request.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    const std::string answer =
        "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
        R"({"Config": {"Labels": {"gpuledger.job_id": "run-9"}}})";
    (void)!write(c, answer.data(), answer.size());
    close(c);
  });
  DockerLabels docker(path);
  const std::string id(64, 'c');
  EXPECT_EQ(docker.Labels(id).at("gpuledger.job_id"), "run-9");
  daemon.join();
  close(srv);
  EXPECT_EQ(request.rfind("GET /containers/" + id + "/json HTTP/1.0\r\n", 0), 0u) << request;
  EXPECT_EQ(docker.Labels(id).at("gpuledger.job_id"), "run-9");  // from the cache: the daemon is gone
}

TEST_F(ResolveTest, AProcessThatLeftIsForgotten) {
  Proc(100, "GPULEDGER_JOB_ID=old\0"s, "");
  NodeAttributor a(fs_, {});
  EXPECT_EQ(a.Resolve({Gpu(0, {100})})[0].job_id, "old");
  EXPECT_TRUE(a.Resolve({Gpu(0, {})})[0].empty());
  // pid 100 reused by another job: read afresh, not from the cache.
  ASSERT_TRUE(fs_.RemoveAll("/proc/100").ok());
  Proc(100, "GPULEDGER_JOB_ID=new\0"s, "");
  EXPECT_EQ(a.Resolve({Gpu(0, {100})})[0].job_id, "new");
}

}  // namespace
}  // namespace gpuledger
