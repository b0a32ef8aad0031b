// The dashboard's shell: routes URLs to pages, keeps the main navigation
// and the site picker in step, and tells pages when to draw.
//
// Each page module exports render(main, ctx): it fills main (one h1, then
// its sections) and returns a promise that settles when its first data
// has arrived. ctx carries the route's parameters and helpers:
//   ctx.params   the route's captured values (course id, user id)
//   ctx.signal   aborted when the user leaves the page
//   ctx.track(p) marks main busy (aria-busy) until promise p settles
//   ctx.title(t) sets the document title
// While anything is loading, main has aria-busy="true"; the browser tests
// wait on that rather than on time.

import * as api from './api.js';
import { h, replace } from './dom.js';
import { destroyCharts } from './charts.js';
import { listen, navigate, isAppLink, href } from './router.js';
import * as overview from './pages/overview.js';
import * as mau from './pages/mau.js';
import * as courses from './pages/courses.js';
import * as course from './pages/course.js';
import * as users from './pages/users.js';
import * as user from './pages/user.js';
import * as progress from './pages/progress.js';
import * as runs from './pages/runs.js';
import * as notFound from './pages/notfound.js';

const ROUTES = [
  { name: 'overview', re: /^\/figures\/?$/, page: overview },
  { name: 'mau', re: /^\/figures\/mau-history\/?$/, page: mau },
  { name: 'courses', re: /^\/figures\/courses\/?$/, page: courses },
  // Course ids may hold slashes (Org/Course/Run): everything after course/.
  { name: 'course', re: /^\/figures\/course\/(.+?)\/?$/, page: course },
  { name: 'users', re: /^\/figures\/users\/?$/, page: users },
  { name: 'user', re: /^\/figures\/user\/(\d+)\/?$/, page: user },
  { name: 'progress', re: /^\/figures\/learners-progress-overview\/?$/, page: progress },
  { name: 'runs', re: /^\/figures\/pipeline-runs\/?$/, page: runs },
];

const main = document.getElementById('main');
let pending = 0;
let current = null; // the AbortController of the page on screen

function track(promise) {
  pending += 1;
  main.setAttribute('aria-busy', 'true');
  const done = () => {
    pending -= 1;
    if (pending === 0) main.setAttribute('aria-busy', 'false');
  };
  Promise.resolve(promise).then(done, done);
  return promise;
}

function match(pathname) {
  for (const r of ROUTES) {
    const m = r.re.exec(pathname);
    if (m) return { route: r, params: m.slice(1).map((s) => safeDecode(s)) };
  }
  return { route: { name: 'notfound', page: notFound }, params: [] };
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function siteFromURL() {
  return new URLSearchParams(window.location.search).get('site') || '';
}

function updateNav(name) {
  for (const a of document.querySelectorAll('.main-nav a')) {
    const routes = (a.dataset.route || '').split(' ');
    if (routes.includes(name)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    a.setAttribute('href', href(new URL(a.href).pathname));
  }
  const brand = document.querySelector('.brand');
  if (brand) brand.setAttribute('href', href('/figures/'));
}

function render({ restoreFocus }) {
  if (current) current.abort();
  current = new AbortController();
  destroyCharts();
  api.setSite(siteFromURL());
  const sel = document.getElementById('site-select');
  if (sel) sel.value = api.site();

  const { route, params } = match(window.location.pathname);
  updateNav(route.name);
  main.dataset.route = route.name;
  main.dataset.path = window.location.pathname;
  replace(main);
  const signal = current.signal;
  const ctx = {
    params,
    signal,
    track,
    title: (t) => { document.title = t ? `${t} · Figures` : 'Figures'; },
  };
  const done = track(Promise.resolve().then(() => route.page.render(main, ctx)).catch((err) => {
    if (err && err.name === 'AbortError') return;
    // A page that failed outright still gets a heading and the reason.
    if (!main.querySelector('h1')) main.append(h('h1', { tabindex: '-1' }, 'Something went wrong'));
    main.append(h('p', { class: 'state error', role: 'alert' }, String((err && err.message) || err)));
  }));
  if (restoreFocus) {
    // Move focus to the new page's heading, so that keyboard and screen
    // reader users land on the page they opened, not on the old link.
    Promise.resolve().then(() => {
      const h1 = main.querySelector('h1');
      (h1 || main).focus({ preventScroll: false });
    });
    window.scrollTo(0, 0);
  }
  return done;
}

// The site picker, for callers that may read every site (the API answers
// admin/sites only for them); others read their one site and see none.
async function setupSites() {
  const box = document.getElementById('site-picker');
  const sel = document.getElementById('site-select');
  if (!box || !sel) return;
  let sites;
  try {
    sites = await api.all('admin/sites/');
  } catch {
    return;
  }
  if (sites.length < 2) return;
  replace(sel, h('option', { value: '' }, 'By address (default)'),
    sites.map((s) => h('option', { value: String(s.id) }, `${s.name || s.domain} (${s.domain})`)));
  sel.value = api.site();
  sel.addEventListener('change', () => {
    const q = new URLSearchParams(window.location.search);
    // Another site has other courses and learners: leave detail pages
    // for their lists, and drop filters that name this site's objects.
    const { route } = match(window.location.pathname);
    const base = { course: '/figures/courses', user: '/figures/users' }[route.name] || window.location.pathname;
    const keep = new URLSearchParams();
    if (sel.value) keep.set('site', sel.value);
    if (base === window.location.pathname && q.get('search')) keep.set('search', q.get('search'));
    const s = keep.toString();
    navigate(s ? `${base}?${s}` : base);
  });
  box.hidden = false;
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!isAppLink(a, ev)) return;
  ev.preventDefault();
  navigate(a.pathname + a.search);
});

listen(render);
render({ restoreFocus: false });
setupSites();
