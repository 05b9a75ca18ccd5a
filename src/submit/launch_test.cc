#include "submit/launch.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace gpuledger {
namespace {

Job Submitted() {
  Job j;
  j.id = "sub-20261115T120000Z-alice";
  j.user = "alice";
  j.project = "vision";
  j.department = "research";
  j.model_type = "yolov8s";
  j.image_repo = "reg/ultralytics";
  j.image_tag = "train-yolov8-small-cu118";
  j.framework = "ultralytics==8.0.200";
  j.gpu_share_ppm = 2 * kFullShare;
  j.gpu_model = "A10G";
  j.duration_limit_ms = 48 * kHourMs;
  j.dataset = "coco128";
  j.epochs = 100;
  j.labels = {{"team", "edge ai"}};
  j.submitted_ms = 1794744000000;
  return j;
}

TEST(Launch, EnvironmentNamesTheJobsApiFields) {
  auto env = LaunchEnvironment(Submitted(), {"http://gl:8080", "", "", "gpuledger-ingest"});
  std::map<std::string, std::string> m(env.begin(), env.end());
  EXPECT_EQ(m["GPULEDGER_SERVER"], "http://gl:8080");
  EXPECT_EQ(m["GPULEDGER_JOB_ID"], "sub-20261115T120000Z-alice");
  EXPECT_EQ(m["GPULEDGER_IMAGE"], "reg/ultralytics:train-yolov8-small-cu118");
  EXPECT_EQ(m["GPULEDGER_GPU_REQUEST"], "2xA10G");
  EXPECT_EQ(m["GPULEDGER_DURATION_LIMIT"], "48h");
  EXPECT_EQ(m["GPULEDGER_EPOCHS"], "100");
  EXPECT_EQ(m["GPULEDGER_LABELS"], "team=edge ai");
  EXPECT_EQ(m.count("GPULEDGER_BATCH"), 0u);  // not given, not exported
  const std::string sh = RenderEnvExports(Submitted(), {});
  EXPECT_NE(sh.find("export GPULEDGER_LABELS='team=edge ai'\n"), std::string::npos) << sh;
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(Launch, SbatchScriptCarriesTheEnvironmentAndLimits) {
  const std::string s = RenderSbatchScript(Submitted(), {"", "yolo train model=yolov8s.pt", "", ""});
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --gres=gpu:2\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --time=2880\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --comment=gpuledger:sub-20261115T120000Z-alice\n"), std::string::npos);
  EXPECT_NE(s.find("export GPULEDGER_JOB_ID='sub-20261115T120000Z-alice'\n"), std::string::npos);
  EXPECT_NE(s.find("\nsrun yolo train model=yolov8s.pt\n"), std::string::npos);
}

// The fields of batch/v1 Job the manifest may use, as the Kubernetes API reference
// (v1.28) defines them: object -> field -> kind ("object:<type>", "string", "integer",
// "map", "array:<type>").
const std::map<std::string, std::map<std::string, std::string>> kSchema = {
    {"Job",
     {{"apiVersion", "string"},
      {"kind", "string"},
      {"metadata", "object:ObjectMeta"},
      {"spec", "object:JobSpec"}}},
    {"ObjectMeta",
     {{"name", "string"},
      {"namespace", "string"},
      {"labels", "map"},
      {"annotations", "map"},
      {"generateName", "string"}}},
    {"JobSpec",
     {{"activeDeadlineSeconds", "integer"},
      {"backoffLimit", "integer"},
      {"completions", "integer"},
      {"parallelism", "integer"},
      {"suspend", "boolean"},
      {"ttlSecondsAfterFinished", "integer"},
      {"template", "object:PodTemplateSpec"}}},
    {"PodTemplateSpec", {{"metadata", "object:ObjectMeta"}, {"spec", "object:PodSpec"}}},
    {"PodSpec", {{"restartPolicy", "string"}, {"containers", "array:Container"}}},
    {"Container",
     {{"name", "string"},
      {"image", "string"},
      {"command", "array:string"},
      {"args", "array:string"},
      {"env", "array:EnvVar"},
      {"resources", "object:ResourceRequirements"}}},
    {"EnvVar", {{"name", "string"}, {"value", "string"}, {"valueFrom", "object:EnvVarSource"}}},
    {"EnvVarSource", {{"secretKeyRef", "object:SecretKeySelector"}}},
    {"SecretKeySelector", {{"name", "string"}, {"key", "string"}, {"optional", "boolean"}}},
    {"ResourceRequirements", {{"limits", "map"}, {"requests", "map"}}},
};

void CheckObject(const nlohmann::json& j, const std::string& type, const std::string& path) {
  ASSERT_TRUE(j.is_object()) << path;
  const auto& fields = kSchema.at(type);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string p = path + "." + it.key();
    auto f = fields.find(it.key());
    ASSERT_NE(f, fields.end()) << p << " is not a field of " << type;
    const std::string& kind = f->second;
    if (kind == "string")
      EXPECT_TRUE(it->is_string()) << p;
    else if (kind == "integer")
      EXPECT_TRUE(it->is_number_integer()) << p;
    else if (kind == "boolean")
      EXPECT_TRUE(it->is_boolean()) << p;
    else if (kind == "map") {
      ASSERT_TRUE(it->is_object()) << p;
      for (auto v = it->begin(); v != it->end(); ++v) EXPECT_TRUE(v->is_string()) << p << "." << v.key();
    } else if (kind.rfind("object:", 0) == 0) {
      CheckObject(*it, kind.substr(7), p);
    } else if (kind.rfind("array:", 0) == 0) {
      ASSERT_TRUE(it->is_array()) << p;
      for (size_t i = 0; i < it->size(); ++i) {
        if (kind == "array:string")
          EXPECT_TRUE((*it)[i].is_string()) << p;
        else
          CheckObject((*it)[i], kind.substr(6), p + "[" + std::to_string(i) + "]");
      }
    }
  }
}

TEST(Launch, KubernetesJobUsesOnlyJobSchemaFieldsWithValidNamesAndLabels) {
  JobEstimate est;
  est.basis = "history";
  est.cost_micros = 45'000'000;
  est.best_cost_micros = 28'000'000;
  const std::string text =
      RenderKubernetesJob(Submitted(), {"http://gl:8080", "yolo train", "ml", "gl-token"}, &est);
  const nlohmann::json m = nlohmann::json::parse(text);
  CheckObject(m, "Job", "Job");
  EXPECT_EQ(m["apiVersion"], "batch/v1");
  EXPECT_EQ(m["kind"], "Job");
  const std::regex dns1123("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  const std::string name = m["metadata"]["name"];
  EXPECT_LE(name.size(), 63u);
  EXPECT_TRUE(std::regex_match(name, dns1123)) << name;
  EXPECT_EQ(m["metadata"]["namespace"], "ml");
  // Label values: at most 63 of [A-Za-z0-9_.-], alphanumeric ends (a space is not).
  const std::regex label_value("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  for (const auto* meta : {&m["metadata"], &m["spec"]["template"]["metadata"]}) {
    for (auto it = (*meta)["labels"].begin(); it != (*meta)["labels"].end(); ++it) {
      const std::string v = it.value();
      EXPECT_TRUE(v.size() <= 63 && std::regex_match(v, label_value)) << it.key() << "=" << v;
    }
  }
  EXPECT_EQ(m["metadata"]["labels"]["gpuledger.io/project"], "vision");
  EXPECT_EQ(m["metadata"]["annotations"]["gpuledger.io/label-team"], "edge ai");  // not a label value
  EXPECT_EQ(m["metadata"]["annotations"]["gpuledger.io/estimate-cost-micros"], "45000000");
  EXPECT_EQ(m["spec"]["activeDeadlineSeconds"], 172800);
  EXPECT_EQ(m["spec"]["template"]["spec"]["restartPolicy"], "Never");  // a Job's pods: Never or OnFailure
  const nlohmann::json& c = m["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "reg/ultralytics:train-yolov8-small-cu118");
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "2");
  bool token = false, job_id = false;
  for (const auto& e : c["env"]) {
    if (e["name"] == "GPULEDGER_TOKEN") token = e["valueFrom"]["secretKeyRef"]["name"] == "gl-token";
    if (e["name"] == "GPULEDGER_JOB_ID") job_id = e["value"] == "sub-20261115T120000Z-alice";
  }
  EXPECT_TRUE(token);
  EXPECT_TRUE(job_id);
}

}  // namespace
}  // namespace gpuledger
