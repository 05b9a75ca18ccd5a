// The job page's policy part (decisions, pauses, the pause and resume buttons; the
// "policy" of GET /api/v1/jobs/{id}, docs/POLICIES.md) and its efficiency report (advice,
// phases and per-GPU figures of GET /api/v1/jobs/{id}/report, docs/JOB_REPORT.md).
import { api } from './api.js';
import { t, num, pct, date, withUnit, NONE } from './i18n.js';
import { h, table } from './dom.js';

const seconds = (s) => (s >= 3600 ? `${num(s / 3600, 1)} h` : `${num(s / 60, 0)} min`);

// j: the job view; mayAct: the role may pause and resume it; reload(message): redraw.
export function policySection(j, mayAct, reload) {
  const p = j.policy || { decisions: [], paused: [], paused_now: false, paused_s: 0 };
  const id = j.id;
  const msg = h('span', { class: 'help', 'data-testid': 'pause-result' });
  const out = [h('h2', {}, t('policyTitle'))];
  const act = async (e, verb, body) => {
    e.target.disabled = true;
    try {
      const r = await api('POST', `/api/v1/jobs/${encodeURIComponent(id)}/${verb}`, body);
      await reload(verb === 'pause' ? t('pausedMsg')(r.mode) : t('resumedMsg'));
    } catch (x) { msg.textContent = x.message; e.target.disabled = false; }
  };
  if (mayAct && p.paused_now) {
    out.push(h('p', {}, h('button', { type: 'button', 'data-testid': 'resume', onclick: (e) => act(e, 'resume') }, t('resume')), ' ', msg));
  } else if (mayAct && j.status === 'running') {
    out.push(h('p', {}, h('button', { type: 'button', class: 'danger', 'data-testid': 'pause', onclick: (e) => {
      const reason = window.prompt(t('pauseReason'), t('pauseDefault'));
      if (reason !== null) act(e, 'pause', reason.trim() ? { reason: reason.trim() } : undefined);
    } }, t('pause')), ' ', msg));
  }
  // Whether the open pause's time is billed (docs/POLICIES.md "Paused time on the books"):
  // a cooperative pause frees the GPUs only when the trainer ends the run at its next
  // checkpoint, so while the job still runs it is billed; a launcher's pause that freed
  // the GPUs is not; one that holds them (Docker pause, Slurm suspend) is.
  const open = p.paused.find((x) => !x.resumed);
  const billing = !open ? 'notBilled' : open.mode === 'cooperative' && j.status === 'running' ? 'billedUntilStop'
    : open.gpus_freed ? 'notBilled' : 'heldBilled';
  out.push(h('p', { class: 'help', 'data-testid': 'paused-line', 'data-billing': p.paused_now ? billing : undefined }, p.paused_now
    ? t('pausedNow')(seconds(p.paused_s), p.resume_command || NONE, t(billing)) : t('pausedTotal')(seconds(p.paused_s), p.paused.length)));
  if (p.paused.length) {
    out.push(table([t('pausedAt'), t('mode'), t('gpusFreed'), t('resumedAt'), t('resumeCommand')],
      p.paused.map((x) => [date(x.paused), x.mode,
        // A cooperative pause frees the GPUs when the trainer ends the run, not when asked.
        !x.gpus_freed ? '–' : x.mode === 'cooperative' && !x.resumed && j.status === 'running' ? t('whenRunEnds') : '✓',
        x.resumed ? date(x.resumed) : NONE, x.resume_command ? h('code', {}, x.resume_command) : NONE]),
      { testid: 'pauses', class: 'compact' }));
  }
  if (p.decisions.length === 0) {
    out.push(h('p', { class: 'notice', 'data-testid': 'no-decisions' }, t('noDecisions')));
  } else {
    const what = (d) => (d.data && typeof d.data === 'object' ? [d.data.reason, d.data.outcome].filter(Boolean).join(' — ') : String(d.data || ''));
    out.push(table([t('when'), t('rule'), t('action'), t('dryRun'), t('detail')],
      p.decisions.map((d) => [date(d.at), d.rule, d.action, d.dry_run ? '✓' : '–', what(d)]), { testid: 'decisions', class: 'compact' }));
  }
  return out;
}

export function reportSection(r) {
  const out = [h('h2', {}, t('adviceTitle'))];
  out.push(r.advice.length === 0 ? h('p', { class: 'notice', 'data-testid': 'no-advice' }, t('noAdvice'))
    : h('ul', { class: 'advice', 'data-testid': 'advice' }, r.advice.map((a) => h('li', { 'data-rule': a.rule },
      h('strong', {}, a.text), a.evidence ? h('span', { class: 'help' }, ' — ' + a.evidence) : null))));
  const ph = r.phases || {};
  out.push(table([t('phaseLoading'), t('phaseSteady'), t('phaseTail'), t('phaseIdle'), t('bestEpoch'), t('finalLoss'), t('trainingTime')],
    [[num(ph.loading_gpu_hours, 2), num(ph.steady_gpu_hours, 2), num(ph.tail_gpu_hours, 2), num(ph.idle_gpu_hours, 2),
      r.epochs && r.epochs.best_epoch !== null ? `${r.epochs.best_epoch} (${num(r.epochs.best_map50, 3)})` : NONE,
      r.epochs ? num(r.epochs.final_train_loss, 3) : NONE, r.epochs && r.epochs.training_time_s !== null ? seconds(r.epochs.training_time_s) : NONE]],
    { testid: 'phases', class: 'compact' }));
  out.push(h('h2', {}, t('perGpu')), table(
    [t('gpu'), t('gpuModel'), t('gpuHours'), t('meanUtil'), t('density'), t('peakMem'), t('memShare'), t('energy')],
    r.gpus.map((g) => [g.gpu_uuid, g.gpu_model, num(g.gpu_hours, 2), pct(g.mean_utilisation), pct(g.density),
      withUnit(g.peak_mem_gib, 1, 'GiB'), pct(g.memory_share), withUnit(g.energy_kwh, 2, 'kWh')]), { testid: 'per-gpu', class: 'compact' }));
  return out;
}
