// Widgets the pages share: stat cards, sortable tables, pagers, search
// boxes, selects and progress bars. Each is keyboard-usable (native
// buttons, links, inputs) and labelled for assistive technology.

import { h, id, debounce, replace, loading, errorBox } from './dom.js';
import { chart } from './charts.js';
import { num, signed, period, longPeriod, pct } from './format.js';

/**
 * statCard shows a metric's current month, its change against the month
 * before and its six-month history, from an API history series
 * ({current_month, history: [{period, value}]}).
 *   metric   the API's metric name (data-metric, for tests and styling)
 *   percent  values are fractions: shown as percentages, changes in points
 *   link     optional {href, text} to the metric's own page
 */
export function statCard({ metric, title, series, percent = false, link = null, note = '' }) {
  const fmt = percent ? pct : num;
  const hist = series.history || [];
  const cur = series.current_month;
  const prev = hist.length >= 2 ? hist[hist.length - 2] : null;
  let change;
  if (prev) {
    const diff = percent ? Math.round((cur - prev.value) * 1000) / 1000 : cur - prev.value;
    const dir = diff > 0 ? 'up' : diff < 0 ? 'down' : 'same';
    const shown = percent ? `${signed(Math.round(diff * 1000) / 10)} pts` : signed(diff);
    const words = diff === 0 ? 'no change' : `${dir} ${percent ? `${num(Math.abs(Math.round(diff * 1000) / 10))} points` : num(Math.abs(diff))}`;
    change = h('p', { class: `stat-change ${dir}`, dataset: { value: String(diff) } },
      h('span', { class: 'stat-arrow', 'aria-hidden': 'true' }, dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■'),
      h('span', { class: 'stat-diff', 'aria-hidden': 'true' }, shown),
      h('span', { class: 'visually-hidden' }, words),
      ` vs. ${period(prev.period)}`);
  } else {
    change = h('p', { class: 'stat-change same' }, 'No earlier month to compare with');
  }
  const labels = hist.map((p) => period(p.period));
  const tid = id('stat');
  return h('article', { class: 'stat', dataset: { metric }, 'aria-labelledby': tid },
    h('h2', { class: 'stat-title', id: tid }, title),
    h('p', { class: 'stat-value', dataset: { value: String(cur) } }, fmt(cur)),
    change,
    note ? h('p', { class: 'stat-note' }, note) : null,
    hist.length ? chart({
      title: `${title} per month, ${longPeriod(hist[0].period)} to ${longPeriod(hist[hist.length - 1].period)}`,
      labels, series: [{ label: title, data: hist.map((p) => p.value) }], format: fmt, size: 'small', percent,
    }) : h('p', { class: 'state empty' }, 'No history yet.'),
    link ? h('p', { class: 'stat-link' }, h('a', { href: link.href }, link.text)) : null);
}

/**
 * sortHeader is a column heading: a button that sorts by the column when
 * the column is sortable (a second press reverses), with aria-sort saying
 * the current order.
 */
function sortHeader(col, sort, onSort) {
  const th = h('th', { scope: 'col', class: cellClass(col) });
  if (!col.sort) {
    th.append(col.label);
    return th;
  }
  const state = sort === col.sort ? 'ascending' : sort === `-${col.sort}` ? 'descending' : 'none';
  th.setAttribute('aria-sort', state);
  const next = state === 'ascending' ? `-${col.sort}` : col.sort;
  th.append(h('button', { type: 'button', class: 'sort', dataset: { sort: col.sort }, onclick: () => onSort(next) },
    col.label,
    h('span', { class: 'sort-icon', 'aria-hidden': 'true' }, state === 'ascending' ? '▲' : state === 'descending' ? '▼' : '↕')));
  return th;
}

// cellClass aligns numbers right and lets long texts (names, messages)
// wrap; everything else stays on one line.
function cellClass(col) {
  return [col.num ? 'num' : '', col.wrap ? 'wrap' : ''].filter(Boolean).join(' ');
}

/** headerRow is a table's heading row (see table). */
export function headerRow(columns, sort, onSort) {
  return h('thead', null, h('tr', null, columns.map((c) => sortHeader(c, sort, onSort))));
}

/**
 * table renders rows under columns [{label, cell(row), sort?, num?, wrap?}];
 * sort is the current ?ordering= and onSort(ordering) changes it. The
 * table scrolls sideways inside its own focusable region on a narrow
 * screen rather than widening the page.
 */
export function table({ caption, columns, rows, sort = '', onSort = () => {}, rowAttrs = () => ({}) }) {
  return scrollRegion(caption, h('table', { class: 'data' },
    h('caption', { class: 'visually-hidden' }, caption),
    headerRow(columns, sort, onSort),
    h('tbody', null, rows.map((r) => h('tr', rowAttrs(r), columns.map((c, i) => {
      const v = c.cell(r);
      return i === 0 && c.rowHeader !== false
        ? h('th', { scope: 'row', class: cellClass(c) }, v)
        : h('td', { class: cellClass(c) }, v);
    }))))));
}

/** scrollRegion wraps a wide table in a keyboard-scrollable region. */
export function scrollRegion(label, tableEl) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, tableEl);
}

export const PAGE_SIZES = [20, 50, 100];

/**
 * pager moves through a limit/offset list: first, previous, next and last
 * pages and the page size. onChange(offset, limit) loads a page.
 */
export function pager({ count, limit, offset, noun, onChange }) {
  const pages = Math.max(1, Math.ceil(count / limit));
  const page = Math.min(pages, Math.floor(offset / limit) + 1);
  const from = count === 0 ? 0 : offset + 1;
  const to = Math.min(count, offset + limit);
  const btn = (text, label, target, disabled) => h('button', {
    type: 'button', class: 'button button-small button-quiet', 'aria-label': label, disabled,
    onclick: () => onChange(target, limit),
  }, text);
  const sizeID = id('page-size');
  return h('nav', { class: 'pager', 'aria-label': `Pages of ${noun}` },
    h('p', { class: 'pager-status', 'aria-live': 'polite' },
      count === 0 ? `No ${noun}` : `Showing ${num(from)}–${num(to)} of ${num(count)} ${noun}`),
    h('div', { class: 'pager-buttons' },
      btn('« First', 'First page', 0, page <= 1),
      btn('‹ Previous', 'Previous page', Math.max(0, offset - limit), page <= 1),
      h('span', { class: 'pager-page' }, `Page ${num(page)} of ${num(pages)}`),
      btn('Next ›', 'Next page', offset + limit, page >= pages),
      btn('Last »', 'Last page', (pages - 1) * limit, page >= pages)),
    h('div', { class: 'pager-size' },
      h('label', { for: sizeID }, 'Per page'),
      h('select', { id: sizeID, onchange: (e) => onChange(0, Number(e.target.value)) },
        PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === limit }, String(n))))));
}

/**
 * searchForm is a labelled search box: it searches as one types (after a
 * pause) and at once on Enter.
 */
export function searchForm({ label, placeholder = '', value = '', onSearch }) {
  const inputID = id('search');
  const input = h('input', { type: 'search', id: inputID, name: 'search', placeholder, autocomplete: 'off', value });
  let last = value;
  const fire = () => {
    if (input.value.trim() === last) return;
    last = input.value.trim();
    onSearch(last);
  };
  const later = debounce(fire, 400);
  input.addEventListener('input', later);
  return h('form', {
    class: 'search', role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      later.cancel();
      fire();
    },
  }, h('label', { for: inputID }, label), h('div', { class: 'search-row' }, input,
    h('button', { type: 'submit', class: 'button button-small' }, 'Search')));
}

/** selectField is a labelled select; onChange receives the chosen value. */
export function selectField({ label, options, value = '', onChange, name = '' }) {
  const sid = id('select');
  return h('div', { class: 'field' },
    h('label', { for: sid }, label),
    h('select', { id: sid, name, onchange: (e) => onChange(e.target.value) },
      options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label))));
}

/** progress shows a fraction as a bar and a percentage. */
export function progress(fraction, label) {
  const v = Number(fraction) || 0;
  return h('span', { class: 'progress-cell' },
    h('progress', { max: '1', value: String(v), 'aria-label': label }),
    h('span', { class: 'progress-text', dataset: { value: String(v) } }, pct(v)));
}

/** intParam reads a non-negative integer query parameter. */
export function intParam(q, name, def) {
  const n = Number.parseInt(q.get(name) || '', 10);
  return Number.isFinite(n) && n >= 0 ? n : def;
}

/** pageSize reads ?limit=, one of PAGE_SIZES. */
export function pageSize(q) {
  const n = intParam(q, 'limit', PAGE_SIZES[0]);
  return PAGE_SIZES.includes(n) ? n : PAGE_SIZES[0];
}

// latest remembers each region's newest load, so that an older answer
// arriving late (a search typed on while the previous one was on its way)
// never replaces a newer one.
const latest = new WeakMap();

/**
 * region fills slot with what load() fetches, drawn by draw(data): a
 * loading note first, the API's reason with a retry button on failure,
 * nothing at all when the page was left or a newer load of the same slot
 * started meanwhile. It returns when the region is drawn (ctx.track it to
 * mark the page busy until then).
 */
export async function region(ctx, slot, what, load, draw) {
  const token = {};
  latest.set(slot, token);
  replace(slot, loading(what));
  const stale = () => ctx.signal.aborted || latest.get(slot) !== token;
  try {
    const data = await load(ctx.signal);
    if (stale()) return;
    replace(slot, draw(data));
  } catch (err) {
    if (stale() || (err && err.name === 'AbortError')) return;
    replace(slot, errorBox(what, err, () => ctx.track(region(ctx, slot, what, load, draw))));
  }
}
