#include "submit/job_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/importers.h"

namespace gpuledger {
namespace {

using ::testing::HasSubstr;

constexpr const char* kArticleYaml = R"(# the article's job_spec
user: zhangsan
project: defect-detection-line3
department: manufacturing
model_type: yolov10
image: reg/yolo:train-yolov10-large-cu118
gpu_request: "1×A10G"
duration_limit: 48h
epochs: 100
batch: 16
imgsz: 640
amp: yes
labels:
  team: vision
  line: "3"
)";

std::string ErrorOf(std::string_view text, SpecFormat f = SpecFormat::kYaml) {
  auto r = ParseJobSpec(text, f, "job.yaml");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(JobSpec, ArticleSpecInYamlBecomesTheJobsApiBody) {
  auto body = ParseJobSpec(kArticleYaml, SpecFormat::kYaml, "job.yaml");
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ((*body)["user"], "zhangsan");
  EXPECT_EQ((*body)["epochs"], 100);  // a YAML integer stays an integer
  EXPECT_EQ((*body)["amp"], true);    // YAML 1.1 "yes"
  EXPECT_EQ((*body)["labels"], "line=3;team=vision");
  (*body)["id"] = "sub-1";  // submit gives one (NewSubmissionId)
  auto job = ParseJobJson(body->dump());
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->job.project, "defect-detection-line3");
  EXPECT_EQ(job->job.image_tag, "train-yolov10-large-cu118");
  EXPECT_EQ(job->job.gpu_model, "A10G");
  EXPECT_EQ(job->job.duration_limit_ms, 48 * 3600 * 1000LL);
  EXPECT_EQ(job->job.imgsz, 640);
  EXPECT_TRUE(job->job.amp);
  EXPECT_EQ(job->job.labels.at("team"), "vision");
}

TEST(JobSpec, JsonAndYamlOfTheSameSpecGiveTheSameBody) {
  const char* json = R"({"user": "zhangsan", "epochs": 100, "amp": true, "labels": {"team": "vision"}})";
  auto a = ParseJobSpec(json, SpecFormat::kJson, "job.json");
  auto b = ParseJobSpec("user: zhangsan\nepochs: 100\namp: true\nlabels: {team: vision}\n", SpecFormat::kYaml,
                        "job.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  auto c = ParseJobSpec(std::string("\n  ") + json, SpecFormat::kAuto, "job");  // '{' first: JSON
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*a, *c);
}

TEST(JobSpec, QuotedYamlScalarsStayStrings) {
  auto body = ParseJobSpec("epochs: \"100\"\namp: 'yes'\nuser: 42\n", SpecFormat::kYaml, "s");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["epochs"], "100");
  EXPECT_EQ((*body)["amp"], "yes");
  EXPECT_EQ((*body)["user"], "42");  // not a count: a string
}

TEST(JobSpec, ErrorsNameTheKeyAndTheLine) {
  EXPECT_THAT(ErrorOf("user: a\nimage_tag: x\n"), HasSubstr("unknown key 'image_tag' at line 2"));
  EXPECT_THAT(ErrorOf("user: a\nproject: p\nuser: b\n"),
              HasSubstr("key 'user' at line 3 repeats the one at line 1"));
  EXPECT_THAT(ErrorOf("labels:\n  a: x\n  a: y\n"),
              HasSubstr("label 'a' at line 3 repeats the one at line 2"));
  EXPECT_THAT(ErrorOf("user:\n"), HasSubstr("key 'user' at line 1 has no value"));
  EXPECT_THAT(ErrorOf("user: [a, b]\n"), HasSubstr("key 'user' at line 1 holds a list"));
  EXPECT_THAT(ErrorOf("project:\n  name: p\n"), HasSubstr("key 'project' at line 1 holds a mapping"));
  EXPECT_THAT(ErrorOf("allocations: x\n"), HasSubstr("no allocations yet (key 'allocations' at line 1)"));
  EXPECT_THAT(ErrorOf("user: \"open\nproject: p\n"), HasSubstr("is not valid YAML"));
  EXPECT_THAT(ErrorOf("user: a\n  bad: indent\n"), HasSubstr("line 2"));
  EXPECT_THAT(ErrorOf("- user: a\n"), HasSubstr("is not a mapping"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("is empty"));
  EXPECT_THAT(ErrorOf("user: a\n---\nuser: b\n"), HasSubstr("a second document starts at line 2"));
  EXPECT_THAT(ErrorOf("labels:\n  k;x: v\n"), HasSubstr("label key 'k;x' at line 2 may not contain"));
  EXPECT_THAT(ErrorOf("labels:\n  k: a;b\n"),
              HasSubstr("label 'k' at line 2 value 'a;b' may not contain ';'"));
}

TEST(JobSpec, AnchorsAliasesAndTagsAreRefused) {
  EXPECT_THAT(ErrorOf("user: &u alice\nproject: *u\n"), HasSubstr("key 'user' at line 1 has an anchor"));
  EXPECT_THAT(ErrorOf("project: *u\n"), HasSubstr("key 'project' at line 1 is an alias"));
  EXPECT_THAT(ErrorOf("epochs: !!str 10\n"), HasSubstr("has the tag 'tag:yaml.org,2002:str'"));
}

TEST(JobSpec, SizesAreBoundedAndTheErrorNamesLimitAndValue) {
  const std::string big(kMaxJobSpecBytes + 1, ' ');
  EXPECT_THAT(ErrorOf(big), HasSubstr("of 1048577 bytes exceeds the limit 1048576 bytes"));
  EXPECT_THAT(ErrorOf("user: " + std::string(kMaxJobSpecValueBytes + 1, 'a') + "\n"),
              HasSubstr("value of 4097 bytes exceeds the limit 4096"));
  std::string labels = "labels:\n";
  for (size_t i = 0; i <= kMaxJobSpecLabels; ++i) labels += "  k" + std::to_string(i) + ": v\n";
  EXPECT_THAT(ErrorOf(labels), HasSubstr("more than 256 labels (label 'k256' at line 258)"));
}

TEST(JobSpec, JsonSpecsAreCheckedAsBefore) {
  EXPECT_THAT(ErrorOf("[1]", SpecFormat::kJson), HasSubstr("is not a JSON object (got array)"));
  EXPECT_THAT(ErrorOf("{\"user\": ", SpecFormat::kJson), HasSubstr("is not valid JSON"));
  EXPECT_THAT(ErrorOf(R"({"allocations": []})", SpecFormat::kJson), HasSubstr("no allocations yet"));
  EXPECT_THAT(ErrorOf(R"({"labels": {"a": 1}})", SpecFormat::kJson),
              HasSubstr("label 'a' must be a string, got number"));
  EXPECT_THAT(ErrorOf(R"({"user": ["a"]})", SpecFormat::kJson),
              HasSubstr("key 'user' takes one value, got array"));
  EXPECT_THAT(ErrorOf(R"({"usr": "a"})", SpecFormat::kJson), HasSubstr("unknown key 'usr'"));
  // As in YAML: a key given twice, and labels past the value limit.
  EXPECT_THAT(ErrorOf(R"({"user": "a", "user": "b"})", SpecFormat::kJson),
              HasSubstr("key 'user' is given twice"));
  EXPECT_THAT(ErrorOf(R"({"labels": {"k": "a", "k": "b"}})", SpecFormat::kJson),
              HasSubstr("key 'k' is given twice"));
  EXPECT_THAT(ErrorOf(R"({"labels": {"k": ")" + std::string(kMaxJobSpecValueBytes + 1, 'v') + R"("}})",
                      SpecFormat::kJson),
              HasSubstr("label 'k' value of 4097 bytes exceeds the limit 4096"));
  EXPECT_THAT(ErrorOf(R"({"labels": {")" + std::string(kMaxJobSpecValueBytes + 1, 'k') + R"(": "v"}})",
                      SpecFormat::kJson),
              HasSubstr("bytes exceeds the limit 4096"));
}

TEST(JobSpec, FormatFollowsTheFileName) {
  EXPECT_EQ(SpecFormatForPath("a/job.yaml"), SpecFormat::kYaml);
  EXPECT_EQ(SpecFormatForPath("job.yml"), SpecFormat::kYaml);
  EXPECT_EQ(SpecFormatForPath("job.json"), SpecFormat::kJson);
  EXPECT_EQ(SpecFormatForPath("job.spec"), SpecFormat::kAuto);
}

}  // namespace
}  // namespace gpuledger
