// gpuledger agent: wires NVML, /proc, the outbox and the shipper (src/agent) together
// and drives them on the wall clock.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "agent/agent.h"
#include "agent/docker_labels.h"
#include "agent/shipper.h"
#include "cli/commands.h"
#include "common/strings.h"
#include "gpu/nvml.h"

namespace gpuledger {

namespace {

StatusOr<int64_t> ParseBytes(const std::string& text) {
  int64_t mul = 1;
  std::string num = text;
  for (auto [suffix, m] :
       {std::pair{"GiB", int64_t{1} << 30}, {"MiB", int64_t{1} << 20}, {"KiB", int64_t{1} << 10}}) {
    const std::string s = suffix;
    if (num.size() > s.size() && num.compare(num.size() - s.size(), s.size(), s) == 0) {
      num.resize(num.size() - s.size());
      mul = m;
      break;
    }
  }
  ASSIGN_OR_RETURN(int64_t v, ParseInt(num, "--buffer-max"));
  if (v <= 0 || v > (int64_t{1} << 50) / mul)
    return InvalidArgument("--buffer-max " + text + " is out of range");
  return v * mul;
}

StatusOr<DurationMs> DurationOrZero(const std::string& text) {
  if (text == "0") return DurationMs{0};
  return ParseDuration(text);
}

}  // namespace

Status CmdAgent(const AgentArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(DurationMs interval, ParseDuration(a.interval));
  ASSIGN_OR_RETURN(DurationMs push_interval, ParseDuration(a.push_interval));
  ASSIGN_OR_RETURN(DurationMs run_for, DurationOrZero(a.run_for));
  ASSIGN_OR_RETURN(DurationMs drain_timeout, DurationOrZero(a.drain_timeout));
  ASSIGN_OR_RETURN(int64_t buffer_max, ParseBytes(a.buffer_max));
  if (a.server.rfind("http://", 0) != 0 && a.server.rfind("https://", 0) != 0) {
    return InvalidArgument("--server '" + a.server + "' is not http://host:port or https://host:port");
  }
  std::string token;
  PosixFileSystem fs;
  std::string ca_file = a.ca_file;
  if (const char* env = std::getenv("GPULEDGER_CA_FILE"); ca_file.empty() && env != nullptr) ca_file = env;
  if (a.server.rfind("http://", 0) == 0) {
    if (!a.ca_file.empty())
      return InvalidArgument("--ca-file is for an https:// server; --server is '" + a.server + "'");
    ca_file.clear();  // $GPULEDGER_CA_FILE set for other servers
  }
  if (!ca_file.empty()) {
    // Checked here: cpp-httplib would only say "SSL certificate loading failed" per request.
    ASSIGN_OR_RETURN(std::string pem, fs.ReadAll(ca_file));
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return InvalidArgument("CA file '" + ca_file +
                             "' (--ca-file or $GPULEDGER_CA_FILE) holds no PEM certificate");
  }
  if (!a.token_file.empty()) {
    ASSIGN_OR_RETURN(token, fs.ReadAll(a.token_file));
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  } else if (const char* env = std::getenv("GPULEDGER_TOKEN")) {
    token = env;
  }
  if (token.empty()) return InvalidArgument("no ingest token: give --token-file or set GPULEDGER_TOKEN");
  std::string node = a.node;
  if (node.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    node = host;
  }

  StderrLogger logger(clock);  // the agent's events, one line each (docs/DEPLOY.md)
  LoggingCorruptionReporter outbox_damage(logger, "outbox");
  ASSIGN_OR_RETURN(std::unique_ptr<DiskQueue> queue,
                   DiskQueue::Open(fs, a.buffer_dir, buffer_max, &outbox_damage));
  auto nvml = NvmlBackend::Open(a.nvml);
  std::unique_ptr<NvmlBackend> gpus;
  if (nvml.ok()) {
    gpus = std::move(nvml).value();
  } else {
    out << "gpuledger agent: no GPU sampling on this machine: " << nvml.status().message()
        << "; sampling node CPU and disk only" << std::endl;
  }
  DockerLabels docker(a.docker_socket);
  NodeAttributor attributor(fs, {a.proc, a.gpustat_dir, a.dcgm_hpc_map},
                            [&docker](const std::string& id) { return docker.Labels(id); });
  NodeStats node_stats(fs, a.proc);
  ProgressFollower progress(fs);
  Agent agent(gpus.get(), attributor, &node_stats, progress, *queue, clock, node, interval);
  if (gpus) {
    RETURN_IF_ERROR(agent.Tick());  // the first reading, for the start line
    out << "gpuledger agent: " << agent.last_gpus().size() << " GPU(s) via NVML (" << gpus->version() << ")";
    for (const GpuReading& g : agent.last_gpus()) out << "; " << g.index << ": " << g.name << " " << g.uuid;
    out << std::endl;
  }
  out << "gpuledger agent: node " << node << ", sampling every " << a.interval << ", shipping to " << a.server
      << " every " << a.push_interval << ", outbox " << a.buffer_dir << " (" << queue->pending()
      << " requests waiting)" << std::endl;

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  ShipperOptions ship;
  ship.url = a.server;
  ship.token = token;
  ship.ca_file = ca_file;
  ship.logger = &logger;
  Shipper shipper(*queue, ship);
  FailureLog read_log(logger, "gpu_read"), push_log(logger, "outbox_append");
  std::thread shipping([&] { shipper.Run(); });
  std::atomic<bool> stop{false};
  Status sampling_status;
  std::thread sampling([&] {
    TimeMs next_push = clock.Now() + push_interval;
    bool ticked = gpus != nullptr;  // the start line's reading is the first round
    while (!stop) {
      const TimeMs started = clock.Now();
      if (!ticked) {
        // A failed read (e.g. the driver reloading) loses that round only; said once per cause.
        read_log.Record(agent.Tick());
      }
      ticked = false;
      if (clock.Now() >= next_push) {
        const Status s = agent.Push();
        push_log.Record(s);
        if (!s.ok()) sampling_status = s;
        shipper.Nudge();
        next_push += push_interval;
      }
      const DurationMs spent = clock.Now() - started;
      for (DurationMs left = interval - spent; left > 0 && !stop; left -= 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<DurationMs>(left, 50)));
    }
    if (Status s = agent.Push(); !s.ok()) sampling_status = s;  // what the last ticks saw
  });

  const TimeMs deadline = run_for > 0 ? clock.Now() + run_for : kMaxTimeMs;
  for (;;) {
    timespec wait{0, 200L * 1000 * 1000};
    const int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig > 0) {
      out << "gpuledger agent: signal " << sig << ", stopping" << std::endl;
      break;
    }
    if (clock.Now() >= deadline) break;
  }
  stop = true;
  sampling.join();
  // Drain: keep shipping what is queued for up to drain_timeout; the rest stays on disk.
  shipper.Nudge();
  const TimeMs drain_until = clock.Now() + drain_timeout;
  while (queue->pending() > 0 && clock.Now() < drain_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  shipper.Stop();
  shipping.join();
  const AgentCounters& c = agent.counters();
  out << "gpuledger agent: " << c.ticks << " rounds (" << c.read_errors << " failed reads), " << c.gpu_samples
      << " GPU samples, " << c.jobs_registered << " job(s) registered, " << c.epochs
      << " epoch(s) followed; shipped " << shipper.counters().sent << " request(s) ("
      << shipper.counters().failures << " failed attempt(s) retried), refused " << shipper.counters().rejected
      << ", " << queue->pending() << " left in the outbox, " << queue->dropped() << " dropped for space";
  if (const SegmentLogCounters d = queue->damage(); d.corrupt_regions > 0) {
    out << ", " << d.corrupt_regions << " damaged outbox frame(s) skipped (" << d.corrupt_bytes << " bytes)";
  }
  out << std::endl;
  if (!shipper.last_error().empty() && queue->pending() > 0)
    out << "gpuledger agent: last shipping error: " << shipper.last_error() << std::endl;
  return sampling_status;
}

}  // namespace gpuledger
