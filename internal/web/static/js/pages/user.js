// A learner: their profile, their courses with progress and their
// progress over time (users-detail/<id>/: each enrollment's progress data
// and its history of grade snapshots).

import { get, pathID } from '../api.js';
import { h, replace, empty, card, errorBox, loading } from '../dom.js';
import { table, progress } from '../widgets.js';
import { chart } from '../charts.js';
import { href } from '../router.js';
import { num, pct, day, country, gender, education } from '../format.js';

export async function render(main, ctx) {
  const userID = ctx.params[0];
  ctx.title(`Learner ${userID}`);
  const h1 = h('h1', { tabindex: '-1' }, `Learner ${userID}`);
  const crumb = h('span', null, `Learner ${userID}`);
  const body = h('div', null, loading('the learner'));
  main.append(h('p', { class: 'crumbs' }, h('a', { href: href('/figures/users') }, 'Learners'), ' › ', crumb), h1, body);

  let u;
  try {
    u = await get(`users-detail/${pathID(userID)}/`, {}, { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) return;
    replace(body, errorBox('the learner', err));
    return;
  }
  const name = u.name || u.username;
  h1.textContent = name;
  crumb.textContent = name;
  ctx.title(name);
  replace(body,
    h('dl', { class: 'facts' },
      fact('Username', u.username),
      fact('Email', h('a', { href: `mailto:${u.email}` }, u.email)),
      fact('Account', u.is_active ? 'Active' : 'Not activated'),
      fact('Joined', day(u.date_joined)),
      fact('Country', country(u.country)),
      fact('Year of birth', u.year_of_birth === null ? 'Not available' : String(u.year_of_birth)),
      fact('Gender', gender(u.gender)),
      fact('Education', education(u.level_of_education)),
      fact('Courses', h('span', { class: 'course-count', dataset: { value: String(u.courses.length) } }, num(u.courses.length)))),
    card('Progress over time', history(u)),
    card('Courses', courses(u)));
}

function fact(label, value) {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

// history draws one line per course through the learner's progress
// snapshots: a snapshot is taken on each day with activity, so the value
// holds until the next one (a stepped line).
function history(u) {
  const days = [...new Set(u.courses.flatMap((c) => c.progress_data.course_progress_history.map((p) => p.date_for)))].sort();
  if (!days.length) return empty('No progress snapshots yet: the pipeline records one on each day the learner is active.');
  const series = u.courses.filter((c) => c.progress_data.course_progress_history.length).map((c) => {
    const at = new Map(c.progress_data.course_progress_history.map((p) => [p.date_for, p.progress_percent]));
    return { label: c.course_name || c.course_id, data: days.map((d) => (at.has(d) ? at.get(d) : null)), stepped: true };
  });
  // Snapshot days are uneven (only days with activity): place them on a
  // linear axis of day numbers so that the gaps between them show.
  const DAY_MS = 86400000;
  return chart({
    title: `Progress per course, ${day(days[0])} to ${day(days[days.length - 1])}`,
    labels: days.map((d) => day(d)), series, type: 'line', format: pct, percent: true, xLabel: 'Day',
    xValues: days.map((d) => Date.parse(`${d}T00:00:00Z`) / DAY_MS),
    xFormat: (v) => day(new Date(Math.round(v) * DAY_MS).toISOString().slice(0, 10)),
  });
}

function courses(u) {
  if (!u.courses.length) return empty('Not enrolled in any course of this site.');
  return table({
    caption: `Courses of ${u.name || u.username}`,
    rows: u.courses,
    rowAttrs: (c) => ({ dataset: { courseId: c.course_id } }),
    columns: [
      { label: 'Course', wrap: true, cell: (c) => h('a', { href: href(`/figures/course/${pathID(c.course_id)}`), class: 'course-link' }, c.course_name || c.course_id) },
      { label: 'Enrolled', cell: (c) => day(c.date_enrolled) },
      { label: 'Progress', cell: (c) => progress(c.progress_data.course_progress, `Progress in ${c.course_name || c.course_id}`) },
      {
        label: 'Sections', num: true,
        cell: (c) => {
          const d = c.progress_data.course_progress_details;
          return d ? `${num(d.sections_worked)} / ${num(d.sections_possible)}` : '—';
        },
      },
      {
        label: 'Points', num: true,
        cell: (c) => {
          const d = c.progress_data.course_progress_details;
          return d ? `${num(d.points_earned)} / ${num(d.points_possible)}` : '—';
        },
      },
      { label: 'Completed', cell: (c) => (c.progress_data.course_completed ? day(c.progress_data.course_completed) : 'No') },
    ],
  });
}
