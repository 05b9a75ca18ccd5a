// rw_loadgen: a remote-write load generator shaped like dcgm-exporter behind Prometheus
// (GPUs x metrics series with dcgm-exporter's labels), for any remote-write endpoint:
// gpuledger, VictoriaMetrics, Prometheus. Reports samples sent per second, request
// latency percentiles, and, given the receiver's pid, samples per receiver CPU-second
// (read from /proc/<pid>/stat before and after).
//
//   rw_loadgen --url http://127.0.0.1:8080/api/v1/write [--token T] [--gpus 1000]
//              [--samples-per-series 1] [--requests 200] [--series-per-request 6000]
//              [--pid PID]
#include <httplib.h>
#include <snappy.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ingest/proto_writer.h"

namespace {

using gpuledger::RwLabels;
using gpuledger::RwPoints;

double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(s.substr(close + 2));
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoll(f);
    if (i == 15) stime = std::stoll(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A busy GPU's reading of metric `m` (kMetrics order) at time t: noisy but repeatable.
double Varied(int m, int gpu, int64_t t) {
  uint64_t h = static_cast<uint64_t>(t) * 0x9E3779B97F4A7C15ULL ^
               static_cast<uint64_t>(gpu * 6 + m + 1) * 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 29;
  switch (m) {
    case 0:
      return static_cast<double>(85 + h % 15);  // GPU_UTIL, %
    case 1:
      return static_cast<double>(18'000 + gpu % 7 * 512);  // FB_USED, MiB: steady per job
    case 2:
      return 250.0 + static_cast<double>(h % 100'000) / 1000.0;  // POWER_USAGE, W to the mW
    case 3:
      // energy, mJ: 270 W (2,700 J per 10 s) plus up to 100 J of jitter, so it only rises
      // between samples at least 10 s apart, as a real counter does (a counter that dips
      // is a glitch the meter must not bill, docs/METERING.md).
      return static_cast<double>(t / 10 * 2'700 + static_cast<int64_t>(h % 100'000));
    default:
      return 0.8 + static_cast<double>(h % 150'000) / 1e6;  // PROF ratios
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, token;
  int gpus = 1000, per_series = 1, requests = 200, series_per_request = 6000, pid = 0, warmup = 0;
  double rate = 0;             // requests per second; 0: back to back
  double settle = 6;           // seconds waited before each CPU reading
  int64_t start_ago_s = 3600;  // the first sample's age
  bool varied = false;         // --values varied
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      url = v;
    else if (k == "--token")
      token = v;
    else if (k == "--gpus")
      gpus = std::stoi(v);
    else if (k == "--samples-per-series")
      per_series = std::stoi(v);
    else if (k == "--requests")
      requests = std::stoi(v);
    else if (k == "--series-per-request")
      series_per_request = std::stoi(v);
    else if (k == "--pid")
      pid = std::stoi(v);
    else if (k == "--warmup")
      warmup = std::stoi(v);
    else if (k == "--rate")
      rate = std::stod(v);
    else if (k == "--settle")
      settle = std::stod(v);
    else if (k == "--start-ago")
      start_ago_s = std::stoll(v);
    else if (k == "--values" && (v == "steady" || v == "varied"))
      varied = v == "varied";
    else {
      std::fprintf(stderr, "rw_loadgen: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (url.rfind("http://", 0) != 0) {
    std::fprintf(stderr,
                 "usage: rw_loadgen --url http://host:port/path [--token T] [--gpus N] "
                 "[--samples-per-series N] [--requests N] [--series-per-request N] [--pid PID] "
                 "[--warmup N] [--rate REQUESTS_PER_S] [--settle SECONDS] [--start-ago SECONDS] [--values "
                 "steady|varied]\n"
                 "  --warmup: requests sent first and left out of every figure (new series cost more)\n"
                 "  --rate: pace requests (e.g. 10,000 GPUs x 6 series every 10 s in requests of 2,000\n"
                 "          series is 3 per second); default back to back\n"
                 "  --settle: wait before each reading of the receiver's CPU time (default 6 s), so\n"
                 "          work a receiver defers (flushes, merges) is counted with the load causing it\n"
                 "  --start-ago: the first samples' age (default 3600); time then moves 10 s per\n"
                 "          round of every series, whatever the wall clock does\n"
                 "  --values: steady (default: a slow sawtooth, ratios fixed at 0.5) or varied\n"
                 "          (as dcgm-exporter reads a busy GPU: utilisation 85..99, power to the\n"
                 "          milliwatt, a rising energy counter, activity ratios to 6 decimals)\n");
    return 2;
  }
  const std::string rest = url.substr(7);
  const std::string hostport = rest.substr(0, rest.find('/')), path = rest.substr(rest.find('/'));
  static const char* kMetrics[] = {"DCGM_FI_DEV_GPU_UTIL",          "DCGM_FI_DEV_FB_USED",
                                   "DCGM_FI_DEV_POWER_USAGE",       "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                                   "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_SM_ACTIVE"};
  // Each request covers the next series_per_request series, round robin over all
  // GPUs x 6 series, each with per_series points 10 s apart; time moves on per round.
  const int total_series = gpus * 6;
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     start_ago_s * 1000;
  httplib::Client client("http://" + hostport);
  client.set_read_timeout(30, 0);
  httplib::Headers headers = {{"Content-Encoding", "snappy"}, {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  std::vector<double> latency_ms;
  int64_t samples = 0, failed = 0;
  double cpu0 = 0;
  auto start = std::chrono::steady_clock::now();
  int next = 0, round = 0;
  for (int r = 0; r < warmup + requests; ++r) {
    if (r == warmup) {  // the measured part starts here
      latency_ms.clear();
      samples = 0;
      failed = 0;
      if (pid && warmup > 0) std::this_thread::sleep_for(std::chrono::duration<double>(settle));
      cpu0 = pid ? CpuSeconds(pid) : 0;
      start = std::chrono::steady_clock::now();
    }
    if (rate > 0 && r >= warmup) {
      const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>((r - warmup) / rate));
      std::this_thread::sleep_until(due);
    }
    std::vector<std::string> series;
    for (int k = 0; k < series_per_request; ++k, ++next) {
      if (next == total_series) next = 0, ++round;
      const int g = next / 6;
      const char* m = kMetrics[next % 6];
      const RwLabels labels = {
          {"DCGM_FI_DRIVER_VERSION", "580.95.05"},
          {"Hostname", "node-" + std::to_string(g / 8)},
          {"UUID", "GPU-" + std::to_string(10000000 + g) + "-c086-568a-9f1a-c1e1c934c44c"},
          {"__name__", m},
          {"container", "train"},
          {"device", "nvidia" + std::to_string(g % 8)},
          {"gpu", std::to_string(g % 8)},
          {"instance", "node-" + std::to_string(g / 8) + ":9400"},
          {"job", "dcgm"},
          {"modelName", "NVIDIA A10G"},
          {"namespace", "yolo"},
          {"pod", "train-" + std::to_string(g)}};
      RwPoints points;
      for (int i = 0; i < per_series; ++i) {
        const int64_t t = t0 + (static_cast<int64_t>(round) * per_series + i) * 10'000;
        const bool fraction = std::string_view(m).rfind("DCGM_FI_PROF_", 0) == 0;  // activity ratios: 0..1
        points.emplace_back(varied ? Varied(next % 6, g, t) : fraction ? 0.5 : 40.0 + (t / 10'000) % 50, t);
      }
      series.push_back(gpuledger::RwSeriesV1(labels, points));
      samples += per_series;
    }
    std::string body;
    const std::string raw = gpuledger::RwRequestV1(series);
    snappy::Compress(raw.data(), raw.size(), &body);
    const auto a = std::chrono::steady_clock::now();
    auto res = client.Post(path.c_str(), headers, body, "application/x-protobuf");
    latency_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
    if (!res || res->status / 100 != 2) {
      ++failed;
      if (failed == 1)
        std::fprintf(stderr, "rw_loadgen: request failed: %s\n", res ? res->body.c_str() : "no answer");
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) {
    return latency_ms[static_cast<size_t>(p * static_cast<double>(latency_ms.size() - 1))];
  };
  std::printf(
      "requests %d (failed %lld), samples %lld, wall %.2f s, %.0f samples/s, latency p50 %.1f ms p99 %.1f "
      "ms max %.1f ms\n",
      requests, static_cast<long long>(failed), static_cast<long long>(samples), wall,
      static_cast<double>(samples) / wall, pct(0.5), pct(0.99), pct(1.0));
  if (pid) {
    std::this_thread::sleep_for(std::chrono::duration<double>(settle));
    const double cpu = CpuSeconds(pid) - cpu0;
    std::printf("receiver pid %d: %.2f CPU-s, %.0f samples per receiver CPU-second\n", pid, cpu,
                cpu > 0 ? static_cast<double>(samples) / cpu : 0.0);
  }
  return failed ? 1 : 0;
}
