// Monthly active users: the six-month series (site-monthly-metrics/
// active_users/) as a chart and a table with each month's change, and the
// daily activity behind it (site-daily-metrics).

import { get } from '../api.js';
import { h, empty, card, NO_DATA } from '../dom.js';
import { region, table } from '../widgets.js';
import { chart } from '../charts.js';
import { num, signed, period, longPeriod, day } from '../format.js';

// Days of daily activity shown: about three months, the API's newest rows.
const DAYS = 90;

export function render(main, ctx) {
  ctx.title('Monthly active users');
  const monthly = h('div');
  const daily = h('div');
  main.append(h('h1', { tabindex: '-1' }, 'Monthly active users'),
    h('p', { class: 'lede' }, 'Learners with any course activity in the month. The current month counts up to now.'),
    card('Last six months', monthly), card('Day by day', daily));

  const a = region(ctx, monthly, 'monthly active users', (signal) => get('site-monthly-metrics/active_users/', {}, { signal }), (body) => {
    const s = body.active_users;
    const hist = s.history || [];
    if (!hist.length) return empty('Active users historic data unavailable.');
    const rows = hist.map((p, i) => ({ ...p, diff: i === 0 ? null : p.value - hist[i - 1].value })).reverse();
    return [
      h('p', { class: 'big-number' }, h('span', { class: 'stat-value', dataset: { value: String(s.current_month) } }, num(s.current_month)),
        ` active users in ${longPeriod(hist[hist.length - 1].period)}`),
      chart({ title: `Monthly active users, ${longPeriod(hist[0].period)} to ${longPeriod(hist[hist.length - 1].period)}`,
        labels: hist.map((p) => period(p.period)), series: [{ label: 'Active users', data: hist.map((p) => p.value) }] }),
      table({
        caption: 'Monthly active users by month, newest first',
        columns: [
          { label: 'Month', cell: (r) => longPeriod(r.period) },
          { label: 'Active users', num: true, cell: (r) => h('span', { class: 'mau-value', dataset: { value: String(r.value) } }, num(r.value)) },
          {
            label: 'Change vs. previous month', num: true,
            cell: (r) => (r.diff === null ? 'N/A' : h('span', { class: r.diff > 0 ? 'up' : r.diff < 0 ? 'down' : '' }, signed(r.diff))),
          },
        ],
        rows,
        rowAttrs: (r) => ({ dataset: { period: r.period } }),
      }),
    ];
  });
  const b = region(ctx, daily, 'daily activity', (signal) => get('site-daily-metrics/', { ordering: '-date_for', limit: DAYS }, { signal }), (page) => {
    if (page.count === 0) return empty(NO_DATA);
    const rows = [...page.results].reverse();
    return chart({
      title: `Active users per day and month to date, ${day(rows[0].date_for)} to ${day(rows[rows.length - 1].date_for)}`,
      labels: rows.map((r) => day(r.date_for)), type: 'line', xLabel: 'Day',
      series: [
        { label: 'Active that day', data: rows.map((r) => r.todays_active_user_count) },
        { label: 'Active this month so far', data: rows.map((r) => r.mau) },
      ],
    });
  });
  return Promise.all([a, b]);
}
