// Learners: the site's users (users-general), searchable, sortable and
// paged.

import { get } from '../api.js';
import { h, empty, NO_DATA } from '../dom.js';
import { region, table, pager, searchForm, pageSize, intParam } from '../widgets.js';
import { href, query, setQuery } from '../router.js';
import { num, day } from '../format.js';

export function render(main, ctx) {
  ctx.title('Learners');
  const q = query();
  const state = { search: q.get('search') || '', ordering: q.get('ordering') || 'profile__name', limit: pageSize(q), offset: intParam(q, 'offset', 0) };
  const results = h('div', { class: 'results' });
  main.append(h('h1', { tabindex: '-1' }, 'Learners'),
    h('p', { class: 'lede' }, 'The site\'s learners. Open one for their courses and progress.'),
    h('div', { class: 'toolbar' }, searchForm({
      label: 'Search learners', placeholder: 'Name, username or email', value: state.search,
      onSearch: (s) => { state.search = s; state.offset = 0; load(); },
    })),
    results);

  function load() {
    setQuery({ search: state.search, ordering: state.ordering === 'profile__name' ? '' : state.ordering, limit: state.limit === 20 ? '' : state.limit, offset: state.offset || '' });
    const params = { search: state.search, ordering: state.ordering, limit: state.limit, offset: state.offset };
    return ctx.track(region(ctx, results, 'learners', (signal) => get('users-general/', params, { signal }), (page) => {
      results.dataset.query = state.search;
      results.dataset.count = String(page.count);
      if (page.count === 0) return empty(state.search ? `No learner matches “${state.search}”.` : `No learners. ${NO_DATA}`);
      const nav = () => pager({
        count: page.count, limit: state.limit, offset: state.offset, noun: 'learners',
        onChange: (offset, limit) => { state.offset = offset; state.limit = limit; load(); },
      });
      return [
        nav(),
        table({
          caption: 'Learners',
          sort: state.ordering,
          onSort: (o) => { state.ordering = o; state.offset = 0; load(); },
          rows: page.results,
          rowAttrs: (u) => ({ dataset: { userId: String(u.id) } }),
          columns: [
            { label: 'Name', sort: 'profile__name', cell: (u) => h('a', { href: href(`/figures/user/${u.id}`), class: 'user-link' }, u.fullname || u.username) },
            { label: 'Username', sort: 'username', cell: (u) => u.username },
            { label: 'Email', sort: 'email', cell: (u) => u.email },
            { label: 'Account', sort: 'is_active', cell: (u) => (u.is_active ? 'Active' : 'Not activated') },
            { label: 'Joined', sort: 'date_joined', cell: (u) => day(u.date_joined) },
            { label: 'Courses', num: true, cell: (u) => h('span', { dataset: { value: String(u.courses.length) } }, num(u.courses.length)) },
          ],
        }),
        page.count > state.limit ? nav() : null,
      ];
    }));
  }
  return load();
}
