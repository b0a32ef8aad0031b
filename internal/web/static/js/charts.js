// Charts: Chart.js (vendored, window.Chart) on a canvas that has a text
// alternative (role="img" and an aria-label summing the series up) and the
// same numbers as a table beside it, for screen readers, keyboard users
// and anyone who wants the exact values.

import { h, id } from './dom.js';
import { num } from './format.js';

// Colours with at least 3:1 contrast against white, told apart by
// lightness as well as hue.
const PALETTE = ['#00739a', '#c2571a', '#2e7d32', '#6a3d9a', '#b8860b', '#ad1457'];

const live = new Set();

/** destroyCharts frees the charts of the page being left. */
export function destroyCharts() {
  for (const c of live) c.destroy();
  live.clear();
}

/**
 * summary describes series in words for the canvas's aria-label: every
 * value when there are few, else the range, the last value and the
 * extremes (the table has them all).
 */
function summary(title, labels, series, fmt) {
  const parts = series.map((s) => {
    const pts = labels.map((l, i) => [l, s.data[i]]).filter(([, v]) => v !== null && v !== undefined);
    if (!pts.length) return `${s.label}: no values`;
    if (pts.length <= 8) return `${s.label}: ${pts.map(([l, v]) => `${l} ${fmt(v)}`).join(', ')}`;
    const vals = pts.map(([, v]) => v);
    const [firstL, firstV] = pts[0];
    const [lastL, lastV] = pts[pts.length - 1];
    return `${s.label}: ${pts.length} values from ${firstL} (${fmt(firstV)}) to ${lastL} (${fmt(lastV)}), ` +
      `lowest ${fmt(Math.min(...vals))}, highest ${fmt(Math.max(...vals))}`;
  });
  return `${title}. ${parts.join('. ')}.`;
}

/**
 * chart returns a figure: a titled chart and its data table.
 *   title   what the chart shows (the figure's caption)
 *   labels  the x values, already formatted
 *   series  [{label, data}] with data aligned on labels (null: no value)
 *   type    'bar' or 'line'
 *   format  formats a value (axis, tooltips, table, summary)
 *   size    'small' (a stat card's history) or 'large'
 *   percent values are fractions shown as percentages (axis 0..100%)
 *   xLabel  the heading of the table's first column
 *   xValues optional numbers placing each label on a linear axis (days
 *           that are not evenly spaced), with xFormat to label the ticks
 *   integer the values are counts: whole-number axis ticks
 */
export function chart({ title, labels, series, type = 'bar', format = num, size = 'large', percent = false, tableOpen = false,
  xLabel = 'Month', xValues = null, xFormat = String, integer = true }) {
  const canvas = h('canvas', { role: 'img', 'aria-label': summary(title, labels, series, format) });
  const table = h('table', { class: 'data' },
    h('caption', { class: 'visually-hidden' }, title),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, xLabel),
      series.map((s) => h('th', { scope: 'col', class: 'num' }, s.label)))),
    h('tbody', null, labels.map((l, i) => h('tr', null, h('th', { scope: 'row' }, l),
      series.map((s) => h('td', { class: 'num' }, format(s.data[i])))))));
  const capID = id('chart');
  const fig = h('figure', { class: `chart chart-${size}`, 'aria-labelledby': capID },
    h('figcaption', { id: capID, class: size === 'small' ? 'visually-hidden' : '' }, title),
    h('div', { class: 'chart-box' }, canvas),
    h('details', { class: 'chart-data', open: tableOpen }, h('summary', null, 'Show the numbers'), h('div', { class: 'table-wrap' }, table)));

  if (!window.Chart) {
    // The vendored script did not load: the numbers are still there.
    fig.querySelector('details').open = true;
    fig.querySelector('.chart-box').replaceWith(h('p', { class: 'state error' }, 'The chart library did not load; the numbers are below.'));
    return fig;
  }
  const small = size === 'small';
  // Options are set only when they apply: Chart.js treats a key present
  // with the value undefined differently from an absent one.
  const xTicks = { maxRotation: 0, autoSkip: true, maxTicksLimit: small ? 6 : 8, font: { size: small ? 10 : 12 } };
  if (xValues) xTicks.callback = (v) => xFormat(v);
  const yTicks = { callback: (v) => format(v), maxTicksLimit: small ? 3 : 6, font: { size: small ? 10 : 12 } };
  if (integer && !percent) yTicks.precision = 0;
  const y = { beginAtZero: true, ticks: yTicks, grid: { color: '#e3e8ee' } };
  if (percent) y.suggestedMax = 1;
  const c = new window.Chart(canvas, {
    type,
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: xValues ? xValues.map((x, j) => ({ x, y: s.data[j] })) : s.data,
        backgroundColor: type === 'bar' ? PALETTE[i % PALETTE.length] : `${PALETTE[i % PALETTE.length]}22`,
        borderColor: PALETTE[i % PALETTE.length],
        borderWidth: 2,
        borderRadius: type === 'bar' ? 3 : 0,
        pointRadius: type === 'line' && labels.length > 20 ? 0 : 3,
        pointHitRadius: 8,
        tension: s.stepped ? 0 : 0.3,
        // Monotone curves never overshoot the data (a count never dips
        // below its real low between two days).
        cubicInterpolationMode: 'monotone',
        spanGaps: true,
        stepped: s.stepped || false,
        fill: type === 'line' && series.length === 1,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      // Drawn at once: an animation tells nothing here and costs the
      // people who asked for reduced motion.
      animation: false,
      interaction: xValues ? { mode: 'nearest', axis: 'x', intersect: false } : { mode: 'index', intersect: false },
      plugins: {
        legend: { display: series.length > 1, position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length && xValues ? xFormat(items[0].parsed.x) : items.length ? items[0].label : ''),
            label: (ctx) => `${ctx.dataset.label}: ${format(ctx.parsed.y)}`,
          },
        },
      },
      scales: {
        x: xValues
          // A linear axis ends at the data, not at the next round number.
          ? { type: 'linear', min: Math.min(...xValues), max: Math.max(...xValues), grid: { display: false }, ticks: xTicks }
          : { type: 'category', grid: { display: false }, ticks: xTicks },
        y,
      },
    },
  });
  live.add(c);
  return fig;
}
