// Client-side routing with the history API: every dashboard path is a real
// URL (the server answers each with the same page), so links can be
// shared, opened in new tabs and reloaded. A page's filters, sort order
// and paging live in its query string for the same reason.

import { site } from './api.js';

let onChange = () => {};

/** listen sets the function that draws the page of the current URL. */
export function listen(fn) {
  onChange = fn;
  window.addEventListener('popstate', () => onChange({ restoreFocus: false }));
}

/**
 * href builds a dashboard link: path plus query parameters (empty ones
 * left out), keeping the chosen site so that a link never changes site.
 */
export function href(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, v);
  }
  if (site() && !q.has('site')) q.set('site', site());
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** navigate opens a dashboard URL without reloading the page. */
export function navigate(url) {
  window.history.pushState(null, '', url);
  onChange({ restoreFocus: true });
}

/** query returns the current URL's parameters. */
export function query() {
  return new URLSearchParams(window.location.search);
}

/**
 * setQuery records a page's state (search, sort, paging) in the URL, in
 * place: the back button leaves the page rather than undoing a keystroke.
 */
export function setQuery(params) {
  window.history.replaceState(null, '', href(window.location.pathname, params));
}

/**
 * isAppLink reports whether a click on a should be routed here: a plain
 * left click on a same-origin dashboard link (not the API, assets,
 * sign-in or a download).
 */
export function isAppLink(a, ev) {
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return false;
  if (a.target || a.hasAttribute('download') || a.origin !== window.location.origin) return false;
  const p = a.pathname;
  return (p === '/figures/' || p.startsWith('/figures/')) &&
    !/^\/figures\/(api|static|signin|signout)(\/|$)/.test(p);
}
