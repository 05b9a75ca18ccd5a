#include "policy/image_tag.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

Job WithImage(const std::string& repo, const std::string& tag, const std::string& model = "yolov10m") {
  Job j;
  j.id = "j1";
  j.project = "vision";
  j.model_type = model;
  j.image_repo = repo;
  j.image_tag = tag;
  return j;
}

TEST(ImageTag, TheArticlesTagPasses) {
  TagVerdict v =
      CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", "train-yolov10-medium-cu118"));
  EXPECT_TRUE(v.violations.empty()) << v.violations.front().message;
  EXPECT_FALSE(v.refused());
}

TEST(ImageTag, LatestIsRefusedWithAnExampleFromTheModelType) {
  TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", "latest", "yolov8s"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_TRUE(v.refused());
  EXPECT_EQ(v.violations[0].rule, "no-latest");
  EXPECT_EQ(v.violations[0].field, "tag");
  EXPECT_EQ(v.violations[0].value, "latest");
  EXPECT_EQ(v.violations[0].example, "train-yolov8-small-cu118");
  EXPECT_NE(v.violations[0].message.find("rule no-latest"), std::string::npos);
  EXPECT_NE(v.violations[0].message.find("'train-yolov8-small-cu118'"), std::string::npos);
}

TEST(ImageTag, NoTagMeansLatest) {
  TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", ""));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].rule, "no-latest");
  EXPECT_NE(v.violations[0].message.find("no tag"), std::string::npos);
}

TEST(ImageTag, ADigestOnlyReferenceIsRefused) {
  // "reg/ultra@sha256:<64 hex>" as SplitImage leaves it: the repo holds the '@'.
  const std::string hex(64, 'a');
  TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra@sha256", hex));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].rule, "no-digest-only");
  EXPECT_EQ(v.violations[0].value, "sha256:" + hex);
  EXPECT_EQ(v.violations[0].example, "train-yolov10-medium-cu118");
}

TEST(ImageTag, HashTagsAreRefused) {
  for (const std::string& tag :
       {std::string(40, 'f').replace(0, 1, "1"), std::string(64, '0'), std::string("3f9a2c1")}) {
    TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", tag));
    ASSERT_EQ(v.violations.size(), 1u) << tag;
    EXPECT_EQ(v.violations[0].rule, "no-hash-tag") << tag;
    EXPECT_EQ(v.violations[0].value, tag);
  }
}

TEST(ImageTag, AFieldOffTheTemplateIsNamedAndTheExampleKeepsTheRest) {
  TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", "train-yolov10-fast-cu118"));
  ASSERT_EQ(v.violations.size(), 1u);
  const TagViolation& t = v.violations[0];
  EXPECT_EQ(t.rule, "template");
  EXPECT_EQ(t.field, "optimization_level");
  EXPECT_EQ(t.value, "fast");
  EXPECT_EQ(t.example, "train-yolov10-medium-cu118");
  EXPECT_NE(t.message.find("field optimization_level"), std::string::npos);
  EXPECT_NE(t.message.find("'fast'"), std::string::npos);
  EXPECT_NE(t.message.find("nano, small, medium"), std::string::npos);
  EXPECT_NE(t.message.find("{purpose}-{yolo_version}-{optimization_level}-{cuda_version}"),
            std::string::npos);
}

TEST(ImageTag, MissingFieldsAreNamed) {
  TagVerdict v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", "v8.0.200", "yolov8s"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].rule, "template");
  EXPECT_NE(v.violations[0].message.find("1 of the template's 4 fields"), std::string::npos)
      << v.violations[0].message;
  EXPECT_EQ(v.violations[0].example, "train-yolov8-small-cu118");
  // Parts in the wrong order are put in place.
  v = CheckImageTag(ImageTagPolicy::Default(), WithImage("reg/ultra", "yolov10-train-cu121-large"));
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].example, "train-yolov10-large-cu121");
}

TEST(ImageTag, WarnModeKeepsTheViolationAsAWarningAndOffChecksNothing) {
  ImageTagPolicy p = ImageTagPolicy::Default();
  p.mode = PolicyMode::kWarn;
  TagVerdict v = CheckImageTag(p, WithImage("reg/ultra", "latest"));
  EXPECT_FALSE(v.refused());
  ASSERT_EQ(v.warnings().size(), 1u);
  EXPECT_NE(v.warnings()[0].find("image tag policy (warn): rule no-latest"), std::string::npos);
  p.mode = PolicyMode::kOff;
  EXPECT_TRUE(CheckImageTag(p, WithImage("reg/ultra", "latest")).violations.empty());
}

TEST(ImageTag, AJobWithoutAnImageIsNotChecked) {
  EXPECT_TRUE(CheckImageTag(ImageTagPolicy::Default(), WithImage("", "")).violations.empty());
}

TEST(PolicyFile, ProjectsOverrideTheOrganisation) {
  auto p = ParsePolicyJson(R"({
    "image_tag": {"mode": "enforce", "fields": {"optimization_level": {"values": ["fast", "slow"]}}},
    "projects": {"sandbox": {"image_tag": {"mode": "warn"}},
                 "edge": {"image_tag": {"template": "{purpose}_{cuda_version}"}}}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->ImageTagFor("vision").mode, PolicyMode::kEnforce);
  EXPECT_EQ(p->ImageTagFor("sandbox").mode, PolicyMode::kWarn);
  EXPECT_TRUE(
      CheckImageTag(p->ImageTagFor("vision"), WithImage("r", "train-yolov10-fast-cu118")).violations.empty());
  EXPECT_TRUE(CheckImageTag(p->ImageTagFor("edge"), WithImage("r", "train_cu118")).violations.empty());
  EXPECT_FALSE(
      CheckImageTag(p->ImageTagFor("edge"), WithImage("r", "train-yolov10-fast-cu118")).violations.empty());
  // What PolicySetJson writes reads back the same.
  auto again = ParsePolicyJson(PolicySetJson(*p));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(PolicySetJson(*again), PolicySetJson(*p));
}

TEST(PolicyFile, BadFilesAreRefusedByKeyAndValue) {
  struct Case {
    const char* body;
    const char* says;
  } cases[] = {
      {R"({"image_tag": {"mode": "strict"}})", "policy mode 'strict'"},
      {R"({"image_tag": {"template": "{purpose}{cuda_version}"}})", "need a literal between them"},
      {R"({"image_tag": {"template": "fixed"}})", "has no {field}"},
      {R"({"image_tag": {"fields": {"cuda_version": {"pattern": "cu[0-9"}}}})",
       "not a valid regular expression"},
      {R"({"image_tag": {"colour": 1}})", "unknown key image_tag.colour"},
      {R"({"budgets": {}})", "unknown key 'budgets'"},
      {"[1]", "not a JSON object"},
  };
  for (const Case& c : cases) {
    auto p = ParsePolicyJson(c.body);
    ASSERT_FALSE(p.ok()) << c.body;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace gpuledger
