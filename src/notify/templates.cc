#include "notify/templates.h"

#include <nlohmann/json.hpp>

#include "common/time.h"

namespace gpuledger {

namespace {

struct Template {
  const char* event;
  const char* zh_title;
  const char* zh_text;
  const char* en_title;
  const char* en_text;
};

// {job}, {user}, {project}, {department}, {scope} (the project, else the department),
// {event} and any field's name are replaced; the fields are listed after the text.
constexpr Template kTemplates[] = {
    {"breaker.paused", "熔断：任务 {job} 已暂停",
     "在熔断窗口内 loss 几乎没有改善，且 GPU 利用率低于阈值，任务 {job} 已被暂停。检查点已保留，可以恢复。",
     "Circuit breaker: job {job} paused",
     "Loss barely improved and GPU utilisation stayed under the threshold over the breaker's window, so job "
     "{job} was paused. Its checkpoint is kept and it can be resumed."},
    {"idle.warn", "GPU 空闲提醒：任务 {job}",
     "任务 {job} 的 GPU 利用率持续为 0%。如果不再需要，请释放 GPU；持续空闲的任务将被处理。",
     "Idle GPUs: job {job}",
     "The GPUs of job {job} have read 0 % utilisation for a while. Release them if the job no longer needs "
     "them: a job that stays idle is acted on."},
    {"idle.act", "GPU 长时间空闲：任务 {job} 已处理", "任务 {job} 的 GPU 空闲超过上限，已按策略暂停或停止。",
     "Idle GPUs: job {job} acted on",
     "The GPUs of job {job} stayed idle past the limit; the job was paused or stopped by policy."},
    {"duration.warn", "运行时长提醒：任务 {job}", "任务 {job} 即将达到其运行时长上限。",
     "Duration limit near: job {job}", "Job {job} is close to its duration limit."},
    {"duration.act", "运行时长超限：任务 {job}",
     "任务 {job} 已达到运行时长上限，已按策略暂停，或在检查点之后停止。", "Duration limit reached: job {job}",
     "Job {job} reached its duration limit and was paused, or stopped after its checkpoint, by policy."},
    // The policy engine's events (policy/rules.h): {reason} is the decision's sentence
    // (its figures and thresholds), {action} pause or stop, {resume} the resume command.
    {"idle.acted", "GPU 长时间空闲：任务 {job} 已{action_zh}",
     "任务 {job} 的 GPU 空闲超过上限，已按策略{action_zh}。{reason}", "Idle GPUs: job {job} {action_en}",
     "The GPUs of job {job} stayed idle past the limit, so the job was {action_en} by policy. {reason}"},
    {"duration.acted", "运行时长超限：任务 {job} 已{action_zh}",
     "任务 {job} 已达到运行时长上限，已按策略在检查点之后{action_zh}。{reason}",
     "Duration limit reached: job {job} {action_en}",
     "Job {job} reached its duration limit and was {action_en} after its checkpoint, by policy. {reason}"},
    {"digest.weekly", "低效率周报：{user}",
     "过去 7 天内你的任务有效计算密度偏低。下面是效率最低的任务和可以尝试的改进。",
     "Weekly low-efficiency digest: {user}",
     "Your jobs' effective compute density was low over the last 7 days. Your least efficient jobs and what "
     "to try are below."},
    {"budget.80", "预算提醒：{scope} 已用 80%", "{scope} 本月至今的成本已达到月度预算的 80%。",
     "Budget: {scope} at 80 %", "The month-to-date cost of {scope} has reached 80 % of its monthly budget."},
    {"budget.100", "预算已用尽：{scope}",
     "{scope} 本月至今的成本已达到月度预算的 100%，新的提交将按策略被拒绝或警告。",
     "Budget reached: {scope}",
     "The month-to-date cost of {scope} has reached its monthly budget; new submissions are refused or warned "
     "by policy."},
    {"budget.projected", "预算预警：{scope} 预计超支", "按当前速度，{scope} 本月的成本预计将超过预算。",
     "Budget: {scope} projected to overrun",
     "At the current rate, the month's cost of {scope} is projected to exceed its budget."},
    // A project's monthly statement (report/statement.h StatementNotice): the statement
    // itself is its statement_text field, shown as a block after the figures.
    {"statement.monthly", "月度账单：项目 {project}（{month}）",
     "项目 {project} 在 {month} 的 GPU 用量与成本如下，账单附后（由 gpuledger statement 生成）。",
     "Monthly statement: project {project}, {month}",
     "The GPU use and cost of project {project} in {month}; the statement follows (as gpuledger statement "
     "prints it)."},
    {"notify.test", "gpuledger 测试消息", "这是一条测试消息：这个通道的配置可以发送。",
     "gpuledger test message", "This is a test message: this channel is configured to send."},
};

const Template* Find(const std::string& event) {
  for (const Template& t : kTemplates) {
    if (event == t.event) return &t;
  }
  return nullptr;
}

std::string OneLine(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

std::string SlackEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A block's text inside a code fence: without its trailing newline, and with any ``` in
// it broken so it cannot close the fence early.
std::string NoFence(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out.push_back(s[i]);
    if (s[i] == '`' && i + 1 < s.size() && s[i + 1] == '`') out += "\u200b";  // a zero-width space between
  }
  return out;
}

std::string Fill(std::string_view tmpl, const Notice& n) {
  auto value = [&](const std::string& name, bool* found) -> std::string {
    *found = true;
    if (name == "job") return n.job_id;
    if (name == "user") return n.user;
    if (name == "project") return n.project;
    if (name == "department") return n.department;
    if (name == "scope") return n.project.empty() ? n.department : n.project;
    if (name == "event") return n.event;
    for (const auto& [k, v] : n.fields) {
      if (k == name) return v;
    }
    *found = false;
    return "";
  };
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      const size_t close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        bool found = false;
        std::string v = value(std::string(tmpl.substr(i + 1, close - i - 1)), &found);
        if (found) {
          out += OneLine(v);
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(tmpl[i++]);
  }
  return out;
}

}  // namespace

MessageFormat FormatOf(const ChannelConfig& c) {
  switch (c.type) {
    case ChannelType::kSlack: return MessageFormat::kSlackMrkdwn;
    case ChannelType::kSmtp:
    case ChannelType::kWebhook: return MessageFormat::kText;
    case ChannelType::kWeCom: return c.wecom_text ? MessageFormat::kText : MessageFormat::kMarkdown;
    case ChannelType::kDingTalk:
    case ChannelType::kFeishu: return MessageFormat::kMarkdown;
  }
  return MessageFormat::kText;
}

RenderedMessage RenderNotice(const Notice& n, Language language, MessageFormat format) {
  const bool zh = language == Language::kZhCn;
  const Template* t = Find(n.event);
  std::string title, text;
  if (t != nullptr) {
    title = Fill(zh ? t->zh_title : t->en_title, n);
    text = Fill(zh ? t->zh_text : t->en_text, n);
  } else {
    title = (zh ? "gpuledger 通知：" : "gpuledger notice: ") + OneLine(n.event);
  }
  std::vector<std::pair<std::string, std::string>> rows;
  auto add = [&](const char* zh_label, const char* en_label, const std::string& v) {
    if (!v.empty()) rows.emplace_back(zh ? zh_label : en_label, v);
  };
  add("任务", "job", n.job_id);
  add("用户", "user", n.user);
  add("项目", "project", n.project);
  add("部门", "department", n.department);
  if (n.at_ms != 0) add("时间", "at", FormatTime(n.at_ms));
  if (t == nullptr) add("事件", "event", n.event);
  // A field named *_json is for machines (the generic webhook's "fields"), not shown; one
  // named *_text is preformatted (a statement's table), shown as it is after the rows.
  std::vector<std::string> blocks;
  for (const auto& [k, v] : n.fields) {
    if (EndsWith(k, "_json")) continue;
    if (EndsWith(k, "_text")) {
      blocks.push_back(v);
    } else {
      rows.emplace_back(k, v);
    }
  }

  RenderedMessage m;
  m.title = title;
  switch (format) {
    case MessageFormat::kMarkdown:
      m.text = "### " + title + "\n\n";
      if (!text.empty()) m.text += text + "\n\n";
      for (const auto& [k, v] : rows) m.text += "- **" + OneLine(k) + "**: " + OneLine(v) + "\n";
      for (const std::string& b : blocks) m.text += "\n```\n" + NoFence(b) + "\n```\n";
      break;
    case MessageFormat::kSlackMrkdwn:
      m.text = "*" + SlackEscape(title) + "*\n";
      if (!text.empty()) m.text += SlackEscape(text) + "\n";
      for (const auto& [k, v] : rows) m.text += "• *" + SlackEscape(OneLine(k)) + "*: " + SlackEscape(OneLine(v)) + "\n";
      for (const std::string& b : blocks) m.text += "```\n" + SlackEscape(NoFence(b)) + "\n```\n";
      break;
    case MessageFormat::kText:
      if (!text.empty()) m.text = text + "\n\n";
      for (const auto& [k, v] : rows) m.text += OneLine(k) + (zh ? "：" : ": ") + OneLine(v) + "\n";
      for (const std::string& b : blocks) m.text += "\n" + b + (EndsWith(b, "\n") ? "" : "\n");
      m.text += zh ? "\n—— gpuledger\n" : "\n-- gpuledger\n";
      break;
  }
  return m;
}

std::string FieldsJson(const Notice& n) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [k, v] : n.fields) a.push_back({k, v});
  return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string NoticeJson(const Notice& n, const RenderedMessage& m) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, v] : n.fields) fields[k] = v;
  nlohmann::json j = {{"event", n.event},     {"cause_key", n.cause_key}, {"at_ms", n.at_ms},
                      {"job_id", n.job_id},   {"user", n.user},           {"project", n.project},
                      {"department", n.department}, {"fields", fields},   {"title", m.title},
                      {"text", m.text}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string TruncateUtf8(std::string_view s, size_t max_bytes, std::string_view marker, bool* truncated) {
  if (truncated != nullptr) *truncated = false;
  if (s.size() <= max_bytes) return std::string(s);
  if (truncated != nullptr) *truncated = true;
  if (marker.size() > max_bytes) marker = {};
  size_t cut = max_bytes - marker.size();
  // Back up over continuation bytes (10xxxxxx) so the cut falls before a lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + std::string(marker);
}

}  // namespace gpuledger
