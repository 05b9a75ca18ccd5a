// The Ledger contract: every backend must pass these. Today: SQLite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <ostream>
#include <random>

#include "common/test_util.h"
#include "ledger/audit_chain.h"
#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"
#include "ledger/sqlite/sqlite_db.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

using Factory = std::function<std::unique_ptr<Ledger>(const std::string& dir)>;

// Runs SQL on the ledger behind the backend's back (tamper tests).
using RawSql = std::function<Status(const std::string& dir, const std::string& sql)>;

struct Backend {
  const char* name;
  Factory make;
  RawSql raw;
};
std::ostream& operator<<(std::ostream& os, const Backend& b) {
  return os << b.name;
}  // test names stay short

class LedgerContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "postgres" && std::getenv("GPULEDGER_TEST_PG") == nullptr) {
      GTEST_SKIP() << "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    }
    ledger_ = GetParam().make(dir_.path());
    ASSERT_NE(ledger_, nullptr);
    Job j;
    j.id = "j1";
    j.user = "zhangsan";
    j.project = "defect-detection-line3";
    j.department = "manufacturing";
    j.start_ms = kT0;
    Job k = j;
    k.id = "j2";
    ASSERT_TRUE(ledger_->PutJobs({j, k}).ok());
    Gpu g{"GPU-1", "node-1", 0, "A10G", 23028, kT0 - kDayMs, 0, 0, 0};
    ASSERT_TRUE(ledger_->PutGpus({g}).ok());
  }
  size_t AllocCount() { return ledger_->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs})->size(); }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_P(LedgerContract, RoundTripsJobsWithLabels) {
  Job j = ledger_->ListJobs()->front();
  j.labels = {{"queue", "a10g"}, {"pod", "train-0"}};
  j.image_digest = "sha256:abc";
  ASSERT_TRUE(ledger_->PutJobs({j}).ok());
  auto jobs = ledger_->ListJobs();
  ASSERT_EQ(jobs->size(), 2u);
  auto one = ledger_->GetJob(j.id);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->labels.at("pod"), "train-0");
  EXPECT_FALSE(ledger_->GetJob("nope")->has_value());
  for (const Job& got : *jobs) {
    if (got.id == j.id) {
      EXPECT_EQ(got.labels.at("pod"), "train-0");
      EXPECT_EQ(got.image_digest, "sha256:abc");
    } else {
      EXPECT_TRUE(got.labels.empty());
    }
  }
}

TEST_P(LedgerContract, ListsOneJobFieldForGrouping) {
  Job j = ledger_->ListJobs()->front();
  j.image_repo = "reg/yolo";
  j.image_tag = "train-yolov10-medium-cu118";
  ASSERT_TRUE(ledger_->PutJobs({j}).ok());
  auto images = ledger_->ListJobField(Ledger::JobField::kImage);
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 2u);
  for (const auto& [id, image] : *images) {
    EXPECT_EQ(image, id == j.id ? "reg/yolo:train-yolov10-medium-cu118" : "");
  }
  auto depts = ledger_->ListJobField(Ledger::JobField::kDepartment);
  EXPECT_EQ((*depts)[0].second, "manufacturing");
}

TEST_P(LedgerContract, ProjectBelongsToOneDepartment) {
  Job j = ledger_->ListJobs()->front();
  j.id = "j3";
  j.department = "retail";
  Status s = ledger_->PutJobs({j});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->ListJobs()->size(), 2u);
}

TEST_P(LedgerContract, OverAllocationIsRejectedAndNothingIsWritten) {
  ASSERT_TRUE(ledger_->PutAllocations({{"j1", "GPU-1", kT0, kT0 + kHourMs, 600'000}}).ok());
  Status s = ledger_->PutAllocations({{"j2", "GPU-1", kT0 + 2 * kHourMs, kT0 + 3 * kHourMs, kFullShare},
                                      {"j2", "GPU-1", kT0 + 30 * kMinuteMs, kT0 + kHourMs, 500'000}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("110.00 %"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("j1"), std::string::npos) << s.message();
  EXPECT_EQ(AllocCount(), 1u);  // the valid first row of the failed batch was not kept
}

TEST_P(LedgerContract, AUnitOfWorkStoresAllOrNothing) {
  Job fresh;
  fresh.id = "j3";
  fresh.user = "lisi";
  fresh.project = "new-project";
  fresh.department = "retail";
  fresh.start_ms = kT0;
  Gpu extra{"GPU-2", "node-1", 1, "A10G", 23028, kT0 - kDayMs, 0, 0, 0};
  // The job and a GPU are written, then its allocation is refused: nothing stays.
  Status s = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->PutJobs({fresh}));
    RETURN_IF_ERROR(ledger_->PutGpus({extra}));
    EXPECT_TRUE(ledger_->GetJob("j3")->has_value());  // reads inside see the writes so far
    return ledger_->PutAllocations({{"j3", "GPU-9", kT0, 0, kFullShare}});
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_FALSE(ledger_->GetJob("j3")->has_value());
  EXPECT_EQ(ledger_->ListGpus()->size(), 1u);
  auto projects = ledger_->ListJobField(Ledger::JobField::kProject);
  for (const auto& [id, p] : *projects) EXPECT_NE(p, "new-project");
  // Samples of the GPU the rollback took back are refused (no cached id survives it).
  EXPECT_EQ(ledger_->PutSamples({{"GPU-2", Sample{kT0, 50, 1, 1, 1}}}).code(), StatusCode::kNotFound);
  // The same unit without the bad allocation is stored whole.
  ASSERT_TRUE(ledger_
                  ->InTransaction([&]() -> Status {
                    RETURN_IF_ERROR(ledger_->PutJobs({fresh}));
                    RETURN_IF_ERROR(ledger_->PutGpus({extra}));
                    return ledger_->PutAllocations({{"j3", "GPU-2", kT0, 0, kFullShare}});
                  })
                  .ok());
  EXPECT_TRUE(ledger_->GetJob("j3")->has_value());
  EXPECT_EQ(AllocCount(), 1u);
}

TEST_P(LedgerContract, AGpuRegisteredAgainAsItWasChangesNoBooks) {
  auto before = ledger_->LatestChangeOverlapping({kMinTimeMs, kMaxTimeMs});
  ASSERT_TRUE(before.ok());
  Gpu same{"GPU-1", "node-7", 3, "A10G", 24000, kT0 - kDayMs, 0, 0, 0};  // node, index, memory only
  ASSERT_TRUE(ledger_->PutGpus({same}).ok());
  EXPECT_EQ(*ledger_->LatestChangeOverlapping({kMinTimeMs, kMaxTimeMs}), *before);
  // A later service start changes the books from the earlier of the two on.
  same.in_service_from = kT0;
  ASSERT_TRUE(ledger_->PutGpus({same}).ok());
  auto changes = ledger_->SliceChangesSince(*before, {kMinTimeMs, kMaxTimeMs});
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].start, kT0 - kDayMs);
}

TEST_P(LedgerContract, ReimportingTheSameAllocationReplacesIt) {
  ASSERT_TRUE(ledger_->PutAllocations({{"j1", "GPU-1", kT0, 0, kFullShare}}).ok());
  ASSERT_TRUE(ledger_->PutAllocations({{"j1", "GPU-1", kT0, kT0 + kHourMs, kFullShare}}).ok());
  auto a = ledger_->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].end_ms, kT0 + kHourMs);
}

TEST_P(LedgerContract, UnknownJobOrGpuOrOutsideServiceIsRejected) {
  EXPECT_EQ(ledger_->PutAllocations({{"nope", "GPU-1", kT0, 0, kFullShare}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->PutAllocations({{"j1", "GPU-9", kT0, 0, kFullShare}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->PutAllocations({{"j1", "GPU-1", kT0 - 2 * kDayMs, kT0, kFullShare}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AllocCount(), 0u);
}

TEST_P(LedgerContract, SamplesOfUnknownGpusWriteNothing) {
  Sample s;
  s.t = kT0;
  s.util_pct = 50;
  Status st = ledger_->PutSamples({{"GPU-1", s}, {"GPU-404", s}});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  int n = 0;
  ASSERT_TRUE(ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; }).ok());
  EXPECT_EQ(n, 0);
  Sample bad = s;
  bad.util_pct = -3;
  EXPECT_EQ(ledger_->PutSamples({{"GPU-1", s}, {"GPU-1", bad}}).code(), StatusCode::kInvalidArgument);
}

TEST_P(LedgerContract, SamplesAreIdempotentByGpuAndTime) {
  Sample s;
  s.t = kT0;
  s.util_pct = 50;
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", s}}).ok());
  s.util_pct = 70;
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", s}}).ok());
  std::vector<Sample> got;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
          .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FLOAT_EQ(got[0].util_pct, 70);
  auto before = ledger_->SampleBefore("GPU-1", kT0 + 1);
  ASSERT_TRUE(before.ok() && before->has_value());
}

TEST_P(LedgerContract, PartialSamplesMergeFieldByField) {
  Sample util;
  util.t = kT0;
  util.util_pct = 80;
  Sample mem;
  mem.t = kT0;
  mem.util_pct = -1;  // this write did not carry utilisation
  mem.mem_mib = 7270;
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", util}}).ok());
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", mem}}).ok());
  std::vector<Sample> got;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
          .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FLOAT_EQ(got[0].util_pct, 80);
  EXPECT_FLOAT_EQ(got[0].mem_mib, 7270);
}

TEST_P(LedgerContract, RepeatsWithinOneBatchMergeLikeSuccessiveWrites) {
  Sample a;
  a.t = kT0;
  a.util_pct = 80;
  Sample b = a;
  b.util_pct = -1;
  b.mem_mib = 7270;
  Sample c = a;
  c.util_pct = 90;
  ASSERT_TRUE(ledger_->PutSamples({{"GPU-1", a}, {"GPU-1", b}, {"GPU-1", c}}).ok());
  std::vector<Sample> got;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
          .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FLOAT_EQ(got[0].util_pct, 90);
  EXPECT_FLOAT_EQ(got[0].mem_mib, 7270);
}

// Writes in many batches over several hours (most in time order, some late into hours
// a backend may have sealed, partial reports, repeats, values of any float), checked
// against a model of what successive field-by-field merges leave: every read gives back
// exactly that, bit for bit, and retention drops exactly what lies before its cutoff.
TEST_P(LedgerContract, SamplesReadBackAsTheirMergedWritesAcrossHoursAndBatches) {
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  std::map<TimeMs, Sample> model;
  auto value = [&](float whole) -> float {
    switch (pick(4)) {
      case 0:
        return -1;  // not reported
      case 1:
        return whole;  // an integer reading
      case 2:
        return whole + 0.25F;  // a short decimal
      default:
        return static_cast<float>(pick(1 << 20)) / 1048573.0F;  // any float
    }
  };
  TimeMs now = kT0;
  int64_t energy = 1'000'000;
  auto check_all = [&] {
    std::vector<Sample> got;
    ASSERT_TRUE(
        ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
            .ok());
    ASSERT_EQ(got.size(), model.size());
    size_t i = 0;
    for (const auto& [t, want] : model) {
      const Sample& g = got[i++];
      ASSERT_EQ(g.t, t);
      EXPECT_TRUE(SameBits(g, want)) << "sample at " << t;
    }
  };
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<GpuSample> w;
    const int n = 1 + pick(40);
    for (int k = 0; k < n; ++k) {
      Sample s;
      // Late: a retry of a stored time or a new time in the past. Some whole batches are
      // late (a sender catching up), so they reach hours sealed since.
      if ((batch % 7 == 3 || pick(8) == 0) && now > kT0) {
        s.t = kT0 + static_cast<TimeMs>(rng() % static_cast<uint64_t>(now - kT0));
        if (pick(2) == 0 && !model.empty()) {
          auto it = model.begin();
          std::advance(it, pick(static_cast<int>(model.size())));
          s.t = it->first;
        }
      } else {
        now += 1 + pick(20'000);
        s.t = now;
      }
      s.util_pct = value(static_cast<float>(pick(101)));
      s.mem_mib = value(static_cast<float>(pick(80'000)));
      s.power_w = value(static_cast<float>(pick(700)));
      s.sm_active = pick(2) ? -1.0F : static_cast<float>(pick(1000)) / 1000.0F;
      s.gr_active = pick(2) ? -1.0F : static_cast<float>(pick(1'000'000)) / 1e6F;
      if (s.util_pct > 100) s.util_pct = 100;
      energy += pick(50'000);
      s.energy_mj = pick(5) == 0 ? -1 : energy;
      w.push_back({"GPU-1", s});
    }
    if (batch % 10 == 9) now += 5 * kHourMs + pick(kHourMs);  // a gap of hours (the writes span two UTC days)
    ASSERT_TRUE(ledger_->PutSamples(w).ok()) << "batch " << batch;
    for (const GpuSample& g : w) {
      auto [it, fresh] = model.try_emplace(g.sample.t, g.sample);
      if (!fresh) MergeReported(it->second, g.sample);
    }
    if (batch % 6 == 5) check_all();
  }
  check_all();
  for (int probe = 0; probe < 50; ++probe) {
    const TimeMs a =
        kT0 - kHourMs + static_cast<TimeMs>(rng() % static_cast<uint64_t>(now - kT0 + 2 * kHourMs));
    const TimeMs b = a + pick(4) * kHourMs + pick(kHourMs);
    std::vector<TimeMs> got, want;
    ASSERT_TRUE(ledger_->ScanSamples("GPU-1", {a, b}, [&](const Sample& x) { got.push_back(x.t); }).ok());
    for (auto it = model.lower_bound(a); it != model.end() && it->first < b; ++it) want.push_back(it->first);
    EXPECT_EQ(got, want) << "window " << a << ".." << b;
    auto before = ledger_->SampleBefore("GPU-1", a);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    auto it = model.lower_bound(a);
    if (it == model.begin()) {
      EXPECT_FALSE(before->has_value());
    } else {
      --it;
      ASSERT_TRUE(before->has_value()) << "before " << a;
      EXPECT_TRUE(SameBits(**before, it->second)) << "before " << a;
    }
    auto later = ledger_->HasSampleAtOrAfter("GPU-1", a);
    ASSERT_TRUE(later.ok()) << later.status().ToString();
    EXPECT_EQ(*later, model.lower_bound(a) != model.end()) << "at or after " << a;
  }
  for (TimeMs probe : {model.rbegin()->first, model.rbegin()->first + 1}) {
    auto later = ledger_->HasSampleAtOrAfter("GPU-1", probe);
    ASSERT_TRUE(later.ok());
    EXPECT_EQ(*later, probe == model.rbegin()->first) << "at or after the last sample " << probe;
  }
  const TimeMs cutoff = kT0 + (now - kT0) / 2 + 1234;  // inside an hour
  const auto want_dropped = static_cast<int64_t>(std::distance(model.begin(), model.lower_bound(cutoff)));
  auto dropped = ledger_->DropSamplesBefore(cutoff);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, want_dropped);
  model.erase(model.begin(), model.lower_bound(cutoff));
  check_all();
}

TEST_P(LedgerContract, BooksGoStaleWhenAWriteTouchesTheirWindow) {
  const Window oct{kT0, kT0 + 31 * kDayMs};
  const int64_t c0 = *ledger_->LatestChangeOverlapping(oct);
  ASSERT_TRUE(
      ledger_->ReplaceUsage("2026-10@UTC", c0, {UsageRow{"j1", "GPU-1", "A10G", kT0, kT0 + 1, 5}}).ok());
  EXPECT_EQ(**ledger_->BooksBuiltAt("2026-10@UTC"), c0);
  EXPECT_EQ(ledger_->GetUsage("2026-10@UTC")->size(), 1u);
  ASSERT_TRUE(ledger_->PutAllocations({{"j1", "GPU-1", kT0 + kDayMs, kT0 + 2 * kDayMs, kFullShare}}).ok());
  EXPECT_GT(*ledger_->LatestChangeOverlapping(oct), c0);
  // A write outside the window leaves it alone.
  const int64_t c1 = *ledger_->LatestChangeOverlapping(oct);
  ASSERT_TRUE(
      ledger_->PutAllocations({{"j2", "GPU-1", kT0 + 40 * kDayMs, kT0 + 41 * kDayMs, kFullShare}}).ok());
  EXPECT_EQ(*ledger_->LatestChangeOverlapping(oct), c1);
}

TEST_P(LedgerContract, RetentionDropsOldSamplesWithoutStalingBooks) {
  std::vector<GpuSample> samples;
  for (int i = 0; i < 4; ++i) {
    Sample s;
    s.t = kT0 + i * kDayMs;
    s.util_pct = 10.0F * static_cast<float>(i);
    samples.push_back({"GPU-1", s});
  }
  ASSERT_TRUE(ledger_->PutSamples(samples).ok());
  const Window oct{kT0, kT0 + 31 * kDayMs};
  const int64_t change = *ledger_->LatestChangeOverlapping(oct);
  auto dropped = ledger_->DropSamplesBefore(kT0 + 2 * kDayMs);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(*dropped, 2);
  std::vector<TimeMs> left;
  ASSERT_TRUE(
      ledger_->ScanSamples("GPU-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { left.push_back(x.t); })
          .ok());
  EXPECT_EQ(left, (std::vector<TimeMs>{kT0 + 2 * kDayMs, kT0 + 3 * kDayMs}));
  EXPECT_EQ(ledger_->GetSettings()->raw_retained_from_ms, kT0 + 2 * kDayMs);
  EXPECT_EQ(*ledger_->LatestChangeOverlapping(oct), change);  // not a change to the books
  // Settings written later keep the retention mark.
  LedgerSettings s = *ledger_->GetSettings();
  s.default_max_gap_ms = 40 * kSecondMs;
  ASSERT_TRUE(ledger_->SetSettings(s).ok());
  EXPECT_EQ(ledger_->GetSettings()->raw_retained_from_ms, kT0 + 2 * kDayMs);
}

TEST_P(LedgerContract, EstimatesAreKeptBesideTheirJobAndReplaced) {
  EXPECT_FALSE(ledger_->GetEstimate("j1")->has_value());
  JobEstimate e{"j1", kT0, "history", 12, 45'000'000, 30'000'000, 61'000'000, 28'000'000,
                8 * kGpuNsPerGpuHour, 8 * kHourMs, R"({"basis":"history"})"};
  ASSERT_TRUE(ledger_->PutEstimate(e).ok());
  e.made_ms = kT0 + 1;
  e.basis = "rate";
  e.cost_low_micros = -1;
  ASSERT_TRUE(ledger_->PutEstimate(e).ok());
  auto got = ledger_->GetEstimate("j1");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->made_ms, kT0 + 1);
  EXPECT_EQ((*got)->basis, "rate");
  EXPECT_EQ((*got)->runs, 12);
  EXPECT_EQ((*got)->cost_micros, 45'000'000);
  EXPECT_EQ((*got)->cost_low_micros, -1);
  EXPECT_EQ((*got)->best_cost_micros, 28'000'000);
  EXPECT_EQ((*got)->gpu_ns, 8 * kGpuNsPerGpuHour);
  EXPECT_EQ((*got)->detail, R"({"basis":"history"})");
  // The job registered again (status, end) keeps its estimate.
  auto job = ledger_->GetJob("j1");
  ASSERT_TRUE(job.ok() && job->has_value());
  ASSERT_TRUE(ledger_->PutJobs({**job}).ok());
  EXPECT_TRUE(ledger_->GetEstimate("j1")->has_value());
  e.job_id = "no-such-job";
  EXPECT_EQ(ledger_->PutEstimate(e).code(), StatusCode::kNotFound);
}

TEST_P(LedgerContract, JobGpuMemoryKeepsThePeakAndTheWidestSpan) {
  EXPECT_TRUE(ledger_->GetJobGpuMemory("j1")->empty());
  ASSERT_TRUE(ledger_->PutJobGpuMemory({{"j1", "GPU-1", 7'000, kT0 + kMinuteMs, kT0 + 2 * kMinuteMs}}).ok());
  // A lower peak later, an earlier first sighting: the peak stays, the span widens.
  ASSERT_TRUE(ledger_->PutJobGpuMemory({{"j1", "GPU-1", 6'500, kT0, kT0 + 3 * kMinuteMs}}).ok());
  auto got = ledger_->GetJobGpuMemory("j1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].gpu_uuid, "GPU-1");
  EXPECT_EQ((*got)[0].peak_mib, 7'000);
  EXPECT_EQ((*got)[0].first_ms, kT0);
  EXPECT_EQ((*got)[0].last_ms, kT0 + 3 * kMinuteMs);
  ASSERT_TRUE(ledger_->PutJobGpuMemory({{"j1", "GPU-1", 7'300, kT0, kT0 + 4 * kMinuteMs}}).ok());
  EXPECT_EQ((*ledger_->GetJobGpuMemory("j1"))[0].peak_mib, 7'300);
  // All or none: a batch naming an unknown GPU or job stores none of its rows.
  EXPECT_EQ(ledger_->PutJobGpuMemory({{"j2", "GPU-1", 100, kT0, kT0}, {"j2", "GPU-9", 100, kT0, kT0}}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ledger_->PutJobGpuMemory({{"j2", "GPU-1", 100, kT0, kT0}, {"no-such-job", "GPU-1", 1, kT0, kT0}})
                .code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(ledger_->GetJobGpuMemory("j2")->empty());
}

TEST_P(LedgerContract, TheExportSaltIsCreatedOnceAndNeverReplaced) {
  auto first = ledger_->GetOrCreateExportSalt("salt-a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, "salt-a");
  auto second = ledger_->GetOrCreateExportSalt("salt-b");  // a later candidate loses
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, "salt-a");
}

TEST_P(LedgerContract, StopRequestsReplaceEarlierOnes) {
  EXPECT_FALSE(ledger_->GetStopRequest("j1")->has_value());
  ASSERT_TRUE(ledger_->PutStopRequest({"j1", kT0, "tok-1", "over budget"}).ok());
  ASSERT_TRUE(ledger_->PutStopRequest({"j1", kT0 + 5, "tok-2", "plateaued"}).ok());
  auto got = ledger_->GetStopRequest("j1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->requested_ms, kT0 + 5);
  EXPECT_EQ((*got)->requested_by, "tok-2");
  EXPECT_EQ((*got)->reason, "plateaued");
  EXPECT_EQ(ledger_->PutStopRequest({"no-such-job", kT0, "tok", ""}).code(), StatusCode::kNotFound);
}

TEST_P(LedgerContract, AWithdrawnStopRequestIsGoneAndANewOneCanBeMade) {
  auto none = ledger_->DeleteStopRequest("j1");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(*none);  // nothing to withdraw
  ASSERT_TRUE(ledger_->PutStopRequest({"j1", kT0, "tok-1", "over budget"}).ok());
  auto withdrawn = ledger_->DeleteStopRequest("j1");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_TRUE(*withdrawn);
  EXPECT_FALSE(ledger_->GetStopRequest("j1")->has_value());
  EXPECT_FALSE(*ledger_->DeleteStopRequest("j1"));
  ASSERT_TRUE(ledger_->PutStopRequest({"j1", kT0 + 9, "tok-2", "again"}).ok());
  auto got = ledger_->GetStopRequest("j1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->reason, "again");
  // Inside a unit of work that fails, the withdrawal is undone.
  Status failed = ledger_->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger_->DeleteStopRequest("j1").status());
    return Internal("refused later in the same request");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(ledger_->GetStopRequest("j1")->has_value());
}

TEST_P(LedgerContract, MinutesAreReplacedWithinTheirWindow) {
  std::vector<MinuteRollup> rows = {{kT0, 6, 50, 90, 7000, 200}, {kT0 + kMinuteMs, 6, 60, 95, 7100, -1}};
  ASSERT_TRUE(ledger_->ReplaceMinutes("GPU-1", {kT0, kT0 + kHourMs}, rows).ok());
  ASSERT_TRUE(
      ledger_
          ->ReplaceMinutes("GPU-1", {kT0 + kMinuteMs, kT0 + kHourMs}, {{kT0 + 2 * kMinuteMs, 1, 5, 5, 0, 0}})
          .ok());
  auto got = ledger_->GetMinutes("GPU-1", {kT0, kT0 + kHourMs});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);  // the first minute kept, the second replaced by the third
  EXPECT_FLOAT_EQ((*got)[0].util_mean_pct, 50);
  EXPECT_EQ((*got)[1].minute_ms, kT0 + 2 * kMinuteMs);
}

TokenRecord Token(const std::string& id, const std::string& hash, const std::string& role, TimeMs created) {
  TokenRecord t;
  t.id = id, t.hash = hash, t.role = role, t.created_ms = created;
  return t;
}

AuditEntry Entry(TimeMs at, const std::string& action, const std::string& detail) {
  AuditEntry e;
  e.at_ms = at, e.token_id = "tok1", e.role = "finance", e.action = action, e.detail = detail;
  e.remote = "10.1.2.3", e.status = 200;
  return e;
}

TEST_P(LedgerContract, TokensAreFoundByHashAndAuditIsOrdered) {
  ASSERT_TRUE(ledger_->PutToken(Token("tok1", "abc123", "finance", kT0)).ok());
  auto t = ledger_->FindTokenByHash("abc123");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->role, "finance");
  EXPECT_FALSE(ledger_->FindTokenByHash("nope")->has_value());
  ASSERT_TRUE(ledger_->AppendAudit(Entry(kT0, "GET /a", "x")).ok());
  ASSERT_TRUE(ledger_->AppendAudit(Entry(kT0 + 1, "GET /b", "y")).ok());
  auto audit = ledger_->ListAudit();
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[1].action, "GET /b");
  EXPECT_EQ((*audit)[1].remote, "10.1.2.3");
  EXPECT_EQ((*audit)[1].status, 200);
  EXPECT_EQ((*audit)[0].seq, 1);
  EXPECT_EQ((*audit)[1].seq, 2);
  auto page = ledger_->ListAudit(1, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].action, "GET /b");
  EXPECT_EQ(ledger_->ListAudit(0, 1)->size(), 1u);
}

TEST_P(LedgerContract, TokensKeepTheirLifecycle) {
  TokenRecord a = Token("tok_a", "ha", "user", kT0);
  a.project = "defect-detection-line3";
  a.name = "ci pipeline";
  a.owner = "zhangsan";
  a.expires_ms = kT0 + kDayMs;
  ASSERT_TRUE(ledger_->PutToken(a).ok());
  ASSERT_TRUE(ledger_->PutToken(Token("tok_b", "hb", "admin", kT0 - 1)).ok());
  auto all = ledger_->ListTokens();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "tok_b") << "by creation time";
  EXPECT_EQ((*all)[1].name, "ci pipeline");
  EXPECT_EQ((*all)[1].owner, "zhangsan");
  EXPECT_EQ((*all)[1].expires_ms, kT0 + kDayMs);
  EXPECT_EQ((*all)[1].last_used_ms, 0);

  ASSERT_TRUE(ledger_->TouchToken("tok_a", kT0 + 10).ok());
  ASSERT_TRUE(ledger_->TouchToken("tok_a", kT0 + 5).ok()) << "an older use does not move it back";
  ASSERT_TRUE(ledger_->TouchToken("tok_unknown", kT0 + 5).ok());
  EXPECT_EQ((*ledger_->FindTokenById("tok_a"))->last_used_ms, kT0 + 10);

  ASSERT_TRUE(ledger_->RevokeToken("tok_a", kT0 + 20).ok());
  ASSERT_TRUE(ledger_->RevokeToken("tok_a", kT0 + 30).ok());
  auto revoked = ledger_->FindTokenByHash("ha");
  ASSERT_TRUE(revoked.ok() && revoked->has_value());
  EXPECT_TRUE((*revoked)->revoked);
  EXPECT_EQ((*revoked)->revoked_ms, kT0 + 20) << "the first revocation counts";
  Status missing = ledger_->RevokeToken("tok_nope", kT0);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("tok_nope"), std::string::npos) << missing.message();
  EXPECT_FALSE(ledger_->FindTokenById("tok_nope")->has_value());
}

TEST_P(LedgerContract, KnowsWhichProjectsAndDepartmentsExist) {
  EXPECT_TRUE(*ledger_->HasProject("defect-detection-line3"));
  EXPECT_FALSE(*ledger_->HasProject("no-such-project"));
  EXPECT_TRUE(*ledger_->HasDepartment("manufacturing"));
  EXPECT_FALSE(*ledger_->HasDepartment("defect-detection-line3"));
}

TEST_P(LedgerContract, AuditChainVerifiesUntilARowIsEditedWithRawSql) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(ledger_->AppendAudit(Entry(kT0 + i, "GET /r", std::to_string(i))).ok());
  AuditChainVerifier good;
  ASSERT_TRUE(VerifyAuditLog(*ledger_, good).ok());
  EXPECT_FALSE(good.first_broken_seq().has_value()) << good.why();
  EXPECT_EQ(good.checked(), 5);
  auto entries = ledger_->ListAudit();
  EXPECT_EQ((*entries)[0].prev_hash, AuditGenesisHash());
  EXPECT_EQ((*entries)[3].prev_hash, (*entries)[2].hash);

  ASSERT_TRUE(GetParam().raw(dir_.path(), "UPDATE audit SET detail = 'forged' WHERE seq = 3").ok());
  AuditChainVerifier bad;
  ASSERT_TRUE(VerifyAuditLog(*ledger_, bad).ok());
  ASSERT_TRUE(bad.first_broken_seq().has_value());
  EXPECT_EQ(*bad.first_broken_seq(), 3);
  EXPECT_EQ(bad.checked(), 2);

  ASSERT_TRUE(GetParam().raw(dir_.path(), "UPDATE audit SET detail = '2' WHERE seq = 3").ok());
  ASSERT_TRUE(GetParam().raw(dir_.path(), "DELETE FROM audit WHERE seq = 4").ok());
  AuditChainVerifier gap;
  ASSERT_TRUE(VerifyAuditLog(*ledger_, gap).ok());
  EXPECT_EQ(gap.first_broken_seq(), 5) << "the entry after the removed one";
}

TEST_P(LedgerContract, SightingsWidenTheirSpan) {
  ASSERT_TRUE(ledger_->PutSightings({{"GPU-1", "pod", "train-0", kT0 + 100, kT0 + 200}}).ok());
  ASSERT_TRUE(ledger_->PutSightings({{"GPU-1", "pod", "train-0", kT0 + 50, kT0 + 150}}).ok());
  ASSERT_TRUE(ledger_->PutSightings({{"GPU-2", "pod", "train-1", kT0, kT0}}).ok());
  auto s = ledger_->FindSightings("pod", "train-0");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].first_ms, kT0 + 50);
  EXPECT_EQ((*s)[0].last_ms, kT0 + 200);
  EXPECT_TRUE(ledger_->FindSightings("pod", "nope")->empty());
}

TEST_P(LedgerContract, FindsJobsByLabelOrHpcJobId) {
  Job j = ledger_->ListJobs()->front();
  j.id = "slurm-4711";
  j.labels = {{"pod", "yolo-train-0"}};
  ASSERT_TRUE(ledger_->PutJobs({j}).ok());
  auto by_pod = ledger_->FindJobsByLabel("pod", "yolo-train-0");
  ASSERT_TRUE(by_pod.ok()) << by_pod.status().ToString();
  ASSERT_EQ(by_pod->size(), 1u);
  EXPECT_EQ((*by_pod)[0].id, "slurm-4711");
  EXPECT_EQ(ledger_->FindJobsByLabel("hpc_job", "slurm-4711")->size(), 1u);
  EXPECT_TRUE(ledger_->FindJobsByLabel("pod", "other")->empty());
  EXPECT_TRUE(ledger_->FindJobsByLabel("queue", "slurm-4711")->empty());
}

TEST_P(LedgerContract, PricesMustBeInTheLedgersCurrency) {
  Status s = ledger_->PutPrices({{"A10G", kT0, 3'500'000, 0, "USD"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("CNY"), std::string::npos);
  ASSERT_TRUE(ledger_->PutPrices({{"A10G", kT0, 3'500'000, 0, "CNY"}}).ok());
  EXPECT_EQ(ledger_->ListPrices()->size(), 1u);
}

std::string last_pg_conninfo;  // the database NewPostgresLedger made last (tests run one at a time)

// PostgreSQL: a fresh database per test in the cluster GPULEDGER_TEST_PG names (libpq
// keyword form, "host=... port=... user=..."); `make test` starts one. Without it the
// PostgreSQL cases say so and skip.
std::unique_ptr<Ledger> NewPostgresLedger(const std::string&) {
  std::string why;
  const std::optional<std::string> conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) {
    if (std::getenv("GPULEDGER_TEST_PG") != nullptr) ADD_FAILURE() << why;
    return nullptr;
  }
  last_pg_conninfo = *conninfo;
  auto l = OpenPostgresLedger(*conninfo);
  if (!l.ok()) ADD_FAILURE() << l.status().ToString();
  return l.ok() ? std::move(l).value() : nullptr;
}

std::unique_ptr<Ledger> NewSqliteLedger(const std::string& dir) {
  auto l = OpenSqliteLedger(dir + "/ledger.db");
  return l.ok() ? std::move(l).value() : nullptr;
}

Status PostgresRawSql(const std::string&, const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Conn> c, pg::Conn::Open(last_pg_conninfo));
  return c->Exec(sql).status();
}

Status SqliteRawSql(const std::string& dir, const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db, sqlite::Db::Open(dir + "/ledger.db"));
  return db->Exec(sql);
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerContract,
                         ::testing::Values(Backend{"sqlite", NewSqliteLedger, SqliteRawSql},
                                           Backend{"postgres", NewPostgresLedger, PostgresRawSql}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpuledger
