#include "common/money.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(Money, ParsesDecimalsExactly) {
  EXPECT_EQ(*ParseMicros("3.5", "p"), 3'500'000);
  EXPECT_EQ(*ParseMicros("29.05", "p"), 29'050'000);
  EXPECT_EQ(*ParseMicros("-0.000001", "p"), -1);
  EXPECT_FALSE(ParseMicros("1.0000001", "p").ok());
  EXPECT_FALSE(ParseMicros("1,5", "p").ok());
  EXPECT_FALSE(ParseMicros("", "p").ok());
  EXPECT_FALSE(ParseMicros("1e3", "p").ok());
}

TEST(Money, FormatsWithCurrencyDigits) {
  EXPECT_EQ(FormatMicros(29'050'000, 2), "29.05");
  EXPECT_EQ(FormatMicros(3'500'000, 2), "3.50");
  EXPECT_EQ(FormatMicros(3'500'000, 0), "3.5");
  EXPECT_EQ(FormatMicros(-10'000, 2), "-0.01");
  EXPECT_EQ(FormatMicros(0, 2), "0.00");
}

TEST(Money, RoundsHalfAwayFromZero) {
  EXPECT_EQ(RoundMicros(5'000, 10'000), 10'000);
  EXPECT_EQ(RoundMicros(4'999, 10'000), 0);
  EXPECT_EQ(RoundMicros(-5'000, 10'000), -10'000);
}

TEST(Currency, KnowsIso4217MinorUnits) {
  EXPECT_EQ(LookupCurrency("CNY")->minor_digits, 2);
  EXPECT_EQ(LookupCurrency("JPY")->micros_per_minor(), 1'000'000);
  EXPECT_EQ(LookupCurrency("KWD")->micros_per_minor(), 1'000);
  Status s = LookupCurrency("XYZ").status();
  EXPECT_NE(s.message().find("XYZ"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
