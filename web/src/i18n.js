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
    emptyNext: 'Next: point Prometheus remote write (or the gpuledger agent) at this server and register jobs (POST /api/v1/jobs, the Python callback or the Slurm prolog) — see docs/DEPLOY.md and the README ("Using it on your own data"). Or run gpuledger demo --serve.',
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
    burnHelp: 'Month-to-date cost at the end of each day against the budget, from the books\' per-day figures (each day priced on its own, so the last point can differ from the month-to-date figure by rounding cents). Dashed: the projection to the month\'s end.',
    burnHelpStraight: 'Where the per-day books could not be read, the line runs straight from the month\'s start to the books\' figure now.',
    notInForce: 'Not in force this month', confirmRemove: 'Remove this budget?', project_: 'project', department_: 'department',
    estimateForm: 'Estimate', estimateTitle: 'What would this run cost?', image: 'Image', gpuCount: 'GPU count', imgsz: 'Image size',
    dataset: 'Dataset', datasetImages: 'Images in dataset', batch: 'Batch', amp: 'AMP', ask: 'Estimate (dry run)',
    costRange: 'Cost range (P10–P90)', costMedian: 'Expected cost', hours: 'Duration h', basis: 'Basis', bestPractice: 'Best similar practice',
    noBest: 'No best practice', estimateOnly: 'Nothing is registered: this is the API\'s dry run (POST /api/v1/submissions, dry_run).',
    verdict: (a, b) => `This configuration is expected to cost ${a}; the best similar practice in history cost ${b}. Continue?`,
    verdictNoBest: (a) => `This configuration is expected to cost ${a}.`,
    chartTimes: (tz) => `times in ${tz}`, samples: 'Samples', similarRuns: 'similar finished runs',
    finance: 'Finance', variants: 'Variants', variantsTitle: 'Images, frameworks and models compared',
    closedMsg: (m, total) => `${m} is closed at ${total}: its books are frozen.`, reopenedMsg: (m) => `${m} is reopened.`,
    notEnded: 'Only a month that has ended can be closed.', confirmClose: (m) => `Close ${m}? Its books are frozen; later data goes to adjustment lines of the next open month.`,
    close: 'Close', reopen: 'Reopen', reopenReason: (m) => `Why is ${m} reopened? (recorded in the audit log)`,
    state_open: 'open', state_closed: 'closed', state_reopened: 'reopened', closedTotal: 'Frozen total', closedAt: 'Closed',
    checksum: 'Checksum', reopenedAt: 'Reopened', downloads: 'Downloads', from: 'From', to: 'To', grain: 'Grain',
    grain_range: 'whole range', grain_day: 'day', grain_week: 'week', grain_month: 'month', makeLinks: 'Make links',
    rangeDownloads: 'Downloads for a date range',
    financeHelp: 'A closed month\'s books never change: data arriving later goes to adjustment lines of the next open month (FOCUS ChargeClass Correction). Every read of a closed month verifies its checksum. XLSX: the workbook; FOCUS: FinOps FOCUS 1.2 CSV; CSV and JSON by department.',
    desensitisedAdmin: 'Desensitised downloads (no user or job names; salted keys)', desensitisedFinance: 'Desensitised: finance\'s downloads name no user and no job',
    by_image: 'Image tag', by_framework: 'Framework version', by_model: 'Model', groupBy: 'Group by', startedIn: 'Runs started in',
    compare: 'Compare', noVariants: 'No runs to compare.', costShare: 'Share of cost', gpuHoursShare: 'Share of GPU-hours',
    compareHelp: 'Epoch s: the median seconds per epoch per 1,000 images at 640 px, normalised for model and GPU (timed runs in brackets). Typical and peak memory: the runs\' own peaks. Fit: instances that fit one GPU by memory. mAP@0.5 in points. Empty month: all months.',
    epochS: 'Epoch s', typicalMem: 'Typical memory', fitPerGpu: 'Fit per GPU', sideBySide: 'Side by side', bOverA: 'B ÷ A epoch time',
    noEpochCompare: 'One of the two has no timed run: no epoch comparison.',
    bVsA: (b, a, rel, p, faster) => `${b}'s normalised epoch time is ${rel} of ${a}'s: ${p} % ${faster ? 'faster' : 'slower'}.`,
    trendsTitle: 'Behaviour over the months', trendsHelp: (h) => `Per project and month the runs started in: long runs are over ${h} h; by size n/s/m/l/x; by start: shared checkpoint, scratch or resumed.`,
    longRuns: 'Long runs', longCostShare: 'Long runs\' cost share', bySize: 'By model size', byStart: 'By start',
    policyTitle: 'Policy decisions and pauses', pausedMsg: (mode) => `Paused (${mode}).`, resumedMsg: 'Resumed.',
    resume: 'Resume', pause: 'Pause', pauseReason: 'Why is this job paused? (recorded as a decision)', pauseDefault: 'paused from the dashboard',
    pausedNow: (d, cmd, billing) => `Paused now, for ${d} in all (${billing}). Resume command: ${cmd}`,
    notBilled: 'its GPUs freed: not billed', heldBilled: 'its GPUs held: billed', whenRunEnds: 'when the run ends',
    billedUntilStop: 'asked of its trainer, which stops the run at its next checkpoint: billed until the run ends', pausedTotal: (d, n) => `Paused ${n} time(s), ${d} in all.`,
    pausedAt: 'Paused', mode: 'Mode', gpusFreed: 'GPUs freed', resumedAt: 'Resumed', resumeCommand: 'Resume command',
    noDecisions: 'No policy decision about this job.', when: 'When', rule: 'Rule', action: 'Action', dryRun: 'Dry run', detail: 'Detail',
    adviceTitle: 'Advice', noAdvice: 'No advice: no rule fired for this job.', phaseLoading: 'Loading GPU-h', phaseSteady: 'Steady GPU-h',
    phaseTail: 'Tail GPU-h', phaseIdle: 'Idle GPU-h', bestEpoch: 'Best epoch (mAP@0.5)', finalLoss: 'Final train loss', trainingTime: 'Training time',
    perGpu: 'Per GPU', gpu: 'GPU', phaseLoadingShort: 'loading', phaseTailShort: 'tail', memShare: 'Peak ÷ GPU memory',
    allocation: 'Allocation', allocationTitle: 'Allocation table', by_gpu_model: 'GPU model', by_job: 'Job', directCost: 'Direct cost',
    idleShareCost: 'Idle share', unallocatedLine: '(unallocated capacity)', unpricedLine: '(unpriced)', adjustmentLine: 'Adjustment of', total: 'Total',
    shareIdle: 'Share idle capacity', exportThis: 'Export this grouping:',
    gpusNow: 'GPUs now', gpu_busy: 'Busy', gpu_idle_held: 'Idle, held by a job', gpu_idle_free: 'Idle, free', gpu_no_data: 'No recent sample',
    gpusNowHelp: (u, m) => `Each GPU in service by its latest sample: idle below ${u} % utilisation; a sample older than ${m} min is no reading of now. Idle GPUs held by jobs first.`,
    trendTitle: 'Cost over the last six months', trendHelp: 'Each month\'s cost by the overview\'s grouping, from the first month with any cost (GET /api/v1/reports/range, by month); * the month in progress, as of now.',
    shareBy_image: 'Share of cost by image tag', shareBy_framework: 'Share of cost by framework version', shareHelp: 'Of the jobs\' cost this month (the unallocated capacity is no image\'s).',
    densityTitle: 'Jobs by effective compute density', densityHelp: (n) => `The month's jobs by the share of their sampled GPU time above 70 % utilisation (bars: jobs; line: their GPU-hours).${n ? ` ${n} job(s) with no sample are left out.` : ''}`,
    shareIdleOn: 'Idle sharing on: each GPU model\'s unallocated cost is shared out to the lines by their GPU-hours on it (Idle share); the lines sum to the total.',
    shareIdleOff: 'Idle sharing off: each line carries its direct cost; the unallocated capacity is its own line. Click a column to sort.',
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
    emptyNext: '下一步：将 Prometheus remote write（或 gpuledger agent）指向本服务器并登记作业（POST /api/v1/jobs、Python 回调或 Slurm prolog），见 docs/DEPLOY.md 与 README 的“Using it on your own data”。或运行 gpuledger demo --serve。',
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
    burnHelp: '每日结束时的本月累计费用对比预算，取自账本的逐日数字（每天单独计价，最后一点与本月累计可能相差几分的舍入）。虚线：到月末的预测。',
    burnHelpStraight: '无法读取逐日账本时，从月初直线连到账本当前数字。',
    notInForce: '本月不生效', confirmRemove: '删除此预算？', project_: '项目', department_: '部门',
    estimateForm: '预估', estimateTitle: '这次训练要花多少？', image: '镜像', gpuCount: 'GPU 数量', imgsz: '图像尺寸',
    dataset: '数据集', datasetImages: '数据集图片数', batch: '批大小', amp: 'AMP', ask: '预估（试运行）',
    costRange: '费用区间 (P10–P90)', costMedian: '预计费用', hours: '时长（小时）', basis: '估算依据', bestPractice: '历史同类最佳实践',
    noBest: '无最佳实践', estimateOnly: '不登记任何作业：这是 API 的试运行（POST /api/v1/submissions，dry_run）。',
    verdict: (a, b) => `当前配置预计消耗${a}，历史同类任务最佳实践为${b}，是否继续？`,
    verdictNoBest: (a) => `当前配置预计消耗${a}。`,
    chartTimes: (tz) => `时间为 ${tz}`, samples: '采样', similarRuns: '个同类已完成任务',
    finance: '财务', variants: '版本对比', variantsTitle: '镜像、框架与模型对比',
    closedMsg: (m, total) => `${m} 已月结，金额 ${total}：账目已冻结。`, reopenedMsg: (m) => `${m} 已重新打开。`,
    notEnded: '只有已结束的月份才能月结。', confirmClose: (m) => `月结 ${m}？账目将冻结；之后到达的数据记入下一个未结月份的调整行。`,
    close: '月结', reopen: '重新打开', reopenReason: (m) => `为什么重新打开 ${m}？（记入审计日志）`,
    state_open: '未结', state_closed: '已月结', state_reopened: '已重新打开', closedTotal: '冻结金额', closedAt: '月结时间',
    checksum: '校验和', reopenedAt: '重新打开', downloads: '下载', from: '从', to: '到', grain: '粒度',
    grain_range: '整个区间', grain_day: '日', grain_week: '周', grain_month: '月', makeLinks: '生成链接',
    rangeDownloads: '按日期区间下载',
    financeHelp: '已月结月份的账目不再改变：之后到达的数据记入下一个未结月份的调整行（FOCUS ChargeClass Correction）。每次读取已结月份都会校验其校验和。XLSX：工作簿；FOCUS：FinOps FOCUS 1.2 CSV；CSV 和 JSON：按部门。',
    desensitisedAdmin: '脱敏下载（不含用户和作业名称；加盐键）', desensitisedFinance: '脱敏：财务的下载不含用户和作业名称',
    by_image: '镜像标签', by_framework: '框架版本', by_model: '模型', groupBy: '分组', startedIn: '开始月份',
    compare: '对比', noVariants: '没有可对比的运行。', costShare: '费用占比', gpuHoursShare: 'GPU 小时占比',
    compareHelp: '每轮秒数：每 1,000 张 640 像素图片每轮的中位秒数，已按模型和 GPU 归一（括号内为计时运行数）。典型与峰值显存：运行自身的峰值。可容纳：按显存一张 GPU 可放下的实例数。mAP@0.5 以点计。月份留空：全部月份。',
    epochS: '每轮秒数', typicalMem: '典型显存', fitPerGpu: '每卡可容纳', sideBySide: '并排对比', bOverA: 'B ÷ A 每轮时间',
    noEpochCompare: '两者之一没有计时运行：无法比较每轮时间。',
    bVsA: (b, a, rel, p, faster) => `${b} 的归一化每轮时间是 ${a} 的 ${rel}：${faster ? '快' : '慢'} ${p} %。`,
    trendsTitle: '逐月行为', trendsHelp: (h) => `按项目和开始月份：长任务指超过 ${h} 小时；按规模 n/s/m/l/x；按起点：共享检查点、从头训练或续训。`,
    longRuns: '长任务', longCostShare: '长任务费用占比', bySize: '按模型规模', byStart: '按起点',
    policyTitle: '策略决定与暂停', pausedMsg: (mode) => `已暂停（${mode}）。`, resumedMsg: '已恢复。',
    resume: '恢复', pause: '暂停', pauseReason: '为什么暂停此作业？（记为一次决定）', pauseDefault: '在看板上暂停',
    pausedNow: (d, cmd, billing) => `当前已暂停，累计 ${d}（${billing}）。恢复命令：${cmd}`,
    notBilled: 'GPU 已释放：不计费', heldBilled: 'GPU 仍被占用：计费', whenRunEnds: '运行结束时',
    billedUntilStop: '已请求训练进程在下一个检查点停止运行：在运行结束前仍计费', pausedTotal: (d, n) => `暂停 ${n} 次，累计 ${d}。`,
    pausedAt: '暂停时间', mode: '方式', gpusFreed: '释放 GPU', resumedAt: '恢复时间', resumeCommand: '恢复命令',
    noDecisions: '此作业没有策略决定。', when: '时间', rule: '规则', action: '动作', dryRun: '试运行', detail: '详情',
    adviceTitle: '建议', noAdvice: '没有建议：此作业未触发任何规则。', phaseLoading: '加载 GPU 小时', phaseSteady: '稳定 GPU 小时',
    phaseTail: '拖尾 GPU 小时', phaseIdle: '空闲 GPU 小时', bestEpoch: '最佳轮次 (mAP@0.5)', finalLoss: '最终训练损失', trainingTime: '训练时长',
    perGpu: '每张 GPU', gpu: 'GPU', phaseLoadingShort: '加载', phaseTailShort: '拖尾', memShare: '峰值 ÷ 显存',
    allocation: '分摊', allocationTitle: '分摊表', by_gpu_model: 'GPU 型号', by_job: '作业', directCost: '直接费用',
    idleShareCost: '分摊空闲', unallocatedLine: '（未分配容量）', unpricedLine: '（未定价）', adjustmentLine: '调整：', total: '合计',
    shareIdle: '分摊空闲容量', exportThis: '导出此分组：',
    gpusNow: '当前 GPU', gpu_busy: '忙碌', gpu_idle_held: '空闲但被作业占用', gpu_idle_free: '空闲未分配', gpu_no_data: '无近期采样',
    gpusNowHelp: (u, m) => `每张在役 GPU 按其最新采样：利用率低于 ${u} % 为空闲；超过 ${m} 分钟的采样不代表当前。先列出被作业占用的空闲 GPU。`,
    trendTitle: '近六个月费用', trendHelp: '按概览分组的每月费用，从首个有费用的月份起（GET /api/v1/reports/range，按月）；* 为进行中的月份，截至当前。',
    shareBy_image: '各镜像标签费用占比', shareBy_framework: '各框架版本费用占比', shareHelp: '占本月作业费用的比例（未分配容量不属于任何镜像）。',
    densityTitle: '按有效算力密度分布的作业', densityHelp: (n) => `本月作业按其采样 GPU 时间中利用率高于 70 % 的占比分布（柱：作业数；线：其 GPU 小时）。${n ? `${n} 个无采样作业未计入。` : ''}`,
    shareIdleOn: '已开启空闲分摊：每种 GPU 型号的未分配费用按各行在该型号上的 GPU 小时分摊（分摊空闲列），各行合计等于总额。',
    shareIdleOff: '未开启空闲分摊：各行为直接费用，未分配容量单列一行。点击列标题排序。',
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
