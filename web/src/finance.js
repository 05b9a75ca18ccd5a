// Finance: the months with their close state (GET /api/v1/months), an admin's close and
// reopen (POST /api/v1/months/{M}/close|reopen, docs/CLOSE.md), and the downloads of each
// month and of any date range (GET /api/v1/exports/..., docs/EXPORTS.md). Finance's
// downloads are always desensitised by the server; an admin chooses.
import { api, get } from './api.js';
import { t, money, date, NONE } from './i18n.js';
import { h, table } from './dom.js';

const FORMATS = [['xlsx', 'XLSX'], ['focus', 'FOCUS'], ['csv', 'CSV'], ['json', 'JSON']];

function links(base, params, desensitised, testid) {
  return h('span', { class: 'downloads', 'data-testid': testid }, FORMATS.map(([f, label]) => {
    const q = new URLSearchParams(params);
    q.set('format', f);
    if (desensitised) q.set('desensitised', '1');
    return h('a', { href: `${base}?${q}`, download: '', 'data-format': f }, label);
  }));
}

// me: the signed-in principal; reload(message): draw the page again.
export async function financeView(me, reload, message) {
  const admin = me.role === 'admin';
  const { months } = await get('/api/v1/months');
  const msg = h('div', { 'data-testid': 'finance-msg' }, message ? h('p', { class: 'notice' }, message) : null);
  const des = h('input', { type: 'checkbox', 'data-testid': 'desensitised', checked: !admin || undefined, disabled: !admin || undefined });
  const act = async (month, verb, body) => {
    try {
      const r = await api('POST', `/api/v1/months/${month}/${verb}`, body);
      await reload(verb === 'close' ? t('closedMsg')(month, money(r.total, r.currency)) : t('reopenedMsg')(month));
    } catch (x) { msg.replaceChildren(h('p', { class: 'error', 'data-testid': 'finance-error' }, x.message)); }
  };
  const rows = months.slice().reverse().map((m) => {
    const ended = m.month < me.month;
    let action = '';
    if (admin && m.state !== 'closed') {
      action = h('button', { type: 'button', 'data-close': m.month, disabled: !ended || undefined, title: ended ? undefined : t('notEnded'),
        onclick: () => { if (window.confirm(t('confirmClose')(m.month))) act(m.month, 'close'); } }, t('close'));
    } else if (admin) {
      action = h('button', { type: 'button', class: 'danger', 'data-reopen': m.month, onclick: () => {
        const reason = window.prompt(t('reopenReason')(m.month));
        if (reason && reason.trim()) act(m.month, 'reopen', { reason: reason.trim() });
      } }, t('reopen'));
    }
    const reopened = m.reopened_at ? `${date(m.reopened_at)} · ${m.reopened_by} · ${m.reopen_reason}` : NONE;
    return [m.month, h('span', { 'data-state': m.state }, t('state_' + m.state) + (m.month === me.month ? ` (${t('partial')})` : '')),
      m.total === null ? NONE : money(m.total, m.currency), m.closed_at ? `${date(m.closed_at)} · ${m.closed_by}` : NONE,
      m.checksum ? h('code', { title: m.checksum }, m.checksum.slice(0, 12)) : NONE, reopened,
      h('span', { 'data-month': m.month }, links(`/api/v1/exports/${m.month}`, {}, des.checked, 'dl-' + m.month)), action];
  });
  const head = [t('month'), t('state'), t('closedTotal'), t('closedAt'), t('checksum'), t('reopenedAt'), t('downloads'), ''];
  const list = table(head, rows, { testid: 'months' });
  // The range downloads: from, to and grain, as GET /api/v1/exports/range takes them.
  const range = h('span', { 'data-testid': 'range-links' });
  let asked = null;  // the range last asked for
  const paintRange = () => { if (asked) range.replaceChildren(links('/api/v1/exports/range', asked, des.checked, 'dl-range')); };
  const rangeForm = h('form', { class: 'filters', 'data-testid': 'range-form', onsubmit: (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    asked = { from: f.from, to: f.to, grain: f.grain };
    paintRange();
  } },
  h('label', {}, t('from') + ' ', h('input', { type: 'date', name: 'from', required: true, value: me.month + '-01' })),
  h('label', {}, t('to') + ' ', h('input', { type: 'date', name: 'to', required: true, value: me.month + '-07' })),
  h('label', {}, t('grain') + ' ', h('select', { name: 'grain' }, ['range', 'day', 'week', 'month'].map((g) => h('option', { value: g }, t('grain_' + g))))),
  h('button', { type: 'submit' }, t('makeLinks')));
  // The desensitised choice rewrites every link in place.
  des.addEventListener('change', () => {
    for (const el of list.querySelectorAll('[data-month]')) {
      el.replaceChildren(links(`/api/v1/exports/${el.dataset.month}`, {}, des.checked, 'dl-' + el.dataset.month));
    }
    paintRange();
  });
  return [
    h('p', { class: 'help' }, t('financeHelp')),
    h('label', { class: 'help' }, des, ' ', admin ? t('desensitisedAdmin') : t('desensitisedFinance')),
    msg, list,
    h('h2', {}, t('rangeDownloads')), rangeForm, range,
  ];
}
