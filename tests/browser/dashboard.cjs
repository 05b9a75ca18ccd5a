// browser_dashboard (CTest): the dashboard in headless Chromium (Debian's, driven by
// playwright-core from web/package-lock.json) against `gpuledger demo --serve`. Signs in
// as each role and checks what it sees and does not see, a stop from the job page, the
// language switch, the end of a session at its token's revocation, and CSRF; writes
// screenshots of the main pages in English and Chinese to docs/screenshots/.
// Usage: node dashboard.cjs GPULEDGER_BINARY SCREENSHOT_DIR WORK_DIR
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [bin, shots, work] = process.argv.slice(2);
const USERS = ['zhangsan', 'lisi', 'wangwu', 'zhaoliu', 'sunqi', 'zhouba', 'wujiu', 'zhengshi'];
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

function startDemo() {
  fs.mkdirSync(work, { recursive: true });
  const child = spawn(bin, ['demo', '--db', path.join(work, 'demo.db'), '--interval', '5m', '--serve', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('demo --serve printed no URL within 90 s:\n' + out)), 90000);
    child.stdout.on('data', (d) => {
      out += d;
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      const roles = ['admin', 'dept_admin', 'user', 'finance', 'ingest'];
      const tokens = {};
      for (const r of roles) {
        const m = new RegExp(`^  ${r}\\b[^\\n]*?(glt_[0-9a-f]+)$`, 'm').exec(out);
        if (m) tokens[r] = m[1];
      }
      if (url && Object.keys(tokens).length === roles.length) {
        clearTimeout(timer);
        resolve({ child, url: url[1], tokens });
      }
    });
    child.on('exit', (code) => reject(new Error(`demo exited ${code}:\n${out}`)));
  });
}

async function apiAs(base, token, method, p, body) {
  const res = await fetch(base + p.replace(/^\//, ''), {
    method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function signIn(browser, base, token, viewport = { width: 1366, height: 768 }, timezoneId = undefined) {
  const ctx = await browser.newContext({ viewport, locale: 'en-US', timezoneId });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.fill('[data-testid=token]', token);
  await page.click('[data-testid=signin]');
  await page.waitForSelector('[data-testid=who]');
  return { ctx, page };
}

async function settle(page, selector) {
  await page.waitForSelector(selector, { timeout: 20000 });
  await page.waitForTimeout(300);  // charts draw on the next frame
}

async function shot(page, name, fullPage = false) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage });
}

async function main() {
  const started = Date.now();
  const demo = await startDemo();
  const base = demo.url;
  const { tokens } = demo;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const all = await apiAs(base, tokens.admin, 'GET', '/api/v1/jobs?limit=500');
    const jobIds = all.json.jobs.map((j) => j.id);
    const ownRunning = all.json.jobs.find((j) => j.project === 'defect-detection-line3' && j.status === 'running');
    const foreign = all.json.jobs.find((j) => j.project === 'shelf-monitoring');
    check(jobIds.length > 0 && ownRunning && foreign, `demo ledger has jobs (${jobIds.length}), a running one of the user's project and another project's`);

    // The demo sets three budgets; the admin sets a fourth in the page below.
    const demoBudgets = (await apiAs(base, tokens.admin, 'GET', '/api/v1/budgets')).json.budgets.map((b) => `${b.scope}/${b.name}`).sort();
    check(demoBudgets.join(',') === 'department/manufacturing,project/defect-detection-line3,project/shelf-monitoring', `the demo ledger has three budgets (${demoBudgets})`);

    // --- admin: every page, both languages -------------------------------------------
    // The browser in New York: the page's times must still read in the ledger's zone.
    {
      const { ctx, page } = await signIn(browser, base, tokens.admin, undefined, 'America/New_York');
      const t0 = Date.now();
      await settle(page, '[data-testid=lines-department]');
      console.log(`overview rendered in ${Date.now() - t0} ms after sign-in (measured, not asserted)`);
      const text = await page.textContent('main');
      check(text.includes('manufacturing') && text.includes('retail'), 'admin overview: departments side by side');
      check(await page.isVisible('[data-testid=idle]'), 'admin overview: idle capacity by GPU model');
      check(/as of/.test(await page.textContent('[data-testid=asof]')), 'overview shows its as-of time');
      const gpusNow = (await apiAs(base, tokens.admin, 'GET', '/api/v1/gpus')).json;
      const nowTotal = await page.$$eval('[data-testid=gpus-now-counts] tbody tr:last-child td', (tds) => tds.slice(1).map((td) => Number(td.textContent)));
      check(gpusNow.gpus.length === 32 && nowTotal.reduce((a, b) => a + b, 0) === 32 && nowTotal[0] > 0,
        `overview: the 32 GPUs now by state (${nowTotal.join(' ')}: busy, idle held, idle free, no sample)`);
      const trendCols = await page.$$eval('[data-testid=trend] thead th', (ths) => ths.map((th) => th.textContent));
      check(trendCols.length === 3 && trendCols.at(-1).endsWith('*'), `overview: cost by month from the first with any cost, the last in progress (${trendCols.slice(1).join(' ')})`);
      check((await page.$$('[data-testid=share-image] tbody tr')).length > 1 && (await page.$$('[data-testid=share-framework] tbody tr')).length > 1,
        'overview: share of cost by image tag and by framework version');
      const bins = await page.$$eval('[data-testid=density-histogram] tbody tr td:nth-child(2)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
      const overviewMonth = (await apiAs(base, tokens.admin, 'GET', '/api/v1/months')).json.months.at(-1).month;
      const byJob = (await apiAs(base, tokens.admin, 'GET', `/api/v1/reports/monthly?month=${overviewMonth}&by=job&idle_gpus=0`)).json;
      const sampled = byJob.lines.filter((l) => l.density !== null).length;
      check(bins.length === 10 && bins.reduce((a, b) => a + b, 0) === sampled, `overview: the density histogram holds the month's ${sampled} sampled jobs (${bins.join(' ')})`);
      await shot(page, 'overview-en');
      await shot(page, 'overview-full-en', true);
      // A month with no usage (before the simulated cluster's): what to do next, no blank charts.
      await page.fill('[data-testid=month]', '2026-08');
      await page.dispatchEvent('[data-testid=month]', 'change');
      await settle(page, '[data-testid=empty]');
      check((await page.textContent('[data-testid=empty]')).includes('POST /api/v1/jobs') && (await page.$$('main canvas')).length === 0,
        'overview: a month without usage says what to do next instead of drawing empty charts');
      await page.fill('[data-testid=month]', overviewMonth);
      await page.dispatchEvent('[data-testid=month]', 'change');
      await settle(page, '[data-testid=lines-department]');
      await page.click('[data-testid=lang]');
      await settle(page, '[data-testid=lines-department]');
      check((await page.textContent('header')).includes('概览'), 'language switch: the page is in Chinese');
      check(/¥|CN¥|元/.test(await page.textContent('[data-testid=total-cost]')), 'amounts in the zh-CN currency format');
      await shot(page, 'overview-zh');
      for (const [hash, sel, name] of [['#/jobs', '[data-testid=jobs]', 'jobs'], ['#/leaderboard', '[data-testid=leaderboard]', 'leaderboard'],
        ['#/waste', '[data-testid=waste-user]', 'waste'], [`#/jobs/${ownRunning.id}`, '[data-testid=job-cost]', 'job']]) {
        await page.goto(base + hash);
        await settle(page, sel);
        await shot(page, name + '-zh');
      }
      await page.click('[data-testid=lang]');
      for (const [hash, sel, name] of [['#/jobs', '[data-testid=jobs]', 'jobs'], ['#/leaderboard', '[data-testid=leaderboard]', 'leaderboard'],
        ['#/waste', '[data-testid=waste-user]', 'waste'], [`#/jobs/${ownRunning.id}`, '[data-testid=job-cost]', 'job'], ['#/tokens', '[data-testid=tokens]', 'tokens']]) {
        await page.goto(base + hash);
        await settle(page, sel);
        await shot(page, name + '-en');
      }
      // Budgets: the admin sets one in the page; it shows, with its burn-down.
      await page.goto(base + '#/budgets');
      await settle(page, '[data-testid=budget-form]');
      await page.selectOption('[data-testid=budget-form] select[name=scope]', 'project');
      await page.fill('[data-testid=budget-form] input[name=name]', 'pcb-solder-qc');
      await page.fill('[data-testid=budget-form] input[name=amount]', '12000.00');
      await page.click('[data-testid=budget-form] button[type=submit]');
      await page.waitForFunction(() => (document.querySelector('[data-testid=budgets]') || {}).textContent?.includes('pcb-solder-qc'), null, { timeout: 20000 });
      const row = await page.$$eval('[data-testid=budgets] tbody tr', (trs) => trs.map((tr) => tr.textContent).find((x) => x.includes('pcb-solder-qc')));
      check(/12,000\.00/.test(row || ''), `admin sets a budget in the page; its row shows the amount (${row})`);
      const stored = (await apiAs(base, tokens.admin, 'GET', '/api/v1/budgets')).json.budgets.find((b) => b.name === 'pcb-solder-qc');
      check(stored && stored.amount === '12000.00' && stored.in_force, 'the budget set in the page is stored and in force');
      check(await page.isVisible('[data-burn="project/pcb-solder-qc"] canvas'), "the budget's burn-down chart is drawn");
      const pts = Number(await page.getAttribute('[data-burn="project/pcb-solder-qc"]', 'data-points'));
      check(pts >= 30, `admin's burn-down has a point per day of the month (${pts})`);
      const burn = await page.$eval('[data-burn="project/pcb-solder-qc"]', (e) => ({ daily: e.dataset.daily, last: Number(e.dataset.last), mtd: Number(e.dataset.monthToDate) }));
      check(burn.daily === 'books' && burn.mtd > 0 && Math.abs(burn.last - burn.mtd) <= 0.01 * pts,
        `the burn-down's days are the books' per-day figures and add up to the month-to-date within rounding (${JSON.stringify(burn)})`);
      await page.waitForTimeout(300);
      await shot(page, 'budgets-en');
      // Estimate: the API's dry run on the demo ledger answers the "45 vs 28" question.
      await page.goto(base + '#/estimate');
      await settle(page, '[data-testid=estimate-form]');
      for (const [k, v] of [['user', 'zhangsan'], ['project', 'pcb-solder-qc'], ['department', 'manufacturing'], ['model_type', 'yolo11s'],
        ['image', 'registry.local/yolo/train:train-yolo11-small-cu118'], ['gpu_model', 'A10G'], ['gpu_count', '1'], ['epochs', '100'], ['imgsz', '640']]) {
        await page.fill(`[data-testid=estimate-form] input[name=${k}]`, v);
      }
      const jobsBefore = (await apiAs(base, tokens.admin, 'GET', '/api/v1/jobs?limit=1')).json.total;
      await page.click('[data-testid=estimate-ask]');
      await settle(page, '[data-testid=verdict], [data-testid=estimate-error]');
      const verdict = await page.textContent('[data-testid=estimate-result]');
      check(/expected to cost CN¥[\d,.]+; the best similar practice in history cost CN¥[\d,.]+/.test(verdict), `estimate form: cost and best practice (${verdict.slice(0, 140)})`);
      check(/CN¥[\d,.]+ – CN¥[\d,.]+/.test(await page.textContent('[data-testid=estimate-range]')), 'estimate form: the P10–P90 cost range');
      check((await page.textContent('[data-testid=estimate-basis]')).includes('history'), 'estimate form: its basis (history)');
      check(await page.isVisible('[data-testid=best-practice]'), 'estimate form: the best similar run');
      const jobsAfter = (await apiAs(base, tokens.admin, 'GET', '/api/v1/jobs?limit=1')).json.total;
      check(jobsBefore === jobsAfter, `the dry run registers no job (${jobsBefore} → ${jobsAfter})`);
      await shot(page, 'estimate-en');
      await page.click('[data-testid=lang]');
      await settle(page, '[data-testid=estimate-form]');
      await page.click('[data-testid=estimate-ask]');
      await settle(page, '[data-testid=verdict]');
      check(/当前配置预计消耗.*历史同类任务最佳实践为/.test(await page.textContent('[data-testid=verdict]')), 'estimate form in Chinese');
      await shot(page, 'estimate-zh');
      await page.goto(base + '#/budgets');
      await settle(page, '[data-testid=budgets]');
      await shot(page, 'budgets-zh');
      await page.click('[data-testid=lang]');
      // Time zone: the job page's chart times read in the ledger's zone, not the browser's.
      await page.goto(base + '#/jobs/' + ownRunning.id);
      await settle(page, '[data-testid=series-span]');
      const series = (await apiAs(base, tokens.admin, 'GET', '/api/v1/series?job=' + ownRunning.id)).json.series;
      const first = Math.min(...series.map((p) => p.values[0][0]));
      const span = await page.textContent('[data-testid=series-span]');
      const hm = /(\d{1,2}):(\d{2})/.exec(span);
      const sh = (new Date(first).getUTCHours() + 8) % 24;
      const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
      check(zone === 'America/New_York' && hm && Number(hm[1]) === sh && span.includes('Asia/Shanghai'),
        `job page chart times in the ledger's zone (Asia/Shanghai hour ${sh}) with the browser in ${zone}: ${span}`);
      const lastT = Math.max(...series.map((p) => p.values[p.values.length - 1][0]));
      const box = await page.$('section .chart.small');
      await box.scrollIntoViewIfNeeded();
      const bb = await box.boundingBox();
      await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2);
      await page.waitForTimeout(400);
      const tip = await box.evaluate((el) => [...el.querySelectorAll('div')].map((d) => d.textContent).find((x) => /\d:\d\d/.test(x)) || '');
      const th = /(\d{1,2}):(\d{2})/.exec(tip);
      const shLast = (new Date(lastT).getUTCHours() + 8) % 24;
      check(th && Number(th[1]) >= sh && Number(th[1]) <= shLast, `the job chart's tooltip time reads in Asia/Shanghai (${tip.slice(0, 40)}; samples ${sh}h–${shLast}h there)`);
      await page.goto(base + '#/tokens');
      await settle(page, '[data-testid=tokens]');
      check((await page.textContent('header')).includes('Overview'), 'language switch: back to English');
      // A token made in the page is shown once.
      await page.fill('[data-testid=token-form] input[name=name]', 'browser test');
      await page.selectOption('[data-testid=token-form] select[name=role]', 'user');
      await page.fill('[data-testid=token-form] input[name=project]', 'pcb-solder-qc');
      await page.click('[data-testid=token-form] button[type=submit]');
      await settle(page, '[data-testid=new-secret]');
      const secret = (await page.textContent('[data-testid=new-secret]')).trim();
      check(/^glt_[0-9a-f]{64}$/.test(secret), 'admin creates a token in the page; its secret is shown');

      // The new token signs in; revoking it in the admin's page ends that session.
      const other = await signIn(browser, base, secret);
      check((await other.page.textContent('[data-testid=who]')).includes('pcb-solder-qc'), 'the new token signs in as its project');
      const id = (await apiAs(base, tokens.admin, 'GET', '/api/v1/tokens')).json.tokens.find((k) => k.name === 'browser test').id;
      page.once('dialog', (d) => d.accept());
      await page.click(`[data-revoke="${id}"]`);
      await page.waitForFunction((tid) => !document.querySelector(`[data-revoke="${tid}"]`), id);
      await other.page.goto(base + '#/jobs');
      await other.page.reload();
      await other.page.waitForSelector('[data-testid=token]');
      check(true, 'session ends on token revoke: the page asks to sign in again');
      const after = await other.page.evaluate(async () => (await fetch('/api/v1/session')).status);
      check(after === 401, `the revoked token's session answers 401 (got ${after})`);
      await other.ctx.close();

      // Jobs: filtered by GPU model and a date range (days in the ledger's zone).
      await page.goto(base + '#/jobs');
      await settle(page, '[data-testid=jobs]');
      await page.fill('form.filters input[name=gpu_model]', 'A100-SXM4-80GB');
      await page.fill('form.filters input[name=from]', '2026-10-30');
      await page.fill('form.filters input[name=to]', '2026-10-31');
      await page.click('form.filters button[type=submit]');
      await page.waitForFunction(() => location.hash.includes('from='));
      await settle(page, '[data-testid=jobs], [data-testid=no-jobs]');
      const gpuCells = await page.$$eval('[data-testid=jobs] tbody tr td:nth-child(6)', (tds) => tds.map((td) => td.textContent));
      const hash = decodeURIComponent(await page.evaluate(() => location.hash));
      check(gpuCells.length > 0 && gpuCells.every((c) => c.includes('A100')) && hash.includes('from=2026-10-29T16:00:00Z') && hash.includes('to=2026-10-31T16:00:00Z'),
        `jobs: filtered by GPU model and two days in Asia/Shanghai (${gpuCells.length} rows, ${hash})`);
      check((await page.inputValue('form.filters input[name=to]')) === '2026-10-31', 'jobs: the filter shows the last day it includes');

      // Variants: the comparison by framework, two versions side by side.
      const cmp = (await apiAs(base, tokens.admin, 'GET', '/api/v1/compare?by=framework')).json;
      await page.goto(base + '#/variants');
      await settle(page, '[data-testid=variants]');
      check((await page.$$('[data-testid=variants] tbody tr')).length > 1 && (await page.textContent('[data-testid=variants]')).includes('train-'),
        'variants: image tags compared, with their cost share');
      check(await page.isVisible('[data-testid=trends]'), 'variants: behaviour over the months per project');
      const keys = (cmp && cmp.rows || []).map((r) => r.key).sort();
      const older = keys.find((k) => k.endsWith('8.0.120'));
      const newer = keys.find((k) => k.endsWith('8.0.200'));
      await page.goto(base + `#/variants?by=framework&a=${encodeURIComponent(older)}&b=${encodeURIComponent(newer)}`);
      await settle(page, '[data-testid=side-by-side]');
      const rel = await page.textContent('[data-testid=b-vs-a]');
      check(older && newer && /0\.\d\d/.test(rel) && (await page.textContent('[data-testid=side-by-side]')).includes('faster'),
        `variants: ${newer} beside ${older}, its epoch time a fraction of the older's (${rel.trim()})`);
      await shot(page, 'variants-en');

      // Allocation table: by GPU model with idle sharing; the total is the report's; sorting.
      await page.goto(base + '#/allocation?by=gpu-model&share=1');
      await settle(page, '[data-testid=allocation]');
      const current = (await apiAs(base, tokens.admin, 'GET', '/api/v1/months')).json.months.at(-1).month;
      const shared = (await apiAs(base, tokens.admin, 'GET', `/api/v1/reports/monthly?month=${current}&by=gpu-model&share_idle=true&idle_gpus=0`)).json;
      // The month is in progress and the clock runs on: the page's figures are its own
      // as-of's, so the rows are checked against its total (to the cent), and the lines
      // against the API's count.
      const cents = (txt) => Math.round(Number(txt.replace(/[^0-9.-]/g, '')) * 100);
      const costs = await page.$$eval('[data-testid=allocation] tbody tr', (trs) => trs.map((tr) => [tr.className, tr.children[10].textContent]));
      const rowsSum = costs.filter(([c]) => c !== 'total').reduce((a, [, v]) => a + cents(v), 0);
      const totalCents = cents(costs.find(([c]) => c === 'total')[1]);
      check(rowsSum === totalCents && costs.filter(([c]) => c === '').length === shared.lines.length,
        `allocation: ${shared.lines.length} GPU models with idle shared; its rows sum to its total (${rowsSum} = ${totalCents} cents)`);
      await page.click('[data-sort=gpu_hours]');
      const sorted = await page.getAttribute('[data-testid=allocation]', 'data-sorted');
      const hours = await page.$$eval('[data-testid=allocation] tbody tr:not(.other):not(.total) td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
      check(sorted === 'gpu_hours:desc' && hours.every((v, i) => i === 0 || hours[i - 1] >= v), `allocation: sorted by GPU-hours (${hours.join(' ')})`);
      const exp = await page.getAttribute('[data-testid=allocation-exports] a[data-format=csv]', 'href');
      check(/by=gpu-model/.test(exp) && /share_idle=true/.test(exp), `allocation: its export link keeps the grouping (${exp})`);
      await shot(page, 'allocation-en');

      // Finance as admin: close last month in the page, then reopen it with a reason.
      await page.goto(base + '#/finance');
      await settle(page, '[data-testid=months]');
      const months = (await apiAs(base, tokens.admin, 'GET', '/api/v1/months')).json.months;
      const last = months[months.length - 2].month;
      const now = months[months.length - 1].month;
      check(await page.isDisabled(`[data-close="${now}"]`), `finance: the month in progress (${now}) cannot be closed`);
      page.once('dialog', (d) => d.accept());
      await page.click(`[data-close="${last}"]`);
      await page.waitForSelector(`[data-reopen="${last}"]`, { timeout: 30000 });
      const closed = (await apiAs(base, tokens.admin, 'GET', '/api/v1/months')).json.months.find((m) => m.month === last);
      check(closed.state === 'closed' && /^[0-9a-f]{64}$/.test(closed.checksum) && (await page.textContent('[data-testid=finance-msg]')).includes(last),
        `admin closes ${last} in the page: frozen at ${closed.total} with its checksum`);
      await shot(page, 'finance-en');
      page.once('dialog', (d) => d.accept('a late invoice correction'));
      await page.click(`[data-reopen="${last}"]`);
      await page.waitForSelector(`[data-close="${last}"]`, { timeout: 30000 });
      const reopened = (await apiAs(base, tokens.admin, 'GET', '/api/v1/months')).json.months.find((m) => m.month === last);
      check(reopened.state === 'reopened' && reopened.reopen_reason === 'a late invoice correction', `admin reopens ${last} with its reason (${reopened.state})`);

      // Job page: advice and per-GPU figures; a running job paused and resumed by hand.
      // A run that began before the served clock (without --live the ledger also holds the
      // month's last hour, in which one more run starts).
      const begun = (j) => j.start && Date.parse(j.start) < Date.parse('2026-10-31T15:00:00Z');
      const other2 = all.json.jobs.find((j) => j.status === 'running' && begun(j) && j.project !== 'defect-detection-line3');
      await page.goto(base + '#/jobs/' + encodeURIComponent(other2.id));
      await settle(page, '[data-testid=pause]');
      check((await page.$$('[data-testid=per-gpu] tbody tr')).length > 0 && await page.isVisible('[data-testid=phases]'), 'job page: per-GPU figures and phases');
      const shaded = Number(await page.getAttribute('[data-phases]', 'data-phases'));
      const rep = (await apiAs(base, tokens.admin, 'GET', `/api/v1/jobs/${other2.id}/report`)).json.phases;
      const want = (rep.loading_gpu_hours > 0 ? 1 : 0) + (rep.tail_gpu_hours > 0 ? 1 : 0);
      check(shaded <= want, `job page: the utilisation chart shades only the phases its report has (${shaded} of ${want})`);
      let loadingJob = null;
      for (const j of all.json.jobs.filter((x) => x.status === 'running' && begun(x))) {
        const r = (await apiAs(base, tokens.admin, 'GET', `/api/v1/jobs/${j.id}/report`)).json;
        if (r.phases.loading_gpu_hours > 0) { loadingJob = j.id; break; }
      }
      if (loadingJob) {
        await page.goto(base + '#/jobs/' + encodeURIComponent(loadingJob));
        await settle(page, '[data-phases]');
        check(Number(await page.getAttribute('[data-phases]', 'data-phases')) >= 1, `job page: ${loadingJob}'s loading phase is shaded on its utilisation chart`);
        await page.goto(base + '#/jobs/' + encodeURIComponent(other2.id));
        await settle(page, '[data-testid=pause]');
      } else {
        check(false, 'the demo has a running job with a loading phase to shade');
      }
      check(await page.isVisible('[data-testid=advice], [data-testid=no-advice]'), 'job page: the advice section');
      page.once('dialog', (d) => d.accept('browser test pause'));
      await page.click('[data-testid=pause]');
      await settle(page, '[data-testid=resume]');
      const pol = (await apiAs(base, tokens.admin, 'GET', `/api/v1/jobs/${other2.id}/decisions`)).json;
      check(pol.paused_now && pol.decisions.some((d) => d.rule === 'manual' && d.data.reason === 'browser test pause') &&
        (await page.textContent('[data-testid=decisions]')).includes('manual'), 'admin pauses a running job from its page: a manual decision, paused now');
      check(await page.getAttribute('[data-testid=paused-line]', 'data-billing') === 'billedUntilStop',
        'a cooperative pause of a running job reads as billed until its trainer ends the run');
      check((await page.textContent('[data-testid=pauses] tbody tr:last-child')).includes('when the run ends'),
        "its GPUs are freed when the run ends, not when the pause is asked");
      await shot(page, 'job-paused-en');
      await shot(page, 'job-full-en', true);
      await page.click('[data-testid=resume]');
      await page.waitForFunction(() => !document.querySelector('[data-testid=resume]') || document.querySelector('[data-testid=pause-result]')?.textContent, null, { timeout: 20000 });
      const pol2 = (await apiAs(base, tokens.admin, 'GET', `/api/v1/jobs/${other2.id}/decisions`)).json;
      check(pol2.paused.length === 1 && pol2.paused[0].resumed, `the pause is resumed from the page (${JSON.stringify(pol2.paused[0])})`);
      // The newer pages in Chinese too.
      await page.click('[data-testid=lang]');
      for (const [hash, sel, name] of [['#/finance', '[data-testid=months]', 'finance'], ['#/allocation', '[data-testid=allocation]', 'allocation'],
        ['#/variants', '[data-testid=variants]', 'variants'], [`#/jobs/${other2.id}`, '[data-testid=per-gpu]', 'job-report']]) {
        await page.goto(base + hash);
        await settle(page, sel);
        await shot(page, name + '-zh', name === 'job-report');
      }
      check((await page.textContent('header')).includes('财务') && (await page.textContent('main')).includes('建议'), 'the finance tab and the advice in Chinese');
      await page.click('[data-testid=lang]');
      await ctx.close();
    }

    // --- finance: summary amounts only -------------------------------------------------
    {
      const { ctx, page } = await signIn(browser, base, tokens.finance);
      await settle(page, '[data-testid=lines-department]');
      check(!(await page.isVisible('[data-nav=jobs]')), 'finance: no jobs tab');
      check(await page.isVisible('[data-testid=trend]') && !(await page.isVisible('[data-testid=density-histogram]')), 'finance: the trend, no job histogram');
      check(await page.isVisible('[data-testid=gpus-now]') && (await page.$$('[data-testid=gpus-now] a')).length === 0, 'finance: the GPUs now, with no job named');
      let seen = '';
      for (const [hash, sel] of [['#/overview', '[data-testid=lines-project]'], ['#/leaderboard', '[data-testid=leaderboard]'], ['#/budgets', '[data-testid=budgets]'], ['#/waste', '[data-testid=waste-project]'],
        ['#/variants', '[data-testid=variants]'], ['#/finance', '[data-testid=months]'], ['#/allocation?by=department', '[data-testid=allocation]']]) {
        await page.goto(base + hash);
        await settle(page, sel);
        seen += await page.content();
      }
      await page.goto(base + '#/allocation');
      await settle(page, '[data-testid=allocation]');
      const dims = await page.$$eval('[data-testid=allocation-form] select[name=by] option', (os) => os.map((o) => o.value));
      check(!dims.includes('user') && !dims.includes('job') && dims.includes('project'), `finance: the allocation table groups by no user or job (${dims})`);
      await page.goto(base + '#/finance');
      await settle(page, '[data-testid=months]');
      check((await page.$$('[data-close], [data-reopen]')).length === 0 && await page.isChecked('[data-testid=desensitised]'),
        'finance: the months and their downloads, no close or reopen, always desensitised');
      // Its downloads, fetched as the page's links fetch them (the session cookie).
      const hrefs = await page.$$eval('[data-testid^=dl-] a', (as) => as.map((a) => a.getAttribute('href')));
      const xlsx = hrefs.find((x) => /format=xlsx/.test(x));
      const got = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]; }, xlsx);
      check(got[0] === 200 && /spreadsheetml/.test(got[1]) && got[2] > 1000, `finance: the workbook link downloads (${got.join(' ')})`);
      for (const f of ['focus', 'csv']) {
        const u = hrefs.find((x) => x.includes('format=' + f));
        seen += await page.evaluate(async (v) => (await fetch(v)).text(), u);
      }
      await page.fill('[data-testid=range-form] input[name=from]', '2026-10-01');
      await page.fill('[data-testid=range-form] input[name=to]', '2026-10-07');
      await page.selectOption('[data-testid=range-form] select[name=grain]', 'day');
      await page.click('[data-testid=range-form] button[type=submit]');
      await settle(page, '[data-testid=dl-range]');
      const ru = await page.getAttribute('[data-testid=dl-range] a[data-format=csv]', 'href');
      const rbody = await page.evaluate(async (v) => { const r = await fetch(v); return [r.status, await r.text()]; }, ru);
      check(rbody[0] === 200 && rbody[1].includes('2026-10-07'), `finance: a range's download by day (${ru})`);
      seen += rbody[1];
      await shot(page, 'finance-months-en');
      await page.goto(base + '#/waste');
      await settle(page, '[data-testid=waste-project]');
      await shot(page, 'finance-waste-en');
      await page.goto(base + '#/budgets');
      await settle(page, '[data-testid=budgets]');
      const fb = await page.textContent('[data-testid=budgets]');
      check(fb.includes('pcb-solder-qc') && fb.includes('manufacturing') && !(await page.isVisible('[data-testid=budget-form]')) &&
        (await page.$$('[data-remove]')).length === 0, 'finance: the budgets list, no form, no remove');
      const fburn = await page.$eval('[data-burn="department/manufacturing"]', (e) => ({ daily: e.dataset.daily, points: Number(e.dataset.points), last: Number(e.dataset.last), mtd: Number(e.dataset.monthToDate) }));
      check(fburn.daily === 'books' && fburn.points >= 30 && Math.abs(fburn.last - fburn.mtd) <= 0.01 * fburn.points,
        `finance: the department's burn-down per day from the books, reconciling to its month-to-date (${JSON.stringify(fburn)})`);
      await shot(page, 'finance-budgets-en');
      const leakedUser = USERS.filter((u) => seen.includes(u));
      const leakedJob = jobIds.filter((j) => seen.includes(j));
      check(leakedUser.length === 0, `finance pages name no user (${leakedUser.join(',')})`);
      check(leakedJob.length === 0, `finance pages name no job (${leakedJob.slice(0, 3).join(',')})`);
      await page.goto(base + '#/jobs/' + ownRunning.id);
      await settle(page, '[data-testid=forbidden]');
      check(true, 'finance: a job page by URL is refused');
      const list = await page.evaluate(async () => (await fetch('/api/v1/jobs')).status);
      check(list === 403, `finance: GET /api/v1/jobs with the session is 403 (got ${list})`);
      await ctx.close();
    }

    // --- dept_admin: its department's projects side by side ---------------------------
    {
      const { ctx, page } = await signIn(browser, base, tokens.dept_admin);
      await settle(page, '[data-testid=lines-project]');
      const text = await page.textContent('[data-testid=lines-project]');
      check(text.includes('defect-detection-line3') && text.includes('pcb-solder-qc') && !text.includes('shelf-monitoring'),
        "dept_admin overview: its department's projects only");
      await shot(page, 'overview-dept-admin-en');
      await page.goto(base + '#/budgets');
      await settle(page, '[data-testid=budgets]');
      const db = await page.textContent('[data-testid=budgets]');
      check(db.includes('manufacturing') && db.includes('pcb-solder-qc') && !db.includes('shelf-monitoring'), "dept_admin: its department's budgets only");
      check((await page.inputValue('[data-testid=budget-form] input[name=name]')) === 'manufacturing', 'dept_admin: the form starts at its department');
      page.once('dialog', (d) => d.accept());
      await page.click('[data-remove="project/pcb-solder-qc/' + (await apiAs(base, tokens.admin, 'GET', '/api/v1/budgets')).json.month + '"]');
      await page.waitForFunction(() => !document.querySelector('[data-testid=budgets]')?.textContent.includes('pcb-solder-qc'), null, { timeout: 20000 });
      check(!(await apiAs(base, tokens.admin, 'GET', '/api/v1/budgets')).json.budgets.some((b) => b.name === 'pcb-solder-qc'), 'dept_admin removes a budget of a project in its department');
      await ctx.close();
    }

    // --- user: its project; another's job page is not found; stop reaches the run -----
    {
      const { ctx, page } = await signIn(browser, base, tokens.user);
      await page.goto(base + '#/jobs');
      await settle(page, '[data-testid=jobs]');
      const rows = await page.$$eval('[data-testid=jobs] tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
      check(rows.length > 0 && rows.every((p) => p === 'defect-detection-line3'), `user: jobs of its project only (${rows.length} rows)`);
      await page.goto(base + '#/jobs/' + encodeURIComponent(foreign.id));
      await settle(page, '[data-testid=not-found]');
      check(true, "user: another project's job page by URL is not found");
      await page.goto(base + '#/jobs/' + encodeURIComponent(ownRunning.id));
      await settle(page, '[data-testid=stop]');
      await page.click('[data-testid=stop]');
      await page.waitForFunction(() => document.querySelector('[data-testid=stop-result]').textContent.length > 0);
      check((await page.textContent('[data-testid=stop-result]')).includes('Stop requested'), 'user: stop from the job page accepted');
      const run = await apiAs(base, tokens.ingest, 'POST', `/api/v1/jobs/${ownRunning.id}/progress`, { epochs: [] });
      check(run.status === 200 && run.json.stop === true, `the run's next progress report is told to stop (${JSON.stringify(run.json)})`);
      const csrf = await page.evaluate(async (id) => (await fetch(`/api/v1/jobs/${id}/stop`, { method: 'POST' })).status, ownRunning.id);
      check(csrf === 403, `a state change with the cookie but no CSRF token is refused (got ${csrf})`);
      // The estimate form: the user's own project (fixed), its department from its jobs.
      await page.goto(base + '#/estimate');
      await settle(page, '[data-testid=estimate-form]');
      check(await page.getAttribute('[data-testid=estimate-form] input[name=project]', 'readonly') !== null &&
        (await page.inputValue('[data-testid=estimate-form] input[name=department]')) === 'manufacturing', "user: the estimate form starts at its project and department");
      await page.fill('[data-testid=estimate-form] input[name=user]', 'lisi');
      await page.fill('[data-testid=estimate-form] input[name=image]', 'registry.local/yolo/train:train-yolo11-small-cu118');
      const before = (await apiAs(base, tokens.admin, 'GET', '/api/v1/jobs?limit=1')).json.total;
      await page.click('[data-testid=estimate-ask]');
      await settle(page, '[data-testid=verdict], [data-testid=estimate-error]');
      const said = await page.textContent('[data-testid=estimate-result]');
      check(/expected to cost CN¥[\d,.]+/.test(said), `user: the estimate form answers for its project (${said.slice(0, 160)})`);
      check((await apiAs(base, tokens.admin, 'GET', '/api/v1/jobs?limit=1')).json.total === before, "user: the estimate registers no job");
      await ctx.close();
      // Live: a running job's page is read again on its own (every 30 s; 1.5 s here) and
      // its as-of moves on with the server's clock.
      {
        const live = await signIn(browser, base, tokens.user);
        await live.page.evaluate(() => localStorage.setItem('gl_refresh_ms', '1500'));
        await live.page.reload();
        await live.page.waitForSelector('[data-testid=who]');
        await live.page.goto(base + '#/jobs/' + encodeURIComponent(ownRunning.id));
        await settle(live.page, '[data-testid=asof][data-partial]');
        const first = await live.page.getAttribute('[data-testid=asof]', 'data-as-of');
        await live.page.waitForFunction((a) => document.querySelector('[data-testid=asof]')?.getAttribute('data-as-of') !== a, first, { timeout: 15000 });
        const later = await live.page.getAttribute('[data-testid=asof]', 'data-as-of');
        check(Date.parse(later) > Date.parse(first) && await live.page.isVisible('[data-testid=job-cost]'), `a running job's page refreshes on its own (as of ${first} → ${later})`);
        await live.ctx.close();
      }
      const phone = await signIn(browser, base, tokens.user, { width: 390, height: 844 });
      await settle(phone.page, '[data-testid=lines-project]');
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `phone width: no sideways scrolling of the page (${overflow} px)`);
      await shot(phone.page, 'overview-phone-en');
      await phone.page.goto(base + '#/budgets');
      await settle(phone.page, '[data-testid=budgets]');
      const ub = await phone.page.$$eval('[data-testid=budgets] tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      check(ub.join(',') === 'defect-detection-line3' && !(await phone.page.isVisible('[data-testid=budget-form]')), `user: its project's budget only, no form (${ub})`);
      const overflowBudgets = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflowBudgets <= 0, `phone width: the budgets page does not scroll sideways (${overflowBudgets} px)`);
      await shot(phone.page, 'budgets-phone-en');
      await phone.ctx.close();
    }
  } finally {
    await browser.close();
    demo.child.kill('SIGTERM');
  }
  console.log(`browser_dashboard: ${failures} failure(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
