#include "books/open_hour.h"

#include <gtest/gtest.h>

#include <random>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kDay = 1796083200000;  // 2026-12-01T00:00:00Z
constexpr TimeMs kHour = kDay + 5 * kHourMs;

std::string Describe(const std::vector<UsageRow>& rows) {
  std::string out;
  for (const UsageRow& r : rows) {
    out += "[" + r.job_id + " " + std::to_string(r.period_start) + "-" + std::to_string(r.period_end) +
           " gpu " + std::to_string(r.gpu_ns) + " cov " + std::to_string(r.covered_ns) + " busy " +
           std::to_string(r.busy_ns) + " dense " + std::to_string(r.dense_ns) + " util " +
           std::to_string(r.util_ns) + " e " + std::to_string(r.energy_mj) + " mem " +
           std::to_string(r.peak_mem_mib) + " load " + std::to_string(r.loading_ns) + " steady " +
           std::to_string(r.steady_ns) + " tail " + std::to_string(r.tail_ns) + " idle " +
           std::to_string(r.idle_ns) + " flags " + std::to_string(r.energy_flags) + "]\n";
  }
  return out;
}

class OpenHoursTest : public ::testing::Test {
 protected:
  void SetUp() override { Open("l.db"); }

  // A fresh ledger (and GPU setup) in file `name`.
  void Open(const std::string& name) {
    auto l = OpenSqliteLedger(dir_.path() + "/" + name);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    LedgerSettings s;
    s.timezone = "UTC";
    s.default_interval_ms = kMinuteMs;
    s.default_max_gap_ms = 2 * kMinuteMs;
    ASSERT_TRUE(ledger_->SetSettings(s).ok());
    Gpu g;
    g.uuid = "GPU-a";
    g.model = "A10G";
    g.in_service_from = kDay - kDayMs;
    ASSERT_TRUE(ledger_->PutGpus({g}).ok());
    gpu_.gpu_uuid = "GPU-a";
    gpu_.gpu_model = "A10G";
    gpu_.service = g.service();
    gpu_.options.interval_ms = kMinuteMs;
    gpu_.options.max_gap_ms = 2 * kMinuteMs;
    gpu_.job_ids = {"j1", "j2"};
    gpu_.holds = {{0, kHour - kHourMs, kHour + 40 * kMinuteMs, kFullShare / 2},
                  {1, kHour + 10 * kMinuteMs, kMaxTimeMs, kFullShare / 4}};
  }

  int64_t Latest() {
    auto l = ledger_->LatestChangeOverlapping({kMinTimeMs, kMaxTimeMs});
    EXPECT_TRUE(l.ok());
    return l.ok() ? *l : 0;
  }

  // One read through the kept meters, checked against metering the hour afresh.
  void ReadAndCompare(OpenHours& open, TimeMs as_of, const std::string& why) {
    const Window clip{kDay, as_of};
    ASSERT_TRUE(open.BeginRead(*ledger_, HourOf(as_of), Latest()).ok());
    auto kept = open.Meter(*ledger_, gpu_, HourOf(as_of), clip);
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    open.EndRead();
    auto fresh = MeterHours(*ledger_, gpu_, {HourOf(as_of)}, clip, false);
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    ASSERT_EQ(fresh->size(), 1u);
    EXPECT_EQ((*fresh)[0].span, kept->span) << why;
    EXPECT_EQ(Describe((*fresh)[0].rows), Describe(kept->rows)) << why;
  }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
  GpuSlicing gpu_;
};

Sample At(TimeMs t, float util, int64_t energy = -1) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  s.energy_mj = energy;
  s.mem_mib = 1000 + static_cast<float>(t % 7000);
  return s;
}

// Samples arrive as a live exporter sends them, with reads between: every read equals
// metering the hour afresh, and reads after the first feed only what arrived since.
TEST_F(OpenHoursTest, ALiveStreamReadsEqualMeteringAfresh) {
  OpenHours open;
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-a", At(kHour - 30 * kSecondMs, 80, 1000)}}).ok());
  int64_t energy = 1000;
  for (int i = 0; i < 50; ++i) {
    const TimeMs t = kHour + i * kMinuteMs + 7 * kSecondMs;
    energy += 150'000;
    ASSERT_TRUE(ledger_->PutSamples({{"GPU-a", At(t, static_cast<float>((i * 37) % 100), energy)}}).ok());
    ReadAndCompare(open, t - 3 * kSecondMs, "before sample " + std::to_string(i));
    ReadAndCompare(open, t + 20 * kSecondMs, "after sample " + std::to_string(i));
  }
  EXPECT_EQ(open.rebuilt(), 1) << "a live stream never needs the hour metered again";
  EXPECT_LE(open.samples_fed(), 2 * 50 + 2);
}

// A GPU's first sample arrives without its utilisation (only memory, say) and the
// utilisation is merged into it later: the change the ledger records starts at that
// sample itself, the meter's last one, so only reading it again shows what changed.
TEST_F(OpenHoursTest, AFieldMergedIntoTheLastSampleFedIsSeen) {
  OpenHours open;
  const TimeMs t = kHour + 5 * kMinuteMs;
  Sample first = At(t, -1);
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-a", first}}).ok());
  ReadAndCompare(open, t + 30 * kSecondMs, "the first sample, no utilisation yet");
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-a", At(t, 90)}}).ok());
  ReadAndCompare(open, t + 40 * kSecondMs, "its utilisation merged in");
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-a", At(t + kMinuteMs, 50)}}).ok());
  ReadAndCompare(open, t + 90 * kSecondMs, "the next sample");
  EXPECT_EQ(open.rebuilt(), 2) << "metered again once, when the sample fed last changed";
}

// Random streams: late, duplicate, unusable and far-apart samples, counter dips and
// resets, samples past the hour, holds that change, reads that go back in time.
TEST_F(OpenHoursTest, RandomStreamsEqualMeteringAfresh) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Open("l" + std::to_string(seed) + ".db");
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    OpenHours open;
    TimeMs t = kHour - 3 * kMinuteMs;
    TimeMs as_of = kHour + kMinuteMs;
    int64_t energy = 5'000'000;
    for (int step = 0; step < 60; ++step) {
      std::vector<GpuSample> batch;
      for (int k = pick(3); k >= 0; --k) {
        const int kind = pick(20);
        TimeMs at = t + (kind == 0 ? 5 * kMinuteMs : 20 * kSecondMs + pick(50) * kSecondMs);
        if (kind == 1) at = t - pick(3) * kMinuteMs;                // late (or a repeat of the last)
        if (kind == 2) at = kHour + kHourMs + pick(4) * kMinuteMs;  // past the hour
        energy += kind == 3 ? -2'000 : kind == 4 ? -energy + 5'000 : 60'000 + pick(100'000);
        float util = kind == 5 ? -1.0f : static_cast<float>(pick(101));
        batch.push_back({"GPU-a", At(at, util, kind == 6 ? -1 : energy)});
        if (kind != 1 && kind != 2) t = std::max(t, at);
      }
      ASSERT_TRUE(ledger_->PutSamples(batch).ok());
      if (pick(10) == 0) gpu_.holds[1].share_ppm = kFullShare / (2 + pick(3));  // an allocation changed
      as_of = pick(8) == 0 ? std::max(kHour + 1, as_of - pick(10) * kMinuteMs)
                           : std::min(kHour + kHourMs - 1, as_of + pick(90) * kSecondMs);
      ReadAndCompare(open, as_of, "seed " + std::to_string(seed) + " step " + std::to_string(step));
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace gpuledger
