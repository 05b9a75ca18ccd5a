#include "domain/gpu_model.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(GpuModelNames, TheVendorWordIsDroppedSoNvmlAndPriceBookNamesAgree) {
  const GpuModelNames names;
  EXPECT_EQ(names.Canonical("NVIDIA A10G"), "A10G");
  EXPECT_EQ(names.Canonical("A10G"), "A10G");
  EXPECT_EQ(names.Canonical("NVIDIA A100-SXM4-80GB"), "A100-SXM4-80GB");
  EXPECT_EQ(names.Canonical("nvidia  H100 80GB HBM3 "), "H100 80GB HBM3");
  EXPECT_EQ(names.Canonical("Tesla T4"), "T4");
  EXPECT_EQ(names.Canonical("NVIDIA Tesla V100-SXM2-32GB"), "V100-SXM2-32GB");
}

TEST(GpuModelNames, ANameThatIsOnlyTheVendorWordIsKept) {
  const GpuModelNames names;
  EXPECT_EQ(names.Canonical("NVIDIA"), "NVIDIA");
  EXPECT_EQ(names.Canonical("NVIDIAX A10G"), "NVIDIAX A10G");
  EXPECT_EQ(names.Canonical(""), "");
}

TEST(GpuModelNames, ConfiguredAliasesMapToTheirCanonicalNameIgnoringCase) {
  auto names = GpuModelNames::Parse("A10G-24GB=A10G; NVIDIA H100 80GB HBM3 = H100-SXM5-80GB,\n");
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(names->alias_count(), 2u);
  EXPECT_EQ(names->Canonical("NVIDIA A10G-24GB"), "A10G");
  EXPECT_EQ(names->Canonical("a10g-24gb"), "A10G");
  EXPECT_EQ(names->Canonical("NVIDIA H100 80GB HBM3"), "H100-SXM5-80GB");
  EXPECT_EQ(names->Canonical("H100 80GB HBM3"), "H100-SXM5-80GB");
  EXPECT_EQ(names->Canonical("NVIDIA L4"), "L4");
}

TEST(GpuModelNames, AMalformedAliasIsRefusedByName) {
  auto no_eq = GpuModelNames::Parse("A10G=A10G;A100");
  ASSERT_FALSE(no_eq.ok());
  EXPECT_NE(no_eq.status().message().find("'A100' has no '='"), std::string::npos)
      << no_eq.status().message();
  auto empty = GpuModelNames::Parse("=A10G");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty side"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
