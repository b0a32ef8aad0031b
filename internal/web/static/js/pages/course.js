// A course: its description (courses-general/<id>/), this month's metrics
// with their six-month history (course-monthly-metrics/<id>/<metric>/),
// its daily history (course-daily-metrics) and its learners with their
// progress (users-detail?enrolled_in_course_id=).

import { get, pathID } from '../api.js';
import { h, replace, empty, card, errorBox, loading, NO_DATA } from '../dom.js';
import { region, statCard, table, pager, searchForm, pageSize, intParam, progress } from '../widgets.js';
import { chart } from '../charts.js';
import { href, query, setQuery } from '../router.js';
import { num, pct, day, country } from '../format.js';

const METRICS = [
  { metric: 'active_users', title: 'Active learners this month' },
  { metric: 'course_enrollments', title: 'Enrolled learners' },
  { metric: 'avg_progress', title: 'Average progress', percent: true },
  { metric: 'num_learners_completed', title: 'Completions' },
  { metric: 'avg_days_to_complete', title: 'Average days to complete' },
];

// Days of daily history shown: about three months, the newest rows.
const DAYS = 90;

export async function render(main, ctx) {
  const courseID = ctx.params[0];
  ctx.title(courseID);
  const h1 = h('h1', { tabindex: '-1' }, courseID);
  const about = h('div', { class: 'about' }, loading('the course'));
  const crumb = h('span', null, courseID);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: href('/figures/courses') }, 'Courses'), ' › ', crumb), h1, about);

  let c;
  try {
    c = await get(`courses-general/${pathID(courseID)}/`, {}, { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) return;
    replace(about, errorBox('the course', err));
    return;
  }
  h1.textContent = c.course_name || c.course_id;
  crumb.textContent = c.course_name || c.course_id;
  ctx.title(c.course_name || c.course_id);
  replace(about, h('p', { class: 'lede' }, h('code', null, c.course_id)), h('dl', { class: 'facts' },
    fact('Organization', c.org),
    fact('Code', c.course_code),
    fact('Pacing', c.self_paced ? 'Self-paced' : 'Instructor-led'),
    fact('Starts', day(c.start_date)),
    fact('Ends', day(c.end_date)),
    fact('Staff', c.staff.length ? c.staff.map((s) => s.fullname || s.username).join(', ') : 'None enrolled')));

  const stats = h('div', { class: 'stats stats-5' });
  const daily = h('div', { class: 'chart-grid' });
  const learners = h('div');
  main.append(h('section', { class: 'section', 'aria-label': 'This month' }, stats), card('Day by day', daily), card('Learners', learners));

  const loads = METRICS.map((m) => {
    const slot = h('div', { class: 'stat-slot' });
    stats.append(slot);
    return region(ctx, slot, m.title.toLowerCase(),
      (signal) => get(`course-monthly-metrics/${pathID(courseID)}/${m.metric}/`, {}, { signal }),
      (body) => statCard({ metric: m.metric, title: m.title, series: body[m.metric], percent: m.percent }));
  });
  loads.push(region(ctx, daily, 'the daily history',
    (signal) => get('course-daily-metrics/', { course_id: courseID, ordering: '-date_for', limit: DAYS }, { signal }),
    (page) => dailyCharts([...page.results].reverse())));
  loads.push(learnerTable(ctx, courseID, learners));
  await Promise.all(loads);
}

function fact(label, value) {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

function dailyCharts(rows) {
  if (!rows.length) return empty(NO_DATA);
  const labels = rows.map((r) => day(r.date_for));
  const span = `${labels[0]} to ${labels[labels.length - 1]}`;
  const line = (title, series, opts = {}) => chart({ title: `${title}, ${span}`, labels, series, type: 'line', xLabel: 'Day', ...opts });
  return [
    line('Enrolled learners and completions', [
      { label: 'Enrolled', data: rows.map((r) => r.enrollment_count) },
      { label: 'Completions', data: rows.map((r) => r.num_learners_completed) },
    ]),
    chart({ title: `Active learners per day, ${span}`, labels, xLabel: 'Day', series: [{ label: 'Active learners', data: rows.map((r) => r.active_learners_today) }] }),
    line('Average progress', [{ label: 'Average progress', data: rows.map((r) => (r.average_progress === null ? null : Number.parseFloat(r.average_progress))) }],
      { format: pct, percent: true }),
    line('Average days to complete', [{ label: 'Days to complete', data: rows.map((r) => r.average_days_to_complete) }]),
  ];
}

function learnerTable(ctx, courseID, box) {
  const q = query();
  const state = { search: q.get('search') || '', ordering: q.get('ordering') || 'profile__name', limit: pageSize(q), offset: intParam(q, 'offset', 0) };
  const results = h('div', { class: 'results' });
  replace(box, h('div', { class: 'toolbar' }, searchForm({
    label: 'Search this course\'s learners', placeholder: 'Name, username or email', value: state.search,
    onSearch: (s) => { state.search = s; state.offset = 0; load(); },
  })), results);

  function load() {
    setQuery({ search: state.search, ordering: state.ordering === 'profile__name' ? '' : state.ordering, limit: state.limit === 20 ? '' : state.limit, offset: state.offset || '' });
    const params = { enrolled_in_course_id: courseID, search: state.search, ordering: state.ordering, limit: state.limit, offset: state.offset };
    return ctx.track(region(ctx, results, 'the learners', (signal) => get('users-detail/', params, { signal }), (page) => {
      results.dataset.query = state.search;
      results.dataset.count = String(page.count);
      if (page.count === 0) return empty(state.search ? `No learner of this course matches “${state.search}”.` : 'No learners are enrolled in this course.');
      const nav = () => pager({
        count: page.count, limit: state.limit, offset: state.offset, noun: 'learners',
        onChange: (offset, limit) => { state.offset = offset; state.limit = limit; load(); },
      });
      const enr = (u) => u.courses.find((x) => x.course_id === courseID) || { progress_data: {} };
      return [
        nav(),
        table({
          caption: 'Learners of this course',
          sort: state.ordering,
          onSort: (o) => { state.ordering = o; state.offset = 0; load(); },
          rows: page.results,
          rowAttrs: (u) => ({ dataset: { userId: String(u.id) } }),
          columns: [
            { label: 'Learner', sort: 'profile__name', cell: (u) => h('a', { href: href(`/figures/user/${u.id}`), class: 'user-link' }, u.name || u.username) },
            { label: 'Username', sort: 'username', cell: (u) => u.username },
            { label: 'Country', cell: (u) => country(u.country) },
            { label: 'Enrolled', cell: (u) => day(enr(u).date_enrolled) },
            { label: 'Progress', cell: (u) => progress(enr(u).progress_data.course_progress, `Progress of ${u.name || u.username}`) },
            {
              label: 'Sections', num: true,
              cell: (u) => {
                const d = enr(u).progress_data.course_progress_details;
                return d ? `${num(d.sections_worked)} / ${num(d.sections_possible)}` : '—';
              },
            },
            { label: 'Completed', cell: (u) => (enr(u).progress_data.course_completed ? day(enr(u).progress_data.course_completed) : 'No') },
          ],
        }),
        page.count > state.limit ? nav() : null,
      ];
    }));
  }
  return load();
}
