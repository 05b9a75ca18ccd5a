#include "ingest/results_csv.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuledger {
namespace {

const std::string kDir = std::string(GPULEDGER_SOURCE_DIR) + "/../shared/realdata/artifacts/ultralytics/";

struct Expected {
  const char* file;
  int epochs;
  double best_map50;
  bool has_time;
};

// Counted from the files themselves (header read, 0-based epochs shifted to 1-based).
constexpr Expected kRuns[] = {
    {"yolo11n__4Kings__results.csv", 50, 0.65803, true},
    {"yolo12n_100ep__1527171__results.csv", 100, 0.76307, true},
    {"yolo12n_200ep__1527171__results.csv", 200, 0.78482, true},
    {"yolov10s_THUfork__4prince8__results.csv", 15, 0.94524, false},
    {"yolov5_unknownsize__KALYAN1045__results.csv", 20, 0.98426, false},
    {"yolov5s__GrafitKil__results.csv", 150, 0.85776, false},
    {"yolov8n_oldfmt__A-Alviento__results.csv", 100, 0.96316, false},
    {"yolov8s_cpu__AbsoluteTech__results.csv", 5, 0.91038, true},
    {"yolov8x_cuda__AbsoluteTech__results.csv", 100, 0.95766, true},
};

TEST(ResultsCsvRealData, EveryHeaderVariantImportsWithRightEpochsAndBestMap) {
  if (!std::filesystem::exists(kDir))
    GTEST_SKIP() << "no ../shared/realdata (a fresh clone has none): " << kDir;
  for (const Expected& e : kRuns) {
    std::ifstream in(kDir + e.file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto epochs = ParseResultsCsv(ss.str());
    ASSERT_TRUE(epochs.ok()) << e.file << ": " << epochs.status().ToString();
    ASSERT_EQ(static_cast<int>(epochs->size()), e.epochs) << e.file;
    EXPECT_EQ(epochs->front().epoch, 1) << e.file;
    EXPECT_EQ(epochs->back().epoch, e.epochs) << e.file;
    double best = 0;
    for (const auto& ep : *epochs) best = std::max(best, ep.map50.value_or(0));
    EXPECT_DOUBLE_EQ(best, e.best_map50) << e.file;
    EXPECT_EQ(epochs->back().time_s.has_value(), e.has_time) << e.file;
    EXPECT_TRUE(epochs->back().train_loss.has_value()) << e.file;
  }
}

TEST(ResultsCsv, RejectsMissingMapAndNonMonotonicEpochs) {
  EXPECT_FALSE(ParseResultsCsv("epoch,train/box_loss\n1,0.5\n").ok());
  auto r = ParseResultsCsv("epoch,metrics/mAP50(B)\n1,0.5\n1,0.6\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos);
  EXPECT_FALSE(ParseResultsCsv("epoch,metrics/mAP50(B)\n1,1.5\n").ok());
  EXPECT_FALSE(ParseResultsCsv("").ok());
}

}  // namespace
}  // namespace gpuledger
