// Allocation table: the month's books grouped by any dimension the role may read
// (GET /api/v1/reports/monthly?by=&share_idle=), sortable by any column, with the
// exports of the same grouping (GET /api/v1/exports/{M}?format=csv|json&by=&share_idle=).
import { get } from './api.js';
import { t, num, pct, money, withUnit } from './i18n.js';
import { h, asOfLine } from './dom.js';

const DIMENSIONS = ['department', 'project', 'user', 'model', 'image', 'framework', 'gpu-model', 'job'];

export const allocationDimensions = (role) => DIMENSIONS.filter((b) => role !== 'finance' || (b !== 'user' && b !== 'job'));

// Each column: its label, the raw value it sorts by, and how it shows.
function columns(r) {
  const cur = r.currency;
  const m = (k) => ({ sort: (l) => (l[k] === null || l[k] === undefined ? -Infinity : Number(l[k])), show: (l) => money(l[k], cur) });
  const n = (k, digits, unit) => ({ sort: (l) => (l[k] === null ? -Infinity : l[k]), show: (l) => (unit ? withUnit(l[k], digits, unit) : num(l[k], digits)) });
  return [
    { key: 'key', label: t('by_' + r.by.replace('-', '_')), sort: (l) => l.key, show: (l) => l.key },
    { key: 'jobs', label: t('jobsCount'), ...n('jobs', 0) },
    { key: 'gpu_hours', label: t('gpuHours'), ...n('gpu_hours', 1) },
    { key: 'busy_gpu_hours', label: t('busyHours'), ...n('busy_gpu_hours', 1) },
    { key: 'idle', label: t('idleHours'), sort: (l) => l.phases_gpu_hours.idle, show: (l) => num(l.phases_gpu_hours.idle, 1) },
    { key: 'density', label: t('density'), sort: (l) => (l.density === null ? -Infinity : l.density), show: (l) => pct(l.density) },
    { key: 'mean_util_pct', label: t('meanUtil'), ...n('mean_util_pct', 1, '%') },
    { key: 'energy_kwh', label: t('energy'), ...n('energy_kwh', 1, 'kWh') },
    { key: 'direct_cost', label: t('directCost'), ...m('direct_cost') },
    { key: 'idle_share', label: t('idleShareCost'), ...m('idle_share') },
    { key: 'cost', label: t('cost'), ...m('cost') },
    { key: 'share_of_total', label: t('share'), sort: (l) => l.share_of_total, show: (l) => pct(l.share_of_total) },
    { key: 'prev_cost', label: t('prevCost'), ...m('prev_cost') },
  ];
}

// sel: {month, by, share, sort, dir}; go(sel): navigate to it.
export async function allocationView(me, sel, go) {
  const dims = allocationDimensions(me.role);
  const by = dims.includes(sel.by) ? sel.by : 'project';
  const q = new URLSearchParams({ month: sel.month, by, share_idle: sel.share ? 'true' : 'false', idle_gpus: '0' });
  const r = await get('/api/v1/reports/monthly?' + q);
  const cols = columns(r);
  let sortKey = cols.some((c) => c.key === sel.sort) ? sel.sort : 'cost';
  let dir = sel.dir === 'asc' ? 1 : -1;
  const wrap = h('div', { class: 'table-wrap' });
  const fixed = [];  // the lines that are not groups: kept under the sorted ones
  if (r.unallocated) fixed.push([t('unallocatedLine'), r.unallocated]);
  for (const u of r.unpriced || []) fixed.push([t('unpricedLine'), u]);
  const paint = () => {
    const col = cols.find((c) => c.key === sortKey);
    const lines = r.lines.slice().sort((a, b) => {
      const x = col.sort(a);
      const y = col.sort(b);
      return (typeof x === 'string' ? x.localeCompare(y) : x - y) * dir;
    });
    const head = cols.map((c) => h('th', { scope: 'col', 'aria-sort': c.key === sortKey ? (dir > 0 ? 'ascending' : 'descending') : undefined },
      h('button', { type: 'button', class: 'sort', 'data-sort': c.key, onclick: () => {
        dir = c.key === sortKey ? -dir : (c.key === 'key' ? 1 : -1);
        sortKey = c.key;
        paint();
      } }, c.label + (c.key === sortKey ? (dir > 0 ? ' ▲' : ' ▼') : ''))));
    // The total's idle share is none of its own (the shares move cost between its lines).
    const row = (l, label, cls) => h('tr', { class: cls }, cols.map((c, i) => h('td', {},
      i === 0 && label ? label : cls === 'total' && c.key === 'idle_share' ? '' : c.show(l))));
    wrap.replaceChildren(h('table', { 'data-testid': 'allocation', 'data-sorted': `${sortKey}:${dir > 0 ? 'asc' : 'desc'}` },
      h('thead', {}, h('tr', {}, head)),
      h('tbody', {}, lines.map((l) => row(l)), fixed.map(([label, l]) => row(l, label, 'other')),
        (r.adjustments || []).map((a) => h('tr', { class: 'other' }, h('td', {}, `${t('adjustmentLine')} ${a.corrects_month} · ${a.key}`),
          cols.slice(1, -3).map(() => h('td', {}, '')), h('td', {}, money(a.cost, r.currency)), h('td', {}, ''), h('td', {}, ''))),
        row(r.total, t('total'), 'total'))));
  };
  paint();
  const form = h('form', { class: 'filters', 'data-testid': 'allocation-form', onsubmit: (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    go({ month: f.month || sel.month, by: f.by, share: Boolean(f.share), sort: sortKey, dir: dir > 0 ? 'asc' : 'desc' });
  } },
  h('label', {}, t('month') + ' ', h('input', { type: 'month', name: 'month', value: sel.month })),
  h('label', {}, t('groupBy') + ' ', h('select', { name: 'by' }, dims.map((d) => h('option', { value: d, selected: d === by || undefined }, t('by_' + d.replace('-', '_')))))),
  h('label', {}, t('shareIdle') + ' ', h('input', { type: 'checkbox', name: 'share', checked: r.share_idle || undefined })),
  h('button', { type: 'submit' }, t('filter')));
  const ex = new URLSearchParams({ by, share_idle: r.share_idle ? 'true' : 'false' });
  const exports = h('p', { class: 'help', 'data-testid': 'allocation-exports' }, t('exportThis') + ' ',
    ['csv', 'json'].flatMap((f) => [h('a', { href: `/api/v1/exports/${r.month}?format=${f}&${ex}`, download: '', 'data-format': f }, f.toUpperCase()), ' ']));
  if (r.lines.length === 0) return [form, asOfLine(r), h('p', { class: 'notice', 'data-testid': 'empty' }, t('empty'))];
  return [form, asOfLine(r), h('p', { class: 'help' }, r.share_idle ? t('shareIdleOn') : t('shareIdleOff')), wrap, exports];
}
