// The gpuledger dashboard: sign-in, then each role's views of the books, confined as the
// API confines them (the server decides; the page only leaves out what would be refused).
import { api, get, setCsrf, ApiError } from './api.js';
import { t, setLang, getLang, num, pct, money, date, statusName, setTimeZone, compact, axisTime, timeZone, withUnit, NONE } from './i18n.js';
import { chart, disposeCharts } from './charts.js';
import { h, table, card, asOfLine } from './dom.js';
import { financeView } from './finance.js';
import { variantsView } from './variants.js';
import { allocationView } from './allocation.js';
import { loadMore, trendSection, shareSection, densitySection, gpusNowSection } from './overview_more.js';
import { policySection, reportSection } from './job.js';

const state = { me: null, month: null, timer: null };
// Charts are drawn once their elements are in the page (ECharts measures them).
let drawQueue = [];
const draw = (fn) => drawQueue.push(fn);
function flushDraw() {
  const q = drawQueue;
  drawQueue = [];
  for (const fn of q) fn();
}
const app = document.getElementById('app');

const can = {
  jobs: () => ['user', 'dept_admin', 'admin'].includes(state.me.role),
  stop: () => ['user', 'dept_admin', 'admin'].includes(state.me.role),
  tokens: () => state.me.role === 'admin',
  budgets: () => state.me.role !== 'ingest',
  setBudget: () => ['admin', 'dept_admin'].includes(state.me.role),
  estimate: () => ['admin', 'dept_admin', 'user'].includes(state.me.role),
  byUser: () => state.me.role !== 'finance',
  finance: () => ['admin', 'finance'].includes(state.me.role),
  variants: () => state.me.role !== 'ingest',
  allocation: () => state.me.role !== 'ingest',
};

function clearTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function errorBox(e) {
  if (e instanceof ApiError && e.status === 404) return h('p', { class: 'notice', 'data-testid': 'not-found' }, t('notFound'));
  if (e instanceof ApiError && e.status === 403) return h('p', { class: 'notice', 'data-testid': 'forbidden' }, t('forbidden'));
  return h('p', { class: 'notice error' }, e.message);
}

// ---- shell -------------------------------------------------------------------------

function header() {
  const tabs = [['overview', t('overview')]];
  if (can.jobs()) tabs.push(['jobs', t('jobs')]);
  if (can.allocation()) tabs.push(['allocation', t('allocation')]);
  tabs.push(['leaderboard', t('leaderboard')], ['waste', t('waste')]);
  if (can.variants()) tabs.push(['variants', t('variants')]);
  if (can.budgets()) tabs.push(['budgets', t('budgets')]);
  if (can.finance()) tabs.push(['finance', t('finance')]);
  if (can.estimate()) tabs.push(['estimate', t('estimateForm')]);
  if (can.tokens()) tabs.push(['tokens', t('tokens')]);
  const here = location.hash.slice(2).split(/[/?]/)[0] || 'overview';
  const who = state.me.role + (state.me.project ? ' · ' + state.me.project : '') + (state.me.department ? ' · ' + state.me.department : '');
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/overview' }, 'gpuledger'),
    h('nav', { 'aria-label': 'main' }, tabs.map(([k, label]) => h('a', { href: '#/' + k, class: here === k ? 'on' : '', 'data-nav': k }, label))),
    h('div', { class: 'who' },
      h('span', { 'data-testid': 'who' }, t('signedInAs') + ' ' + who),
      h('button', { type: 'button', class: 'link', 'data-testid': 'lang', onclick: () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); route(); } }, t('language')),
      h('button', { type: 'button', class: 'link', 'data-testid': 'signout', onclick: signOut }, t('signOut'))));
}

function monthPicker(onchange) {
  return h('label', { class: 'month' }, t('month') + ' ',
    h('input', { type: 'month', value: state.month, 'data-testid': 'month', onchange: (e) => { state.month = e.target.value; onchange(); } }));
}


// A page: its title, then what `body` builds. With `refresh`, a page that shows books
// still being written (an as-of line marked data-partial) is built again every 30 s and
// redrawn in place, its scroll kept; pages with forms do not refresh (what is being
// typed would be lost).
// How often a refreshing page is built again; a test may set a shorter time in the
// browser's storage (gl_refresh_ms).
const REFRESH_MS = Number(localStorage.getItem('gl_refresh_ms')) || 30000;

async function page(title, body, { refresh = false } = {}) {
  disposeCharts();
  clearTimer();
  const main = h('main', { id: 'main' }, h('h1', {}, title), h('p', { class: 'loading' }, t('loading')));
  app.replaceChildren(header(), main);
  const show = (content) => {
    main.replaceChildren(h('h1', {}, title), ...[].concat(content));
    flushDraw();
  };
  try {
    show(await body());
    if (refresh && main.querySelector('[data-partial]')) {
      state.timer = setInterval(async () => {
        try {
          const fresh = await body();
          const y = window.scrollY;
          disposeCharts();
          show(fresh);
          window.scrollTo(0, y);
        } catch { drawQueue = []; /* the next tick tries again */ }
      }, REFRESH_MS);
    }
  } catch (e) {
    drawQueue = [];
    if (e instanceof ApiError && e.status === 401) return showLogin(e.message);
    main.replaceChildren(h('h1', {}, title), errorBox(e));
  }
}

// ---- sign-in -----------------------------------------------------------------------

function showLogin(message) {
  disposeCharts();
  clearTimer();
  state.me = null;
  localStorage.removeItem('gl_signed_in');
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true, 'data-testid': 'token' });
  const err = h('p', { class: 'error', role: 'alert' }, message && message !== 'signed out' ? message : '');
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const me = await api('POST', '/api/v1/session', { token: input.value.trim() });
      signedIn(me);
      location.hash = '#/overview';
      route();
    } catch (x) { err.textContent = x.message; }
  } },
  h('h1', {}, 'gpuledger'),
  h('label', { for: 'token' }, t('token')), input,
  h('p', { class: 'help' }, t('tokenHelp')),
  h('button', { type: 'submit', 'data-testid': 'signin' }, t('signIn')), err,
  h('button', { type: 'button', class: 'link', onclick: () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); showLogin(); } }, t('language')));
  app.replaceChildren(form);
  input.focus();
}

function signedIn(me) {
  state.me = me;
  state.estimate = null;
  setCsrf(me.csrf_token);
  setTimeZone(me.timezone);
  if (!state.month) state.month = me.month;
  localStorage.setItem('gl_signed_in', '1');
}

async function signOut() {
  try { await api('DELETE', '/api/v1/session'); } catch { /* the session may be gone already */ }
  setCsrf('');
  showLogin();
}

// ---- overview ----------------------------------------------------------------------

function costChart(el, lines, currency) {
  const keys = lines.map((l) => l.key);
  const eff = lines.map((l) => effective(l));
  const rest = lines.map((l, i) => Math.max(0, Number(l.cost) - eff[i]));
  chart(el, {
    tooltip: { trigger: 'axis', valueFormatter: (v) => money(v, currency) },
    legend: { data: [t('effective'), t('idleHeld')] },
    grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'value', axisLabel: { hideOverlap: true, formatter: (v) => compact(v) } },
    yAxis: { type: 'category', data: keys, inverse: true },
    series: [
      { name: t('effective'), type: 'bar', stack: 'c', data: eff, color: '#2f7d5b' },
      { name: t('idleHeld'), type: 'bar', stack: 'c', data: rest, color: '#d9a441' },
    ],
  });
}

// Cost of the GPU time that did work: allocated cost x busy / allocated GPU-hours.
function effective(l) {
  return l.gpu_hours > 0 ? Number(l.direct_cost) * (l.busy_gpu_hours / l.gpu_hours) : 0;
}

function linesTable(r, lines, testid) {
  return table(
    [t('by_' + r.by), t('jobsCount'), t('gpuHours'), t('allocated'), t('effective'), t('density'), t('meanUtil'), t('prevCost')],
    lines.map((l) => [l.key, num(l.jobs, 0), num(l.gpu_hours), money(l.cost, r.currency), money(effective(l), r.currency),
      pct(l.density), withUnit(l.mean_util_pct, 1, '%'), l.prev_cost === undefined ? NONE : money(l.prev_cost, r.currency)]),
    { testid });
}

function emptyLedger() {
  return h('div', { class: 'empty', 'data-testid': 'empty' }, h('p', {}, h('strong', {}, t('empty'))), h('p', {}, t('emptyNext')));
}

async function overview() {
  const role = state.me.role;
  const groups = role === 'admin' || role === 'finance' ? ['department', 'project'] : ['project'];
  const load = () => Promise.all([
    Promise.all(groups.map((by) => get(`/api/v1/reports/monthly?month=${state.month}&by=${by}&idle_gpus=0`))),
    loadMore(state.month, groups[0], can.byUser(), can.finance()),
  ]);
  const render = ([reports, [range, byImage, byFramework, byJob, gpusNow]]) => {
    const r = reports[0];
    const out = [h('div', { class: 'bar' }, monthPicker(() => route())), asOfLine(r, true)];
    if (reports.every((x) => x.lines.length === 0)) return out.concat(emptyLedger());
    const tot = r.total;
    out.push(h('div', { class: 'cards' },
      card(t('cost'), money(tot.cost, r.currency), 'total-cost'),
      card(t('effective'), money(r.lines.reduce((s, l) => s + effective(l), 0), r.currency)),
      card(t('gpuHours'), num(tot.gpu_hours)),
      card(t('density'), pct(tot.density)),
      r.unallocated ? card(t('unallocatedCost'), money(r.unallocated.cost, r.currency), 'unallocated') : null));
    reports.forEach((rep) => {
      const el = h('div', { class: 'chart', role: 'img', 'aria-label': rep.by });
      out.push(h('section', {}, h('h2', {}, rep.by === 'department' ? t('byDepartment') : t('byProject')), el, linesTable(rep, rep.lines, 'lines-' + rep.by)));
      draw(() => costChart(el, rep.lines, rep.currency));
    });
    out.push(h('p', { class: 'help' }, t('effectiveHelp')));
    if (r.idle_by_gpu_model) {
      out.push(h('section', {}, h('h2', {}, t('idleNow')), table(
        [t('gpuModel'), t('capacity'), t('allocated'), t('unallocated'), t('heldIdle'), t('heldNoData'), t('unallocatedCost')],
        r.idle_by_gpu_model.map((m) => [m.gpu_model, num(m.capacity_gpu_hours), num(m.allocated_gpu_hours), num(m.unallocated_gpu_hours),
          num(m.held_idle_gpu_hours), num(m.held_no_data_gpu_hours), money(m.unallocated_cost, r.currency)]), { testid: 'idle' })));
    }
    if (gpusNow) out.push(gpusNowSection(gpusNow));
    out.push(trendSection(range, draw), h('div', { class: 'halves' }, shareSection(byImage, draw), shareSection(byFramework, draw)));
    if (byJob) out.push(densitySection(byJob, draw));
    return out;
  };
  await page(t('overview'), async () => render(await load()), { refresh: true });
}


// ---- jobs --------------------------------------------------------------------------

async function jobs(params) {
  const q = new URLSearchParams(params);
  if (!q.has('month') && !q.has('from') && !q.has('to')) q.set('month', state.month);
  if (!q.has('limit')) q.set('limit', '50');
  await page(t('jobs'), async () => {
    const list = await get('/api/v1/jobs?' + q.toString());
    const field = (name, label, type = 'text') => h('label', {}, label + ' ', h('input', { name, type, value: q.get(name) || '' }));
    const status = h('select', { name: 'status' }, ['', 'pending', 'running', 'succeeded', 'failed', 'cancelled']
      .map((s) => h('option', { value: s, selected: q.get('status') === s }, s ? statusName(s) : t('any'))));
    const form = h('form', { class: 'filters', onsubmit: (e) => {
      e.preventDefault();
      const f = new URLSearchParams();
      for (const [k, v] of new FormData(e.target)) if (v) f.set(k, v);
      // A date range replaces the month (the API takes one or the other): from the start
      // of the first day to the end of the last, in the organisation's zone.
      if (f.get('from') || f.get('to')) {
        f.delete('month');
        if (f.get('from')) f.set('from', zonedDate(f.get('from')));
        if (f.get('to')) f.set('to', zonedDate(f.get('to'), true));
      }
      if (f.get('month')) state.month = f.get('month');
      location.hash = '#/jobs?' + f.toString();
    } },
    h('label', {}, t('status') + ' ', status),
    state.me.role !== 'user' ? field('project', t('project')) : null,
    field('user', t('user')), field('model', t('model')), field('gpu_model', t('gpuModel')), field('month', t('month'), 'month'),
    h('label', {}, t('from') + ' ', h('input', { name: 'from', type: 'date', value: q.get('from') ? dateIn(q.get('from')) : '' })),
    h('label', {}, t('to') + ' ', h('input', { name: 'to', type: 'date', value: q.get('to') ? dateIn(q.get('to'), true) : '' })),
    h('button', { type: 'submit' }, t('filter')));
    const offset = Number(list.offset);
    const pager = h('div', { class: 'pager' },
      h('span', {}, `${list.total === 0 ? 0 : offset + 1}–${offset + list.jobs.length} ${t('of')} ${list.total}`),
      offset > 0 ? h('a', { href: '#/jobs?' + withParam(q, 'offset', Math.max(0, offset - list.limit)) }, t('prev')) : null,
      offset + list.jobs.length < list.total ? h('a', { href: '#/jobs?' + withParam(q, 'offset', offset + list.limit) }, t('next')) : null);
    if (list.jobs.length === 0) return [form, h('p', { class: 'notice', 'data-testid': 'no-jobs' }, t('noJobs'))];
    return [form, h('p', { class: 'asof' }, `${t('asOf')} ${date(list.as_of)}`),
      table([t('job'), t('status'), t('project'), t('user'), t('model'), t('gpus'), t('start'), t('end'), t('gpuHours'), t('cost')],
        list.jobs.map((j) => [h('a', { href: '#/jobs/' + encodeURIComponent(j.id) }, j.id), statusName(j.status), j.project, j.user, j.model_type,
          num(j.gpus, 2) + ' ' + j.gpu_model, date(j.start), date(j.end), num(j.gpu_hours), money(j.cost, list.currency)]), { testid: 'jobs' }),
      pager];
  });
}

function withParam(q, k, v) {
  const c = new URLSearchParams(q);
  c.set(k, String(v));
  return c.toString();
}

// The job charts' tooltip: the time in the organisation's zone, then a line per GPU. ECharts
// takes it as HTML, so every part of it is escaped (GPU names come from the ledger).
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function seriesTip(ps) {
  const list = [].concat(ps);
  if (list.length === 0) return '';
  return [esc(axisTime(list[0].value[0]))].concat(list.map((p) => `${p.marker || ''}${esc(p.seriesName)}: ${esc(num(p.value[1], 1))}`)).join('<br>');
}

// The job page; while the job runs it is read again every 30 s and redrawn in place, so
// its charts grow as samples arrive.
async function jobPage(id) {
  await page(t('job') + ' ' + id, () => jobContent(id), { refresh: true });
}

async function jobContent(id) {
  const j = await get('/api/v1/jobs/' + encodeURIComponent(id));
  const [series, progress, report] = await Promise.all([
    get('/api/v1/series?job=' + encodeURIComponent(id)),
    get('/api/v1/jobs/' + encodeURIComponent(id) + '/progress'),
    get('/api/v1/jobs/' + encodeURIComponent(id) + '/report?lang=' + (getLang() === 'en' ? 'en' : 'zh')),
  ]);
  const out = [h('p', { class: 'asof', 'data-testid': 'asof', 'data-as-of': j.as_of, 'data-partial': j.status === 'running' || undefined },
    `${t('asOf')} ${date(j.as_of)}` + (j.status === 'running' ? ` · ${t('refreshes')}` : ''))];
  // A submitted job's estimate (docs/ESTIMATE.md): cost {median[, low, high]}.
  const est = j.estimate && j.estimate.cost && j.estimate.cost.median;
  out.push(h('div', { class: 'cards' },
    card(t('status'), statusName(j.status), 'job-status'),
    card(t('costSoFar'), money(j.cost, j.currency), 'job-cost'),
    est ? card(t('estimate'), money(est, j.currency)) : null,
    card(t('gpuHours'), num(j.gpu_hours, 2)),
    card(t('density'), pct(j.density)),
    card(t('energy'), withUnit(j.energy_kwh, 2, 'kWh')),
    card(t('peakMem'), withUnit(j.peak_mem_gib, 1, 'GiB')),
    card(t('epochs'), num(j.epochs_done, 0))));
  out.push(table([t('user'), t('project'), t('department'), t('model'), t('start'), t('end')],
    [[j.user, j.project, j.department, j.model_type, date(j.start), date(j.end)]]));
  if (can.stop() && (j.status === 'running' || j.status === 'pending')) {
    const msg = h('span', { class: 'help', 'data-testid': 'stop-result' });
    out.push(h('p', {}, h('button', { type: 'button', class: 'danger', 'data-testid': 'stop', onclick: async (e) => {
      e.target.disabled = true;
      try { await api('POST', '/api/v1/jobs/' + encodeURIComponent(id) + '/stop', { reason: 'dashboard' }); msg.textContent = t('stopAsked'); } catch (x) { msg.textContent = x.message; e.target.disabled = false; }
    } }, t('stop')), ' ', msg));
  }
  out.push(...policySection(j, can.stop(), async (message) => {
    await jobPage(id);
    const line = document.querySelector('[data-testid=pause-result]') || document.querySelector('[data-testid=paused-line]');
    if (line && message) line.textContent = message;
  }));
  out.push(...reportSection(report));
  const parts = series.series || [];
  if (parts.length === 0 || parts.every((p) => p.values.length === 0)) {
    out.push(h('p', { class: 'notice' }, t('noSeries')));
  } else {
    // The charts' time axes read in the organisation's zone, as the as-of line does.
    const times = parts.flatMap((p) => p.values.map((v) => v[0]));
    out.push(h('p', { class: 'help', 'data-testid': 'series-span' },
      `${t('samples')}: ${axisTime(times.reduce((a, b) => Math.min(a, b)))} – ${axisTime(times.reduce((a, b) => Math.max(a, b)))} (${t('chartTimes')(timeZone() || 'UTC')})`));
    // The loading and tail phases shaded on the utilisation chart where the job's report
    // has them (docs/METERING.md "Phases": before the first sample above 70 %, after the
    // last one; over all GPUs). The meter also reads the sample that covers the hold's
    // start, so on a shared GPU a span the chart would shade can be the meter's steady.
    const dense = parts.flatMap((p) => p.values.filter((v) => v[1] > 70).map((v) => v[0]));
    const phases = [];
    const ph = report.phases || {};
    if (dense.length) {
      const lo = (xs) => xs.reduce((a, b) => Math.min(a, b));
      const hi = (xs) => xs.reduce((a, b) => Math.max(a, b));
      const [firstDense, lastDense, first, last] = [lo(dense), hi(dense), lo(times), hi(times)];
      if (firstDense > first && ph.loading_gpu_hours > 0) phases.push([{ name: t('phaseLoadingShort'), xAxis: first }, { xAxis: firstDense }]);
      if (last > lastDense && ph.tail_gpu_hours > 0) phases.push([{ name: t('phaseTailShort'), xAxis: lastDense }, { xAxis: last }]);
    }
    for (const [col, label] of [[1, t('utilisation')], [2, t('memory')], [3, t('power')]]) {
      const el = h('div', { class: 'chart small', role: 'img', 'aria-label': label, 'data-phases': col === 1 ? phases.length : undefined });
      out.push(h('section', {}, h('h2', {}, label), el));
      const shaded = (p, i) => (col === 1 && i === 0 && phases.length
        ? { markArea: { silent: true, itemStyle: { color: 'rgba(217, 164, 65, 0.18)' }, label: { color: '#7a5a12' }, data: phases } } : {});
      draw(() => chart(el, {
        tooltip: { trigger: 'axis', formatter: (ps) => seriesTip(ps) },
        grid: { left: 8, right: 28, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: 'time', axisLabel: { hideOverlap: true, formatter: (v) => axisTime(v) }, axisPointer: { label: { formatter: (p) => axisTime(p.value) } } },
        yAxis: { type: 'value' },
        series: parts.map((p, i) => ({ name: p.gpu, type: 'line', showSymbol: false, data: p.values.map((v) => [v[0], v[col]]), ...shaded(p, i) })),
      }));
    }
  }
  const ep = progress.epochs || [];
  if (ep.length === 0) {
    out.push(h('p', { class: 'notice' }, t('noEpochs')));
  } else {
    const el = h('div', { class: 'chart small', role: 'img', 'aria-label': t('lossMap') });
    out.push(h('section', {}, h('h2', {}, t('lossMap')), el,
      table([t('epochs'), t('trainLoss'), t('valLoss'), 'mAP@0.5', 'mAP@0.5:0.95'],
        ep.map((e) => [e.epoch, num(e.train_loss, 3), num(e.val_loss, 3), num(e.map50, 3), num(e.map50_95, 3)]), { testid: 'epochs', class: 'compact' })));
    draw(() => chart(el, {
      tooltip: { trigger: 'axis' },
      legend: { data: [t('trainLoss'), t('valLoss'), 'mAP@0.5'] },
      grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: ep.map((e) => e.epoch) },
      yAxis: [{ type: 'value' }, { type: 'value', min: 0, max: 1 }],
      series: [
        { name: t('trainLoss'), type: 'line', data: ep.map((e) => e.train_loss) },
        { name: t('valLoss'), type: 'line', data: ep.map((e) => e.val_loss) },
        { name: 'mAP@0.5', type: 'line', yAxisIndex: 1, data: ep.map((e) => e.map50) },
      ],
    }));
  }
  return out;
}

// ---- leaderboard and waste ---------------------------------------------------------

async function leaderboard() {
  await page(t('leaderboard'), async () => {
    const lb = await get('/api/v1/leaderboard?month=' + state.month);
    const out = [h('div', { class: 'bar' }, monthPicker(() => route()))];
    if (lb.as_of) out.push(asOfLine(lb, true));
    if (lb.rows.length === 0) return out.concat(h('p', { class: 'notice', 'data-testid': 'empty' }, t('noLeaderboard')));
    const el = h('div', { class: 'chart', role: 'img', 'aria-label': t('costPerMap') });
    out.push(el, table([t('config'), t('runs'), t('map50'), t('trainHours'), t('peakMem'), t('density'), t('costPerRun'), t('costPerMap')],
      lb.rows.map((r) => [r.config, r.runs, num(r.map50), num(r.training_hours, 2), withUnit(r.peak_mem_gib, 1, 'GiB'),
        pct(r.density), money(r.cost_per_run, lb.currency), money(r.cost_per_map_point, lb.currency)]), { testid: 'leaderboard' }));
    draw(() => chart(el, {
      tooltip: { trigger: 'axis', valueFormatter: (v) => money(v, lb.currency) },
      grid: { left: 8, right: 28, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'value', axisLabel: { hideOverlap: true, formatter: (v) => compact(v) } }, yAxis: { type: 'category', data: lb.rows.map((r) => r.config), inverse: true },
      series: [{ name: t('costPerMap'), type: 'bar', data: lb.rows.map((r) => Number(r.cost_per_map_point)), color: '#3a6ea5' }],
    }));
    return out;
  }, { refresh: true });
}

async function waste() {
  const groups = can.byUser() ? ['user', 'project'] : ['department', 'project'];
  await page(t('wasteTitle'), async () => {
    const reports = await Promise.all(groups.map((by) => get(`/api/v1/reports/monthly?month=${state.month}&by=${by}&idle_gpus=0`)));
    const out = [h('div', { class: 'bar' }, monthPicker(() => route())), asOfLine(reports[0], true)];
    if (reports.every((x) => x.lines.length === 0)) return out.concat(emptyLedger());
    for (const r of reports) {
      const rows = r.lines.map((l) => ({ key: l.key, idle: l.phases_gpu_hours.idle, all: l.gpu_hours, cost: l.cost }))
        .sort((a, b) => b.idle - a.idle);
      const el = h('div', { class: 'chart small', role: 'img', 'aria-label': r.by });
      out.push(h('section', {}, h('h2', {}, t('by_' + r.by)), el, table([t('by_' + r.by), t('idleHours'), t('gpuHours'), t('idleShare'), t('cost')],
        rows.map((x) => [x.key, num(x.idle), num(x.all), pct(x.all > 0 ? x.idle / x.all : 0), money(x.cost, r.currency)]), { testid: 'waste-' + r.by })));
      draw(() => chart(el, {
        tooltip: { trigger: 'axis' },
        grid: { left: 8, right: 28, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: 'value', axisLabel: { hideOverlap: true, formatter: (v) => compact(v) } }, yAxis: { type: 'category', data: rows.slice(0, 15).map((x) => x.key), inverse: true },
        series: [{ name: t('idleHours'), type: 'bar', data: rows.slice(0, 15).map((x) => x.idle), color: '#b5533c' }],
      }));
    }
    return out;
  }, { refresh: true });
}

// ---- tokens (admin) ----------------------------------------------------------------

async function tokens() {
  await page(t('tokens'), async () => {
    const list = await get('/api/v1/tokens');
    const secret = h('div', { 'data-testid': 'secret' });
    const f = (name, label, type = 'text') => h('label', {}, label + ' ', h('input', { name, type }));
    const role = h('select', { name: 'role' }, ['user', 'dept_admin', 'finance', 'admin', 'ingest'].map((r) => h('option', { value: r }, r)));
    const form = h('form', { class: 'filters', 'data-testid': 'token-form', onsubmit: async (e) => {
      e.preventDefault();
      const body = {};
      for (const [k, v] of new FormData(e.target)) if (v) body[k] = k === 'expires_at' ? new Date(v).toISOString().replace('.000Z', 'Z') : v;
      try {
        const made = await api('POST', '/api/v1/tokens', body);
        await tokens();
        document.querySelector('[data-testid=secret]').replaceChildren(h('p', { class: 'notice' }, t('secretOnce'), ' ', h('code', { 'data-testid': 'new-secret' }, made.secret)));
      } catch (x) { secret.replaceChildren(h('p', { class: 'error' }, x.message)); }
    } },
    f('name', t('name')), h('label', {}, t('role') + ' ', role), f('project', t('project')), f('department', t('department')),
    f('owner', t('owner')), f('expires_at', t('expires'), 'datetime-local'), h('button', { type: 'submit' }, t('create')));
    const rows = list.tokens.map((k) => [k.id, k.name, k.role, k.project || k.department || '', k.owner, k.state, date(k.expires_at), date(k.last_used_at),
      k.state === 'active' ? h('button', { type: 'button', class: 'danger', 'data-revoke': k.id, onclick: async () => {
        if (!window.confirm(t('confirmRevoke'))) return;
        try { await api('DELETE', '/api/v1/tokens/' + encodeURIComponent(k.id)); await tokens(); } catch (x) { secret.replaceChildren(h('p', { class: 'error' }, x.message)); }
      } }, t('revoke')) : '']);
    return [h('h2', {}, t('createToken')), form, secret,
      table(['id', t('name'), t('role'), t('project') + '/' + t('department'), t('owner'), t('state'), t('expires'), t('lastUsed'), ''], rows, { testid: 'tokens' })];
  });
}

// ---- budgets ------------------------------------------------------------------------

// GET /api/v1/budgets confines the list as the API does (docs/BUDGETS.md); admin and
// dept_admin set and remove through PUT and DELETE with the session's CSRF token.
async function budgets(message) {
  await page(t('budgets'), async () => {
    const b = await get('/api/v1/budgets?month=' + state.month);
    const daily = await dailyBooks(b);
    const out = [h('div', { class: 'bar' }, monthPicker(() => route())), asOfLine({ as_of: b.as_of, timezone: b.timezone })];
    const msg = h('div', { 'data-testid': 'budget-msg' }, message ? h('p', { class: 'notice' }, message) : null);
    if (can.setBudget()) out.push(h('h2', {}, t('setBudget')), budgetForm(msg, b.currency), msg);
    if (b.budgets.length === 0) return out.concat(h('p', { class: 'notice', 'data-testid': 'no-budgets' }, t('noBudgets')));
    const [y, m] = b.month.split('-').map(Number);
    const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const showSetter = can.setBudget();
    const rows = b.budgets.map((x) => {
      const flag = !x.in_force ? t('notInForce')
        : x.reached_100 ? t('reached100') : x.reached_80 ? t('reached80') : x.projected_overrun ? t('overrun') : t('onTrack');
      const row = [t(x.scope + '_'), x.name, x.month === 'every' ? t('everyMonth') : x.month, money(x.amount, b.currency),
        x.in_force ? money(x.month_to_date, b.currency) : NONE, x.in_force ? pct(x.share) : NONE,
        x.in_force && x.projected ? money(x.projected, b.currency) : NONE, flag];
      if (showSetter) {
        row.push(x.set_by, date(x.set), h('button', { type: 'button', class: 'danger', 'data-remove': `${x.scope}/${x.name}/${x.month}`, onclick: async () => {
          if (!window.confirm(t('confirmRemove'))) return;
          try {
            await api('DELETE', `/api/v1/budgets?scope=${encodeURIComponent(x.scope)}&name=${encodeURIComponent(x.name)}&month=${encodeURIComponent(x.month)}`);
            await budgets();
          } catch (e) { msg.replaceChildren(h('p', { class: 'error' }, e.message)); }
        } }, t('remove')));
      }
      return row;
    });
    const head = [t('scope'), t('name'), t('month'), t('amount'), t('monthToDate'), t('share'), t('projected'), t('state')];
    if (showSetter) head.push(t('setBy'), t('setAt'), '');
    out.push(table(head, rows, { testid: 'budgets' }));
    const inForce = b.budgets.filter((v) => v.in_force);
    const straight = inForce.some((x) => !daily.get(`${x.scope}/${x.name}`));
    out.push(h('p', { class: 'help' }, t('burnHelp'), straight ? ' ' + t('burnHelpStraight') : ''));
    const charts = h('div', { class: 'burn-grid' });
    const start = zonedMonthStart(y, m, b.timezone);
    const now = Math.min(days, Math.max(0, (Date.parse(b.as_of) - start) / 86400000));
    for (const x of inForce) {
      const el = h('div', { class: 'chart small', role: 'img', 'aria-label': `${x.scope} ${x.name}` });
      const mtd = Number(x.month_to_date);
      const perDay = daily.get(`${x.scope}/${x.name}`);
      const points = perDay ? [[0, 0], ...perDay.map(([d, v]) => [Math.min(d, now), v])] : [[0, 0], [now, mtd]];
      charts.append(h('section', { 'data-burn': `${x.scope}/${x.name}`, 'data-points': points.length,
        'data-daily': perDay ? 'books' : 'straight', 'data-last': points[points.length - 1][1].toFixed(2), 'data-month-to-date': x.month_to_date },
        h('h2', {}, `${t(x.scope + '_')} ${x.name} · ${money(x.amount, b.currency)}`), el));
      draw(() => burnChart(el, x, days, now, points, b.currency));
    }
    out.push(charts);
    return out;
  });
}

// The UTC instant day d of month m of year y begins in zone tz (d past the month's end
// rolls over, as Date.UTC does).
function zonedDayStart(y, m, d, tz) {
  const guess = Date.UTC(y, m - 1, d);
  const offset = (ms) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz || 'UTC', hourCycle: 'h23', year: 'numeric', month: 'numeric',
      day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(ms)).map((q) => [q.type, q.value]));
    return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour) % 24, Number(p.minute), Number(p.second)) - ms;
  };
  return guess - offset(guess - offset(guess));
}
const zonedMonthStart = (y, m, tz) => zonedDayStart(y, m, 1, tz);
// An ISO date (YYYY-MM-DD) in the organisation's zone, and the instant it begins (or,
// with `after`, ends) as the API's RFC 3339.
function zonedDate(iso, after = false) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(zonedDayStart(y, m, d + (after ? 1 : 0), timeZone())).toISOString().replace('.000Z', 'Z');
}
// The date (YYYY-MM-DD, the organisation's zone) of an instant, or of the day before it.
function dateIn(isoTime, before = false) {
  const ms = Date.parse(isoTime) - (before ? 1 : 0);
  return new Intl.DateTimeFormat('en-CA', { timeZone: timeZone() || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

// Each budget in force's month-to-date cost at the end of every day of the month so far,
// from the books' own per-day figures: GET /api/v1/reports/range?grain=day by the
// budget's scope, each day's direct cost (no idle share, as the budget counts it)
// cumulated. Every budget the budgets API shows lies whole within the role's report
// scope (a department admin sees only projects wholly in its department, a user only its
// project's). Keyed "scope/name"; absent where the range could not be read (the line is
// then drawn straight). Each day is priced on its own, so the last point can differ from
// the month-to-date figure by rounding cents.
async function dailyBooks(b) {
  const out = new Map();
  const asOfDay = dateIn(b.as_of, true);  // the day the books' as-of falls in
  if (asOfDay.slice(0, 7) < b.month) return out;  // the month has not begun
  const [y, m] = b.month.split('-').map(Number);
  const monthDays = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const upTo = asOfDay.slice(0, 7) > b.month ? monthDays : Number(asOfDay.slice(8));
  for (const scope of ['project', 'department']) {
    const want = b.budgets.filter((x) => x.in_force && x.scope === scope);
    if (want.length === 0) continue;
    let r;
    try {
      r = await get(`/api/v1/reports/range?from=${b.month}-01&to=${b.month}-${String(upTo).padStart(2, '0')}&grain=day&by=${scope}`);
    } catch (e) { continue; }
    for (const x of want) {
      let cum = 0;
      out.set(`${x.scope}/${x.name}`, r.periods.map((p, i) => {
        const line = p.lines.find((l) => l.key === x.name);
        cum += line ? Number(line.direct_cost) : 0;
        return [i + 1, cum];
      }));
    }
  }
  return out;
}

function burnChart(el, x, days, now, points, currency) {
  const amount = Number(x.amount);
  const mtd = Number(x.month_to_date);
  const series = [
    { name: t('monthToDate'), type: 'line', data: points, color: '#2f5f8f', lineStyle: { width: 3 }, symbolSize: 4 },
    { name: t('line100'), type: 'line', data: [[0, amount], [days, amount]], color: '#a33b2b', symbol: 'none', lineStyle: { width: 1.5 } },
    { name: t('line80'), type: 'line', data: [[0, amount * 0.8], [days, amount * 0.8]], color: '#d9a441', symbol: 'none', lineStyle: { width: 1.5, type: 'dotted' } },
  ];
  if (x.projected) {
    series.push({ name: t('projected'), type: 'line', data: [[now, mtd], [days, Number(x.projected)]], color: '#2f5f8f', symbol: 'none', lineStyle: { type: 'dashed' } });
  }
  chart(el, {
    tooltip: { trigger: 'item', formatter: (p) => `${p.seriesName}: ${money(p.value[1], currency)} (${t('dayOfMonth')} ${num(p.value[0], 1)})` },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 28, top: 32, bottom: 24, containLabel: true },
    xAxis: { type: 'value', min: 0, max: days, name: t('dayOfMonth'), nameLocation: 'middle', nameGap: 22, interval: days > 20 ? 5 : 1 },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => compact(v) } },
    series,
  });
}

function budgetForm(msg, currency) {
  const me = state.me;
  const dept = me.role === 'dept_admin';
  const scope = h('select', { name: 'scope' }, ['project', 'department'].map((v) => h('option', { value: v, selected: dept && v === 'department' }, t(v + '_'))));
  const month = h('input', { name: 'month', type: 'month', value: state.month });
  const every = h('input', { name: 'every', type: 'checkbox' });
  return h('form', { class: 'filters', 'data-testid': 'budget-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { scope: f.get('scope'), name: String(f.get('name') || '').trim(), amount: String(f.get('amount') || '').trim(),
      month: f.get('every') ? 'every' : (f.get('month') || state.month) };
    try {
      await api('PUT', '/api/v1/budgets', body);
      await budgets();
    } catch (x) { msg.replaceChildren(h('p', { class: 'error', 'data-testid': 'budget-error' }, x.message)); }
  } },
  h('label', {}, t('scope') + ' ', scope),
  h('label', {}, t('name') + ' ', h('input', { name: 'name', required: true, value: dept ? me.department : '' })),
  h('label', {}, t('month') + ' ', month),
  h('label', {}, t('everyMonth') + ' ', every),
  h('label', {}, `${t('amount')} (${currency}) `, h('input', { name: 'amount', required: true, inputmode: 'decimal', placeholder: '10000.00' })),
  h('button', { type: 'submit' }, t('save')));
}

// ---- estimate (what gpuledger submit shows) -----------------------------------------

async function estimate() {
  await page(t('estimateTitle'), async () => {
    if (!can.estimate()) return errorBox(new ApiError(403, 'permission_denied', t('forbidden')));
    const result = h('div', { 'data-testid': 'estimate-result' });
    // The last request's values are kept while signed in (a language switch redraws the form).
    const last = state.estimate || {};
    const f = (name, label, value = '', type = 'text', extra = {}) =>
      h('label', {}, label + ' ', h('input', { name, type, value: last[name] !== undefined ? last[name] : value, ...extra }));
    const me = state.me;
    // A user's token names its project, not its department: the project's jobs do.
    let department = me.department || '';
    if (me.role === 'user' && !department) {
      const one = await get('/api/v1/jobs?limit=1');
      department = one.jobs.length ? one.jobs[0].department : '';
    }
    const form = h('form', { class: 'filters', 'data-testid': 'estimate-form', onsubmit: async (e) => {
      e.preventDefault();
      const v = Object.fromEntries(new FormData(e.target));
      state.estimate = { ...v, amp: undefined, amp_on: Boolean(v.amp) };
      const body = { dry_run: true };
      for (const k of ['user', 'project', 'department', 'model_type', 'image', 'dataset']) if (v[k]) body[k] = v[k].trim();
      for (const k of ['epochs', 'imgsz', 'batch', 'dataset_images']) if (v[k]) body[k] = Number(v[k]);
      if (v.gpu_model) body.gpu_request = `${v.gpu_count || 1}x${v.gpu_model.trim()}`;
      if (v.amp) body.amp = true;
      result.replaceChildren(h('p', { class: 'loading' }, t('loading')));
      try {
        result.replaceChildren(...estimateView(await api('POST', '/api/v1/submissions', body)));
      } catch (x) { result.replaceChildren(h('p', { class: 'error', 'data-testid': 'estimate-error' }, x.message)); }
    } },
    f('user', t('user'), '', 'text', { required: true }),
    f('project', t('project'), me.project || '', 'text', { required: true, readonly: me.role === 'user' || undefined }),
    f('department', t('department'), department, 'text', { required: true, readonly: me.role === 'dept_admin' || undefined }),
    f('model_type', t('model'), 'yolo11s', 'text', { required: true }), f('image', t('image'), '', 'text', { size: 40, placeholder: 'registry/yolo/train:train-yolo11-small-cu118' }),
    f('gpu_model', t('gpuModel'), 'A10G'), f('gpu_count', t('gpuCount'), '1', 'number', { min: 1, max: 64 }),
    f('epochs', t('epochs'), '100', 'number', { min: 1 }), f('imgsz', t('imgsz'), '640', 'number', { min: 32, step: 32 }),
    f('batch', t('batch'), '16', 'number', { min: -1 }), f('dataset', t('dataset')), f('dataset_images', t('datasetImages'), '', 'number', { min: 0 }),
    h('label', {}, t('amp') + ' ', h('input', { name: 'amp', type: 'checkbox', checked: Boolean(last.amp_on) })),
    h('button', { type: 'submit', 'data-testid': 'estimate-ask' }, t('ask')));
    return [form, h('p', { class: 'help' }, t('estimateOnly')), result];
  });
}

function estimateView(r) {
  const e = r.estimate || {};
  const cur = e.currency;
  const range = (x, fmt) => (!x ? NONE : x.low !== undefined ? `${fmt(x.median)} (${fmt(x.low)}–${fmt(x.high)})` : fmt(x.median));
  const m = (v) => money(v, cur);
  const out = [];
  const bp = e.best_practice;
  if (e.cost && e.cost.median) {
    out.push(h('p', { class: 'notice verdict', 'data-testid': 'verdict' }, bp ? t('verdict')(m(e.cost.median), m(bp.cost)) : t('verdictNoBest')(m(e.cost.median))));
  }
  out.push(h('div', { class: 'cards est' },
    card(t('costMedian'), e.cost ? m(e.cost.median) : NONE, 'estimate-cost'),
    card(t('costRange'), e.cost && e.cost.low !== undefined ? `${m(e.cost.low)} – ${m(e.cost.high)}` : NONE, 'estimate-range'),
    card(t('gpuHours'), range(e.gpu_hours, (v) => num(v, 1))),
    card(t('hours'), range(e.duration_hours, (v) => num(v, 1))),
    card(t('basis'), `${e.basis || NONE}${e.runs ? ' · ' + e.runs + ' ' + t('similarRuns') : ''}`, 'estimate-basis')));
  if (e.similar) out.push(h('p', { class: 'help' }, `${t('basis')}: ${e.similar}`));
  if (bp) {
    out.push(h('h2', {}, t('bestPractice')), table(
      [t('model'), t('gpuModel'), t('epochs'), t('batch'), t('imgsz'), t('amp'), t('map50'), t('cost'), t('runs'), t('scope')],
      [[bp.model_type, bp.gpu_model, bp.epochs, bp.batch, bp.imgsz, bp.amp ? '✓' : '–', `${num(bp.map50 * 100, 1)} (${num(bp.reference_map50 * 100, 1)})`, m(bp.cost), bp.runs, bp.scope]],
      { testid: 'best-practice' }));
  } else {
    out.push(h('p', { class: 'help' }, `${t('noBest')}${e.best_practice_note ? ': ' + e.best_practice_note : ''}`));
  }
  const notes = [].concat(e.notes || [], e.amp_note ? [e.amp_note] : [], r.warnings || [],
    ((r.image_tag && r.image_tag.violations) || []).map((v) => `${v.field}: ${v.message}`));
  if (notes.length) out.push(h('ul', { class: 'help' }, notes.map((n) => h('li', {}, n))));
  return out;
}

// ---- finance and variants ------------------------------------------------------------

async function finance(message) {
  await page(t('finance'), () => financeView(state.me, (m) => finance(m), message));
}

async function allocation(params) {
  if (params.month) state.month = params.month;
  const sel = { month: state.month, by: params.by || 'project', share: params.share === '1', sort: params.sort, dir: params.dir };
  await page(t('allocationTitle'), () => allocationView(state.me, sel, (next) => {
    state.month = next.month;
    location.hash = '#/allocation?' + new URLSearchParams({ month: next.month, by: next.by, share: next.share ? '1' : '0', sort: next.sort, dir: next.dir });
  }));
}

async function variants(params) {
  const sel = { by: params.by || 'image', month: params.month === undefined ? state.month : params.month, a: params.a || '', b: params.b || '' };
  await page(t('variantsTitle'), () => variantsView(sel, (next) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) q.set(k, v || '');
    location.hash = '#/variants?' + q.toString();
  }, draw));
}

// ---- routing -----------------------------------------------------------------------

async function route() {
  if (!state.me) return showLogin();
  const [path, query] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(query || ''));
  document.title = 'gpuledger';
  if (parts[0] === 'jobs' && parts[1] && can.jobs()) return jobPage(decodeURIComponent(parts[1]));
  if (parts[0] === 'jobs' && can.jobs()) return jobs(params);
  if (parts[0] === 'jobs') return page(t('jobs'), async () => errorBox(new ApiError(403, 'permission_denied', t('forbidden'))));
  if (parts[0] === 'leaderboard') return leaderboard();
  if (parts[0] === 'waste') return waste();
  if (parts[0] === 'tokens' && can.tokens()) return tokens();
  if (parts[0] === 'budgets' && can.budgets()) return budgets();
  if (parts[0] === 'finance' && can.finance()) return finance();
  if (parts[0] === 'variants' && can.variants()) return variants(params);
  if (parts[0] === 'allocation' && can.allocation()) return allocation(params);
  if (parts[0] === 'estimate') return estimate();
  return overview();
}

async function start() {
  setLang(getLang());
  window.addEventListener('hashchange', () => { if (state.me) route(); });
  if (localStorage.getItem('gl_signed_in')) {
    try {
      signedIn(await get('/api/v1/session'));
    } catch { /* the session ended: sign in again */ }
  }
  route();
}

start();
