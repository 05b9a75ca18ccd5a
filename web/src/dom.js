// The page's building blocks. Elements are built with text nodes only: nothing from the
// ledger is parsed as HTML.
import { t, date } from './i18n.js';

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

export function table(head, rows, opts = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: opts.class || '', 'data-testid': opts.testid },
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

export function card(label, value, testid) {
  return h('div', { class: 'card', 'data-testid': testid }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

// The books' as-of time in the organisation's zone; a month in progress says so (and, on
// a page that polls, that it refreshes).
export function asOfLine(r, live = false) {
  return h('p', { class: 'asof', 'data-testid': 'asof', 'data-as-of': r.as_of, 'data-partial': (r.partial && live) || undefined },
    `${t('asOf')} ${date(r.as_of, r.timezone)}` + (r.timezone ? ` (${r.timezone})` : '') + (r.partial ? ` · ${t('partial')}` : '') +
    (r.partial && live ? ` · ${t('refreshes')}` : ''));
}
