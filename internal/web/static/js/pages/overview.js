// Overview: the site's six monthly metrics, each with its change against
// last month and its six-month history (site-monthly-metrics/<metric>/),
// how fresh the data is (the newest site-daily-metrics row) and the last
// pipeline run.

import { get } from '../api.js';
import { h, replace, empty, NO_DATA } from '../dom.js';
import { statCard, region } from '../widgets.js';
import { href } from '../router.js';
import { day, dateTime, relative, duration, num } from '../format.js';

const METRICS = [
  { metric: 'active_users', title: 'Active users this month', link: { path: '/figures/mau-history', text: 'Monthly active users history' } },
  { metric: 'registered_users', title: 'Registered users' },
  { metric: 'new_users', title: 'New users this month' },
  { metric: 'course_enrollments', title: 'Course enrollments' },
  { metric: 'course_completions', title: 'Course completions' },
  { metric: 'site_courses', title: 'Courses', link: { path: '/figures/courses', text: 'Browse the courses' } },
];

export function render(main, ctx) {
  ctx.title('Overview');
  const lede = h('p', { class: 'lede' });
  const fresh = h('div', { class: 'freshness' });
  const grid = h('div', { class: 'stats' });
  const lastRun = h('div');
  main.append(h('h1', { tabindex: '-1' }, 'Overview'), lede, fresh, grid,
    h('section', { class: 'card', 'aria-label': 'Last pipeline run' }, lastRun));

  const loads = [];
  // The newest daily row says which site this is and how recent its
  // numbers are; none at all means the pipeline never ran for it.
  loads.push(region(ctx, fresh, 'the site', (signal) => get('site-daily-metrics/', { limit: 1 }, { signal }), (page) => {
    if (page.count === 0) return empty(NO_DATA);
    const r = page.results[0];
    replace(lede, `${r.site.name || r.site.domain} (${r.site.domain})`);
    return h('p', { class: 'muted' }, `Daily metrics up to ${day(r.date_for)}. The current month's figures are as of the latest pipeline run.`);
  }));
  for (const m of METRICS) {
    const slot = h('div', { class: 'stat-slot' });
    grid.append(slot);
    loads.push(region(ctx, slot, m.title.toLowerCase(), (signal) => get(`site-monthly-metrics/${m.metric}/`, {}, { signal }),
      (body) => statCard({ metric: m.metric, title: m.title, series: body[m.metric], link: m.link ? { href: href(m.link.path), text: m.link.text } : null })));
  }
  loads.push(region(ctx, lastRun, 'the last pipeline run', (signal) => get('pipeline-runs/', { limit: 1 }, { signal }), (page) => {
    const title = h('h2', null, 'Last pipeline run');
    if (page.count === 0) return [title, empty('The pipeline has not run yet.')];
    const r = page.results[0];
    const when = r.finished
      ? `finished ${dateTime(r.finished)} (${relative(r.finished)}) after ${duration(r.duration_seconds)}`
      : `started ${dateTime(r.started)} (${relative(r.started)}), still running`;
    return [title, h('p', { class: 'last-run' },
      h('span', { class: `badge badge-${r.status}` }, r.status), ' ',
      `Run ${r.id} (${r.kind}, ${r.workflow} workflow) for ${day(r.date_for)}: ${when}; `,
      `${num(r.enrollments_updated)} enrollments updated, ${num(r.errors)} errors. `,
      h('a', { href: href('/figures/pipeline-runs') }, 'All pipeline runs'))];
  }));
  return Promise.all(loads);
}
