// English and Chinese (zh-CN) text, and numbers, dates and money in the chosen locale.
const messages = {
  en: {
    title: 'gpuledger', signIn: 'Sign in', signOut: 'Sign out', token: 'API token',
    tokenHelp: 'Paste an API token (gpuledger admin token create, or ask your administrator). The page keeps only a session cookie.',
    overview: 'Overview', jobs: 'Jobs', leaderboard: 'Leaderboard', waste: 'Waste', tokens: 'Tokens',
    month: 'Month', asOf: 'as of', partial: 'month in progress', refreshes: 'refreshes every 30 s',
    byDepartment: 'Cost by department', byProject: 'Cost by project', cost: 'Cost', prevCost: 'Last month',
    allocated: 'Allocated', effective: 'Effective', idleHeld: 'Held idle', gpuHours: 'GPU-hours',
    busyHours: 'Busy GPU-hours', density: 'Density', meanUtil: 'Mean util', jobsCount: 'Jobs',
    idleNow: 'Idle capacity', unallocated: 'Unallocated', unallocatedCost: 'Unallocated cost',
    gpuModel: 'GPU model', capacity: 'Capacity', heldIdle: 'Held idle', heldNoData: 'Held, no data',
    effectiveHelp: 'Effective: the share of allocated cost spent on busy GPU time (busy ÷ allocated GPU-hours).',
    empty: 'The ledger has no usage for this month yet.',
    emptyNext: 'Next: point Prometheus remote write (or the gpuledger agent) at this server and register jobs (POST /api/v1/jobs, the Python callback or the Slurm prolog) — see docs/QUICKSTART.md. Or run gpuledger demo --serve.',
    status: 'Status', project: 'Project', user: 'User', model: 'Model', gpus: 'GPUs', start: 'Start', end: 'End',
    submitted: 'Submitted', any: 'any', filter: 'Filter', prev: 'Previous', next: 'Next', of: 'of',
    noJobs: 'No jobs match.', job: 'Job', costSoFar: 'Cost so far', estimate: 'Estimate', energy: 'Energy',
    peakMem: 'Peak memory', epochs: 'Epochs', stop: 'Stop after this epoch', stopAsked: 'Stop requested: the job stops after its current epoch.',
    utilisation: 'GPU utilisation %', memory: 'Memory MiB', power: 'Power W', lossMap: 'Loss and mAP per epoch',
    trainLoss: 'train loss', valLoss: 'val loss', noSeries: 'No samples for this job yet.', noEpochs: 'No training progress reported.',
    config: 'Model configuration', runs: 'Runs', map50: 'mAP@0.5', trainHours: 'Training h', costPerRun: 'Cost per run',
    costPerMap: 'Cost per mAP point', noLeaderboard: 'No finished runs with training progress yet.',
    wasteTitle: 'Zero-utilisation GPU-hours', idleHours: 'Idle GPU-hours', idleShare: 'Idle share', byUser: 'By user',
    createToken: 'Create token', name: 'Name', owner: 'Owner', role: 'Role', department: 'Department', expires: 'Expires',
    state: 'State', lastUsed: 'Last used', revoke: 'Revoke', secretOnce: 'The new token (shown once; copy it now):',
    notFound: 'Not found, or not yours to see.', waits: 'Waits for', forbidden: 'Your role does not see this page.',
    signedInAs: 'Signed in as', language: '中文', loading: 'Loading…', create: 'Create', created: 'Created',
    tableView: 'Table', confirmRevoke: 'Revoke this token? Its sessions end at once.',
    by_department: 'Department', by_project: 'Project', by_user: 'User',
    budgets: 'Budgets', budget: 'Budget', scope: 'Scope', amount: 'Amount', monthToDate: 'Month to date', share: 'Share',
    projected: 'Projected', inForce: 'In force', setBy: 'Set by', setAt: 'Set', remove: 'Remove', setBudget: 'Set a budget',
    everyMonth: 'every month', save: 'Save', noBudgets: 'No budgets visible to you.', line80: '80 %', line100: '100 %',
    reached80: 'at 80 %', reached100: 'at 100 %', overrun: 'projected overrun', onTrack: 'on track', dayOfMonth: 'Day of month',
    burnHelp: 'Month-to-date cost at the end of each day against the budget. The server keeps no per-day totals: each job\'s cost is spread evenly over its run time and the curve is scaled to the books\' month-to-date figure, which is exact. Dashed: the projection to the month\'s end.',
    burnHelpStraight: 'Month-to-date cost against the budget: the line runs straight from the month\'s start to the books\' figure now (per-day figures come from jobs, which this role does not read). Dashed: the projection to the month\'s end.',
    notInForce: 'Not in force this month', confirmRemove: 'Remove this budget?', project_: 'project', department_: 'department',
    estimateForm: 'Estimate', estimateTitle: 'What would this run cost?', image: 'Image', gpuCount: 'GPU count', imgsz: 'Image size',
    dataset: 'Dataset', datasetImages: 'Images in dataset', batch: 'Batch', amp: 'AMP', ask: 'Estimate (dry run)',
    costRange: 'Cost range (P10–P90)', costMedian: 'Expected cost', hours: 'Duration h', basis: 'Basis', bestPractice: 'Best similar practice',
    noBest: 'No best practice', estimateOnly: 'Nothing is registered: this is the API\'s dry run (POST /api/v1/submissions, dry_run).',
    estimateRole: 'Only admin tokens may ask the submissions API here; users run gpuledger submit --dry-run.',
    verdict: (a, b) => `This configuration is expected to cost ${a}; the best similar practice in history cost ${b}. Continue?`,
    verdictNoBest: (a) => `This configuration is expected to cost ${a}.`,
    chartTimes: (tz) => `times in ${tz}`, samples: 'Samples', similarRuns: 'similar finished runs',
  },
  'zh-CN': {
    title: 'gpuledger', signIn: '登录', signOut: '退出', token: 'API 令牌',
    tokenHelp: '粘贴 API 令牌（gpuledger admin token create，或向管理员索取）。页面只保存会话 Cookie。',
    overview: '概览', jobs: '作业', leaderboard: '排行榜', waste: '浪费', tokens: '令牌',
    month: '月份', asOf: '截至', partial: '本月进行中', refreshes: '每 30 秒刷新',
    byDepartment: '各部门费用', byProject: '各项目费用', cost: '费用', prevCost: '上月',
    allocated: '分配费用', effective: '有效费用', idleHeld: '占用空闲', gpuHours: 'GPU 小时',
    busyHours: '繁忙 GPU 小时', density: '有效算力密度', meanUtil: '平均利用率', jobsCount: '作业数',
    idleNow: '空闲容量', unallocated: '未分配', unallocatedCost: '未分配费用',
    gpuModel: 'GPU 型号', capacity: '容量', heldIdle: '占用但空闲', heldNoData: '占用无数据',
    effectiveHelp: '有效费用：分配费用中用于繁忙 GPU 时间的部分（繁忙 ÷ 分配 GPU 小时）。',
    empty: '本月账本中还没有用量。',
    emptyNext: '下一步：将 Prometheus remote write（或 gpuledger agent）指向本服务器并登记作业（POST /api/v1/jobs、Python 回调或 Slurm prolog），见 docs/QUICKSTART.md。或运行 gpuledger demo --serve。',
    status: '状态', project: '项目', user: '用户', model: '模型', gpus: 'GPU 数', start: '开始', end: '结束',
    submitted: '提交', any: '全部', filter: '筛选', prev: '上一页', next: '下一页', of: '/',
    noJobs: '没有符合条件的作业。', job: '作业', costSoFar: '目前费用', estimate: '预估', energy: '能耗',
    peakMem: '峰值显存', epochs: '轮次', stop: '本轮结束后停止', stopAsked: '已请求停止：作业将在当前轮次结束后停止。',
    utilisation: 'GPU 利用率 %', memory: '显存 MiB', power: '功率 W', lossMap: '每轮损失与 mAP',
    trainLoss: '训练损失', valLoss: '验证损失', noSeries: '该作业还没有采样。', noEpochs: '没有训练进度上报。',
    config: '模型配置', runs: '运行次数', map50: 'mAP@0.5', trainHours: '训练小时', costPerRun: '每次运行费用',
    costPerMap: '每 mAP 点费用', noLeaderboard: '还没有带训练进度的已完成运行。',
    wasteTitle: '零利用率 GPU 小时', idleHours: '空闲 GPU 小时', idleShare: '空闲占比', byUser: '按用户',
    createToken: '创建令牌', name: '名称', owner: '负责人', role: '角色', department: '部门', expires: '过期',
    state: '状态', lastUsed: '最近使用', revoke: '吊销', secretOnce: '新令牌（仅显示一次，请立即复制）：',
    notFound: '不存在，或无权查看。', waits: '待', forbidden: '您的角色无权查看此页。',
    signedInAs: '已登录：', language: 'English', loading: '加载中…', create: '创建', created: '已创建',
    tableView: '表格', confirmRevoke: '吊销此令牌？其会话将立即结束。',
    by_department: '部门', by_project: '项目', by_user: '用户',
    budgets: '预算', budget: '预算', scope: '范围', amount: '金额', monthToDate: '本月累计', share: '占比',
    projected: '预测', inForce: '生效', setBy: '设置者', setAt: '设置时间', remove: '删除', setBudget: '设置预算',
    everyMonth: '每月', save: '保存', noBudgets: '没有您可见的预算。', line80: '80 %', line100: '100 %',
    reached80: '已达 80 %', reached100: '已达 100 %', overrun: '预计超支', onTrack: '正常', dayOfMonth: '日',
    burnHelp: '每日结束时的本月累计费用对比预算。服务器不保存逐日合计：每个作业的费用按其运行时间平均分摊，曲线再按账本的本月累计（精确值）缩放。虚线：到月末的预测。',
    burnHelpStraight: '本月累计费用对比预算：从月初直线连到账本当前数字（逐日数字来自作业，此角色不可读取作业）。虚线：到月末的预测。',
    notInForce: '本月不生效', confirmRemove: '删除此预算？', project_: '项目', department_: '部门',
    estimateForm: '预估', estimateTitle: '这次训练要花多少？', image: '镜像', gpuCount: 'GPU 数量', imgsz: '图像尺寸',
    dataset: '数据集', datasetImages: '数据集图片数', batch: '批大小', amp: 'AMP', ask: '预估（试运行）',
    costRange: '费用区间 (P10–P90)', costMedian: '预计费用', hours: '时长（小时）', basis: '估算依据', bestPractice: '历史同类最佳实践',
    noBest: '无最佳实践', estimateOnly: '不登记任何作业：这是 API 的试运行（POST /api/v1/submissions，dry_run）。',
    estimateRole: '此处只有 admin 令牌可调用提交 API；用户请运行 gpuledger submit --dry-run。',
    verdict: (a, b) => `当前配置预计消耗${a}，历史同类任务最佳实践为${b}，是否继续？`,
    verdictNoBest: (a) => `当前配置预计消耗${a}。`,
    chartTimes: (tz) => `时间为 ${tz}`, samples: '采样', similarRuns: '个同类已完成任务',
  },
};

let lang = localStorage.getItem('gl_lang') || (navigator.language && navigator.language.startsWith('zh') ? 'zh-CN' : 'en');

export const getLang = () => lang;
export function setLang(l) {
  lang = messages[l] ? l : 'en';
  localStorage.setItem('gl_lang', lang);
  document.documentElement.lang = lang;
}
export function t(key) { return (messages[lang] && messages[lang][key]) || messages.en[key] || key; }

// What a figure with no data behind it (null in the API) shows, as the CLI's tables do.
export const NONE = '—';
export function num(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return NONE;
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(Number(v));
}
// A number with its unit ("12.5 kWh"), or NONE alone: never "— kWh".
export function withUnit(v, digits, unit) {
  return v === null || v === undefined || Number.isNaN(Number(v)) ? NONE : num(v, digits) + ' ' + unit;
}
export function pct(v) {
  if (v === null || v === undefined) return NONE;
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(Number(v));
}
// Amounts come as decimal strings in the ledger's currency ("1234.50"); shown to the cent.
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return NONE;
  return new Intl.NumberFormat(lang, { style: 'currency', currency: currency || 'CNY' }).format(Number(amount));
}
// Dates are shown in the organisation's time zone (the ledger's), once known.
let orgTz = '';
export function setTimeZone(tz) { orgTz = tz || ''; }
export function compact(v) {
  return new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 }).format(Number(v));
}
export function date(iso, tz) {
  if (!iso) return NONE;
  const opts = { dateStyle: 'medium', timeStyle: 'short' };
  if (tz || orgTz) opts.timeZone = tz || orgTz;
  try { return new Intl.DateTimeFormat(lang, opts).format(new Date(iso)); } catch { return iso; }
}
// A chart's time axis in the organisation's zone (ECharts would draw the browser's).
export function axisTime(ms) {
  const opts = { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (orgTz) opts.timeZone = orgTz;
  try { return new Intl.DateTimeFormat(lang, opts).format(new Date(ms)); } catch { return String(ms); }
}
export const timeZone = () => orgTz;
export function statusName(s) {
  const zh = { pending: '排队', running: '运行中', succeeded: '成功', completed: '完成', failed: '失败', stopped: '已停止', cancelled: '已取消' };
  return lang === 'zh-CN' ? (zh[s] || s) : s;
}
