// Learners progress overview: every learner × course of the site with
// progress (learner-metrics), filtered by course and searched, paged by
// learner; the CSV download is the API's streamed export of the same
// filters, every page of it.

import { all, get, csvURL } from '../api.js';
import { h, replace, empty, NO_DATA } from '../dom.js';
import { region, pager, searchForm, selectField, pageSize, intParam, progress, headerRow, scrollRegion } from '../widgets.js';
import { href, query, setQuery } from '../router.js';
import { num, day } from '../format.js';

export async function render(main, ctx) {
  ctx.title('Learners progress');
  const q = query();
  const state = {
    search: q.get('search') || '', course: q.get('course') || '', ordering: q.get('ordering') || 'profile__name',
    limit: pageSize(q), offset: intParam(q, 'offset', 0),
  };
  const filters = h('div', { class: 'toolbar' });
  const download = h('div', { class: 'download' });
  const results = h('div', { class: 'results' });
  main.append(h('h1', { tabindex: '-1' }, 'Learners progress'),
    h('p', { class: 'lede' }, 'Each learner\'s progress in each course of the site. Filter by course, search, and download the current view as CSV.'),
    filters, download, results);

  // Course names for the filter and the table; the list is the API's.
  const names = new Map();
  const courseBox = h('div');
  filters.append(courseBox, searchForm({
    label: 'Search learners', placeholder: 'Name, username or email', value: state.search,
    onSearch: (s) => { state.search = s; state.offset = 0; load(); },
  }));
  const coursesLoaded = region(ctx, courseBox, 'the courses', (signal) => all('courses-index/', {}, { signal }), (list) => {
    for (const c of list) names.set(c.id, c.name);
    return selectField({
      label: 'Course', name: 'course', value: state.course,
      options: [{ value: '', label: 'All courses' }, ...list.map((c) => ({ value: c.id, label: `${c.name} (${c.id})` }))],
      onChange: (v) => { state.course = v; state.offset = 0; load(); },
    });
  });

  function load() {
    setQuery({
      search: state.search, course: state.course, ordering: state.ordering === 'profile__name' ? '' : state.ordering,
      limit: state.limit === 20 ? '' : state.limit, offset: state.offset || '',
    });
    const filter = { search: state.search, course: state.course, ordering: state.ordering };
    replace(download, h('a', { class: 'button', id: 'csv-download', href: csvURL('learner-metrics/', filter), download: 'learners-progress.csv' },
      'Download CSV'), ' ', h('span', { class: 'muted' }, 'One row per learner and course, every page of the current view.'));
    return ctx.track(region(ctx, results, 'learners\' progress',
      (signal) => get('learner-metrics/', { ...filter, limit: state.limit, offset: state.offset }, { signal }),
      (page) => {
        results.dataset.query = state.search;
        results.dataset.course = state.course;
        results.dataset.count = String(page.count);
        if (page.count === 0) {
          return empty(state.search || state.course ? 'No learner matches these filters.' : `No progress data. ${NO_DATA}`);
        }
        const nav = () => pager({
          count: page.count, limit: state.limit, offset: state.offset, noun: 'learners',
          onChange: (offset, limit) => { state.offset = offset; state.limit = limit; load(); },
        });
        return [nav(), progressTable(page.results, names, state.ordering, (o) => { state.ordering = o; state.offset = 0; load(); }),
          page.count > state.limit ? nav() : null];
      }));
  }
  await Promise.all([coursesLoaded, load()]);
}

const COLUMNS = [
  { label: 'Learner', sort: 'profile__name' },
  { label: 'Username', sort: 'username' },
  { label: 'Email', sort: 'email' },
  { label: 'Course' },
  { label: 'Progress' },
  { label: 'Sections', num: true },
  { label: 'Points', num: true },
  { label: 'Completed' },
  { label: 'Enrolled' },
];

// progressTable has one row per learner and course; a learner's own cells
// span their courses' rows.
function progressTable(learners, names, sort, onSort) {
  const rows = [];
  for (const l of learners) {
    const set = l.enrollmentdata_set.length ? l.enrollmentdata_set : [null];
    set.forEach((e, i) => {
      const tr = h('tr', { dataset: { userId: String(l.id), courseId: e ? e.course_id : '' } });
      if (i === 0) {
        const span = String(set.length);
        tr.append(
          h('th', { scope: 'rowgroup', rowspan: span }, h('a', { href: href(`/figures/user/${l.id}`), class: 'user-link' }, l.fullname || l.username)),
          h('td', { rowspan: span }, l.username),
          h('td', { rowspan: span }, l.email));
      }
      if (!e) {
        tr.append(h('td', { colspan: '6' }, '—'));
      } else {
        const d = e.progress_details;
        tr.append(
          h('td', { class: 'wrap' }, names.get(e.course_id) || e.course_id),
          h('td', null, progress(e.progress_percent, `Progress of ${l.fullname || l.username} in ${names.get(e.course_id) || e.course_id}`)),
          h('td', { class: 'num' }, `${num(d.sections_worked)} / ${num(d.sections_possible)}`),
          h('td', { class: 'num' }, `${num(d.points_earned)} / ${num(d.points_possible)}`),
          h('td', null, e.is_completed ? 'Yes' : 'No'),
          h('td', null, e.date_enrolled ? day(e.date_enrolled) : '—'));
      }
      rows.push(tr);
    });
  }
  return scrollRegion('Learners progress', h('table', { class: 'data progress-table' },
    h('caption', { class: 'visually-hidden' }, 'Learners progress, one row per learner and course'),
    headerRow(COLUMNS, sort, onSort),
    h('tbody', null, rows)));
}
