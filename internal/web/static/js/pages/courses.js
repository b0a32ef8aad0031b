// Courses: the site's courses (courses-general), searchable, sortable and
// paged, with each course's newest daily metrics.

import { get, pathID } from '../api.js';
import { h, empty, NO_DATA } from '../dom.js';
import { region, table, pager, searchForm, pageSize, intParam } from '../widgets.js';
import { href, query, setQuery } from '../router.js';
import { num, pct, day } from '../format.js';

export function render(main, ctx) {
  ctx.title('Courses');
  const q = query();
  const state = { search: q.get('search') || '', ordering: q.get('ordering') || 'display_name', limit: pageSize(q), offset: intParam(q, 'offset', 0) };
  const results = h('div', { class: 'results' });
  main.append(h('h1', { tabindex: '-1' }, 'Courses'),
    h('p', { class: 'lede' }, 'Every course of this site, with its latest daily metrics. Open a course for its history and learners.'),
    h('div', { class: 'toolbar' }, searchForm({
      label: 'Search courses', placeholder: 'Course name or id', value: state.search,
      onSearch: (s) => { state.search = s; state.offset = 0; load(); },
    })),
    results);

  function load() {
    setQuery({ search: state.search, ordering: state.ordering === 'display_name' ? '' : state.ordering, limit: state.limit === 20 ? '' : state.limit, offset: state.offset || '' });
    const params = { search: state.search, ordering: state.ordering, limit: state.limit, offset: state.offset };
    return ctx.track(region(ctx, results, 'courses', (signal) => get('courses-general/', params, { signal }), (page) => {
      results.dataset.query = state.search;
      results.dataset.count = String(page.count);
      if (page.count === 0) {
        return empty(state.search ? `No course matches “${state.search}”.` : `No courses. ${NO_DATA}`);
      }
      const nav = () => pager({
        count: page.count, limit: state.limit, offset: state.offset, noun: 'courses',
        onChange: (offset, limit) => { state.offset = offset; state.limit = limit; load(); },
      });
      return [
        nav(),
        table({
          caption: 'Courses',
          sort: state.ordering,
          onSort: (o) => { state.ordering = o; state.offset = 0; load(); },
          rows: page.results,
          rowAttrs: (c) => ({ dataset: { courseId: c.course_id } }),
          columns: [
            { label: 'Course', sort: 'display_name', wrap: true, cell: (c) => h('a', { href: href(`/figures/course/${pathID(c.course_id)}`), class: 'course-link' }, c.course_name || c.course_id) },
            { label: 'Course id', sort: 'course_id', cell: (c) => h('code', null, c.course_id) },
            { label: 'Starts', sort: 'start_date', cell: (c) => day(c.start_date) },
            { label: 'Pacing', sort: 'self_paced', cell: (c) => (c.self_paced ? 'Self-paced' : 'Instructor-led') },
            { label: 'Enrolled', num: true, cell: (c) => metric(c, 'enrollment_count', num) },
            { label: 'Active on last day', num: true, cell: (c) => metric(c, 'active_learners_today', num) },
            { label: 'Average progress', num: true, cell: (c) => metric(c, 'average_progress', pct) },
            { label: 'Completions', num: true, cell: (c) => metric(c, 'num_learners_completed', num) },
          ],
        }),
        page.count > state.limit ? nav() : null,
      ];
    }));
  }
  return load();
}

// metric shows a value of the course's newest daily row, or says there is
// none (the pipeline has not covered the course yet).
function metric(c, key, fmt) {
  if (!c.metrics) return h('span', { class: 'muted', title: 'The pipeline has not computed this course yet' }, 'N/A');
  return h('span', { dataset: { metric: key, value: String(c.metrics[key]) } }, fmt(c.metrics[key]));
}
