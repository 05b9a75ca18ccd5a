#include "common/strings.h"

#include <gtest/gtest.h>

#include <limits>

namespace gpuledger {
namespace {

TEST(FormatFixed, PrintsEveryFiniteValueNotAQuestionMark) {
  EXPECT_EQ(FormatFixed(87.5, 2), "87.50");
  EXPECT_EQ(FormatFixed(-0.001, 2), "0.00");
  // Past what fixed notation fits in its buffer: the shortest exact form instead.
  EXPECT_EQ(FormatFixed(1e308, 2), "1e+308");
  EXPECT_EQ(FormatFixed(-1.5e300, 1), "-1.5e+300");
  EXPECT_EQ(FormatFixed(std::numeric_limits<double>::max(), 3), "1.7976931348623157e+308");
  EXPECT_EQ(FormatFixed(std::numeric_limits<double>::infinity(), 2), "inf");
}

}  // namespace
}  // namespace gpuledger
