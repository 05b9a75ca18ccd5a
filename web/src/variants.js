// Variants: runs grouped by image tag, framework version or model (GET /api/v1/compare,
// docs/INSIGHT.md): share of cost and GPU-hours, normalised time per epoch, memory, how
// many fit one GPU, mAP@0.5; two variants side by side; and behaviour over the months
// (GET /api/v1/trends). Finance sees it too: no user or job names are in either answer.
import { get } from './api.js';
import { t, num, pct, money, withUnit, NONE } from './i18n.js';
import { h, table, card, asOfLine } from './dom.js';
import { chart } from './charts.js';

const fits = (r) => (r.fit_per_gpu.length ? r.fit_per_gpu.map((f) => `${f.gpu_model}: ${f.instances}`).join(', ') : NONE);

// sel: {by, month ('' for all months), a, b}; go(sel): navigate to it; draw(fn): a chart.
export async function variantsView(sel, go, draw) {
  const q = new URLSearchParams({ by: sel.by });
  if (sel.month) q.set('month', sel.month);
  if (sel.a && sel.b) { q.set('a', sel.a); q.set('b', sel.b); }
  const [c, trends] = await Promise.all([get('/api/v1/compare?' + q), get('/api/v1/trends')]);
  const by = h('select', { name: 'by', 'data-testid': 'compare-by' }, ['image', 'framework', 'model']
    .map((v) => h('option', { value: v, selected: v === sel.by || undefined }, t('by_' + v))));
  const month = h('input', { type: 'month', name: 'month', value: sel.month || '' });
  const pick = (name) => h('select', { name, 'data-testid': 'compare-' + name }, [h('option', { value: '' }, NONE)]
    .concat(c.rows.map((r) => h('option', { value: r.key, selected: r.key === sel[name] || undefined }, r.key))));
  const form = h('form', { class: 'filters', 'data-testid': 'compare-form', onsubmit: (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    go({ by: f.by, month: f.month, a: f.by === sel.by ? f.a : '', b: f.by === sel.by ? f.b : '' });
  } },
  h('label', {}, t('groupBy') + ' ', by), h('label', {}, t('startedIn') + ' ', month),
  h('label', {}, 'A ', pick('a')), h('label', {}, 'B ', pick('b')), h('button', { type: 'submit' }, t('compare')));
  const out = [form, asOfLine(c), h('p', { class: 'help' }, t('compareHelp'))];
  if (c.rows.length === 0) return out.concat(h('p', { class: 'notice', 'data-testid': 'no-variants' }, t('noVariants')));
  if (c.side_by_side) out.push(sideBySide(c.side_by_side, c.currency));
  const el = h('div', { class: 'chart', role: 'img', 'aria-label': t('costShare') });
  const rows = c.rows.slice().sort((x, y) => y.cost_share - x.cost_share);
  out.push(h('section', {}, h('h2', {}, `${t('costShare')} · ${money(c.total_cost, c.currency)}`), el,
    table([t('by_' + c.by), t('runs'), t('cost'), t('costShare'), t('gpuHoursShare'), t('epochS'), t('typicalMem'), t('peakMem'), t('fitPerGpu'), t('map50')],
      rows.map((r) => [r.key, num(r.runs, 0), money(r.cost, c.currency), pct(r.cost_share), pct(r.gpu_hours_share),
        r.norm_epoch_s === null ? NONE : `${num(r.norm_epoch_s, 2)} (${r.runs_timed})`, withUnit(r.typical_mem_gib, 1, 'GiB'),
        withUnit(r.peak_mem_gib, 1, 'GiB'), fits(r), num(r.map50, 1)]), { testid: 'variants' })));
  draw(() => chart(el, {
    tooltip: { trigger: 'axis', valueFormatter: (v) => pct(v) },
    legend: { data: [t('costShare'), t('gpuHoursShare')] },
    grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v) => pct(v) } },
    yAxis: { type: 'category', data: rows.map((r) => r.key), inverse: true },
    series: [
      { name: t('costShare'), type: 'bar', data: rows.map((r) => r.cost_share), color: '#3a6ea5' },
      { name: t('gpuHoursShare'), type: 'bar', data: rows.map((r) => r.gpu_hours_share), color: '#8fb3d9' },
    ],
  }));
  out.push(trendsSection(trends));
  return out;
}

function sideBySide(s, currency) {
  const rel = s.b_vs_a_epoch;
  const line = rel === null ? t('noEpochCompare') : t('bVsA')(s.b.key, s.a.key, num(rel, 2), num(Math.abs(1 - rel) * 100, 0), rel <= 1);
  const col = (r) => [r.key, num(r.runs, 0), money(r.cost, currency), r.norm_epoch_s === null ? NONE : num(r.norm_epoch_s, 2),
    withUnit(r.typical_mem_gib, 1, 'GiB'), withUnit(r.peak_mem_gib, 1, 'GiB'), fits(r), num(r.map50, 1)];
  return h('section', { 'data-testid': 'side-by-side' }, h('h2', {}, t('sideBySide')),
    h('div', { class: 'cards' }, card(t('bOverA'), rel === null ? NONE : num(rel, 2), 'b-vs-a')),
    h('p', { class: 'notice' }, line),
    table(['', t('runs'), t('cost'), t('epochS'), t('typicalMem'), t('peakMem'), t('fitPerGpu'), t('map50')], [col(s.a), col(s.b)]));
}

// Per project and month: runs, cost, runs over 72 h and their share, runs by model size
// and by how they started.
function trendsSection(tr) {
  const cells = (m) => Object.entries(m || {}).map(([k, v]) => `${k}: ${v.runs} × ${money(v.cost_per_run, tr.currency)}`).join(' · ') || NONE;
  const rows = [];
  for (const p of tr.projects) {
    for (const m of p.months) {
      rows.push([p.project, m.month, num(m.runs, 0), money(m.cost, tr.currency), `${num(m.long_runs, 0)} (${pct(m.long_share)})`,
        pct(m.long_cost_share), cells(m.by_model_size), cells(m.by_start)]);
    }
  }
  return h('section', {}, h('h2', {}, t('trendsTitle')), h('p', { class: 'help' }, t('trendsHelp')(tr.long_job_hours)),
    rows.length ? table([t('project'), t('month'), t('runs'), t('cost'), t('longRuns'), t('longCostShare'), t('bySize'), t('byStart')], rows,
      { testid: 'trends', class: 'compact' }) : h('p', { class: 'notice' }, t('noVariants')));
}
