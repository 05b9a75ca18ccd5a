// The overview's other parts: cost over the last six months (GET /api/v1/reports/range,
// grain month), the month's share of cost by image tag and by framework version, and a
// histogram of the month's jobs by effective compute density (the report by job; not for
// finance, which reads no job lines). All from the same books as the report.
import { get } from './api.js';
import { t, num, pct, money, compact } from './i18n.js';
import { h, table } from './dom.js';
import { chart } from './charts.js';

function monthsBefore(month, n) {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y, m - 1 - n, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

// What the overview reads besides its report: one promise per part.
// withGpus: the role reads the cluster's GPUs now (admin, finance).
export function loadMore(month, by, withJobs, withGpus) {
  const q = (p) => get(`/api/v1/reports/monthly?month=${month}&by=${p}&idle_gpus=0`);
  return Promise.all([
    get(`/api/v1/reports/range?from=${monthsBefore(month, 5)}&to=${month}&grain=month&by=${by}`),
    q('image'), q('framework'), withJobs ? q('job') : Promise.resolve(null),
    withGpus ? get('/api/v1/gpus') : Promise.resolve(null),
  ]);
}

// The GPUs now (GET /api/v1/gpus): how many are busy, idle and held by a job, idle and
// free, or without a recent sample, per GPU model; then the idle ones held by jobs.
export function gpusNowSection(g) {
  const states = ['busy', 'idle_held', 'idle_free', 'no_data'];
  const held = g.gpus.filter((x) => x.state === 'idle_held');
  return h('section', { 'data-testid': 'gpus-now' }, h('h2', {}, t('gpusNow')),
    h('p', { class: 'help' }, t('gpusNowHelp')(g.idle_util_pct, g.max_sample_age_s / 60)),
    table([t('gpuModel'), ...states.map((s) => t('gpu_' + s))],
      [...g.by_gpu_model.map((m) => [m.gpu_model, ...states.map((s) => num(m[s], 0))]),
        [t('total'), ...states.map((s) => num(g.counts[s], 0))]], { testid: 'gpus-now-counts', class: 'compact' }),
    held.length === 0 ? null : table([t('gpu'), t('gpuModel'), 'node', t('utilisation'), t('jobs')],
      held.slice(0, 20).map((x) => [x.gpu, x.gpu_model, x.node, num(x.util_pct, 1),
        x.jobs ? x.jobs.flatMap((id, i) => [i ? ', ' : '', h('a', { href: '#/jobs/' + encodeURIComponent(id) }, id)]) : num(x.held_by_jobs, 0)]),
      { testid: 'gpus-idle-held', class: 'compact' }));
}

export function trendSection(all, draw) {
  // Months before the first with any cost are left out.
  const first = all.periods.findIndex((p) => p.lines.length > 0 || Number(p.total.cost) !== 0);
  const range = { ...all, periods: first < 0 ? all.periods.slice(-1) : all.periods.slice(first) };
  const months = range.periods.map((p) => p.period || p.month);
  const keys = [...new Set(range.periods.flatMap((p) => p.lines.map((l) => l.key)))].sort();
  const cost = (p, k) => Number((p.lines.find((l) => l.key === k) || { cost: 0 }).cost);
  const el = h('div', { class: 'chart small', role: 'img', 'aria-label': t('trendTitle') });
  draw(() => chart(el, {
    tooltip: { trigger: 'axis', valueFormatter: (v) => money(v, range.currency) },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 28, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => compact(v) } },
    series: keys.map((k) => ({ name: k, type: 'bar', stack: 'cost', data: range.periods.map((p) => cost(p, k)) })),
  }));
  const rows = keys.map((k) => [k, ...range.periods.map((p) => money(cost(p, k), range.currency))]);
  rows.push([t('total'), ...range.periods.map((p) => money(p.total.cost, range.currency))]);
  return h('section', {}, h('h2', {}, t('trendTitle')), h('p', { class: 'help' }, t('trendHelp')), el,
    table([t('by_' + range.by), ...months.map((m, i) => m + (range.periods[i].partial ? ' *' : ''))], rows, { testid: 'trend', class: 'compact' }));
}

// Shares of the jobs' cost (the lines'; the unallocated capacity is not an image's).
export function shareSection(r, draw) {
  const sum = r.lines.reduce((a, l) => a + Number(l.cost), 0);
  const lines = r.lines.map((l) => ({ ...l, share: sum > 0 ? Number(l.cost) / sum : 0 })).sort((a, b) => b.share - a.share);
  const el = h('div', { class: 'chart small', role: 'img', 'aria-label': t('by_' + r.by) });
  draw(() => chart(el, {
    tooltip: { trigger: 'axis', valueFormatter: (v) => pct(v) },
    grid: { left: 8, right: 28, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', axisLabel: { formatter: (v) => pct(v) } },
    yAxis: { type: 'category', data: lines.map((l) => l.key), inverse: true },
    series: [{ type: 'bar', data: lines.map((l) => l.share), color: '#3a6ea5' }],
  }));
  return h('section', {}, h('h2', {}, t('shareBy_' + r.by)), h('p', { class: 'help' }, t('shareHelp')), el,
    table([t('by_' + r.by), t('cost'), t('share')], lines.map((l) => [l.key, money(l.cost, r.currency), pct(l.share)]),
      { testid: 'share-' + r.by, class: 'compact' }));
}

// Jobs by density in tenths (0-10 %, ..., 90-100 %); jobs with no sample are left out.
export function densitySection(r, draw) {
  const bins = Array.from({ length: 10 }, () => ({ jobs: 0, hours: 0 }));
  let none = 0;
  for (const l of r.lines) {
    if (l.density === null) { none++; continue; }
    const b = bins[Math.min(9, Math.floor(l.density * 10))];
    b.jobs++;
    b.hours += l.gpu_hours;
  }
  const labels = bins.map((_, i) => `${i * 10}–${i * 10 + 10} %`);
  const el = h('div', { class: 'chart small', role: 'img', 'aria-label': t('densityTitle') });
  draw(() => chart(el, {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 8, right: 28, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: labels },
    yAxis: [{ type: 'value', name: t('jobsCount') }, { type: 'value', name: t('gpuHours'), axisLabel: { formatter: (v) => compact(v) } }],
    series: [
      { name: t('jobsCount'), type: 'bar', data: bins.map((b) => b.jobs), color: '#2f7d5b' },
      { name: t('gpuHours'), type: 'line', yAxisIndex: 1, data: bins.map((b) => Math.round(b.hours * 10) / 10), color: '#d9a441' },
    ],
  }));
  return h('section', {}, h('h2', {}, t('densityTitle')), h('p', { class: 'help' }, t('densityHelp')(none)), el,
    table([t('density'), t('jobsCount'), t('gpuHours')], bins.map((b, i) => [labels[i], num(b.jobs, 0), num(b.hours, 1)]),
      { testid: 'density-histogram', class: 'compact' }));
}
