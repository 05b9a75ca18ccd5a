// The dashboard's API calls on the demo ledger (issue #15, "Must show": p99 within 100 ms):
// starts `gpuledger demo --serve` (32 GPUs, 60 s samples, two months), then asks every
// read the pages make, as each page makes it, ROUNDS times one after another (after one
// untimed warm-up call each), with the admin's token (the widest scope: the slowest
// answers). Prints p50, p99 and the largest time per call and over all calls.
// No writes arrive meanwhile: bench/live_read.sh measures reads under ingest.
// Usage: node bench/dashboard_api.cjs [GPULEDGER_BINARY] [ROUNDS, default 100]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = process.argv[2] || ['build/release/gpuledger', 'build/dev/gpuledger'].find((p) => fs.existsSync(p));
const rounds = Number(process.argv[3] || 100);

function startDemo(work) {
  const child = spawn(bin, ['demo', '--db', path.join(work, 'demo.db'), '--serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      const admin = /^  admin\b[^\n]*?(glt_[0-9a-f]+)$/m.exec(out);
      if (url && admin) resolve({ child, base: url[1].replace(/\/$/, ''), token: admin[1] });
    });
    child.on('exit', (code) => reject(new Error(`demo exited ${code}:\n${out}`)));
  });
}

const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-dash-bench-'));
  const demo = await startDemo(work);
  const auth = { Authorization: 'Bearer ' + demo.token };
  const ask = async (p) => {
    const t0 = process.hrtime.bigint();
    const res = await fetch(demo.base + p, { headers: auth });
    await res.arrayBuffer();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!res.ok) throw new Error(`${p}: ${res.status}`);
    return ms;
  };
  try {
    const month = (await (await fetch(demo.base + '/api/v1/months', { headers: auth })).json()).months.at(-1).month;
    const jobs = (await (await fetch(`${demo.base}/api/v1/jobs?month=${month}&limit=500`, { headers: auth })).json()).jobs;
    const job = jobs.find((j) => j.status === 'running') || jobs[0];
    const id = encodeURIComponent(job.id);
    const calls = [
      ['overview', `/api/v1/reports/monthly?month=${month}&by=department&idle_gpus=0`],
      ['overview', `/api/v1/reports/monthly?month=${month}&by=project&idle_gpus=0`],
      ['overview', `/api/v1/reports/range?from=2026-05&to=${month}&grain=month&by=department`],
      ['overview', `/api/v1/reports/monthly?month=${month}&by=image&idle_gpus=0`],
      ['overview', `/api/v1/reports/monthly?month=${month}&by=framework&idle_gpus=0`],
      ['overview', `/api/v1/reports/monthly?month=${month}&by=job&idle_gpus=0`],
      ['jobs', `/api/v1/jobs?month=${month}&limit=50`],
      ['jobs', `/api/v1/jobs?from=2026-10-29T16:00:00Z&to=2026-10-31T16:00:00Z&gpu_model=A10G&limit=50`],
      ['job', `/api/v1/jobs/${id}`],
      ['job', `/api/v1/series?job=${id}`],
      ['job', `/api/v1/jobs/${id}/progress`],
      ['job', `/api/v1/jobs/${id}/report?lang=en`],
      ['allocation', `/api/v1/reports/monthly?month=${month}&by=gpu-model&share_idle=true&idle_gpus=0`],
      ['leaderboard', `/api/v1/leaderboard?month=${month}`],
      ['waste', `/api/v1/reports/monthly?month=${month}&by=user&idle_gpus=0`],
      ['variants', `/api/v1/compare?by=image&month=${month}`],
      ['variants', '/api/v1/trends'],
      ['budgets', `/api/v1/budgets?month=${month}`],
      ['budgets', `/api/v1/jobs?month=${month}&limit=500`],
      ['finance', '/api/v1/months'],
      ['tokens', '/api/v1/tokens'],
    ];
    const all = [];
    console.log(`${bin}: the demo ledger (${month}; ${jobs.length} of its jobs listed; the job page's job ${job.id}), ${rounds} rounds per call, ${os.cpus().length} CPUs`);
    console.log(`${'page'.padEnd(11)} ${'call'.padEnd(72)}  p50 ms   p99 ms   max ms`);
    for (const [pageName, p] of calls) {
      await ask(p);  // warm-up: the month's books are built once
      const times = [];
      for (let i = 0; i < rounds; i++) times.push(await ask(p));
      times.sort((a, b) => a - b);
      all.push(...times);
      const shown = p.replace(job.id, '{id}').replace(`month=${month}`, 'month=M');
      console.log(`${pageName.padEnd(11)} ${shown.padEnd(72)} ${quantile(times, 0.5).toFixed(1).padStart(7)}  ${quantile(times, 0.99).toFixed(1).padStart(7)}  ${times.at(-1).toFixed(1).padStart(7)}`);
    }
    all.sort((a, b) => a - b);
    console.log(`all ${all.length} calls: p50 ${quantile(all, 0.5).toFixed(1)} ms, p99 ${quantile(all, 0.99).toFixed(1)} ms, max ${all.at(-1).toFixed(1)} ms (goal: p99 within 100 ms)`);
  } finally {
    demo.child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
