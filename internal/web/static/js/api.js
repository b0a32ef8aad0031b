// The dashboard's only data source: the Figures API under /figures/api/,
// fetched from the same origin. The browser sends the sign-in cookie (the
// HttpOnly figures-token, or the LMS's JWT cookies) by itself; the page
// never sees a credential.

const ROOT = '/figures/api/';

/** ApiError is a failed API call: the HTTP status and the API's words. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let siteID = '';

/**
 * setSite chooses the site every call reads (?site=ID), for global callers
 * that can read several; '' lets the API pick (the Host's site, else the
 * default one).
 */
export function setSite(id) {
  siteID = id ? String(id) : '';
}

/** site returns the chosen site id, or ''. */
export function site() {
  return siteID;
}

/**
 * url builds an API URL (path and query, same origin) from a path below
 * /figures/api/ and parameters: empty values are left out, arrays repeat
 * the parameter (course=A&course=B).
 */
export function url(path, params = {}) {
  const u = new URL(ROOT + path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => u.searchParams.append(k, x));
    else u.searchParams.set(k, v);
  }
  if (siteID && !u.searchParams.has('site')) u.searchParams.set('site', siteID);
  return u.pathname + u.search;
}

/** csvURL is url with format=csv: the API streams every selected row. */
export function csvURL(path, params = {}) {
  return url(path, { ...params, format: 'csv' });
}

/**
 * pathID encodes an id (a course id, which may hold slashes, colons and
 * pluses) as path segments of an API or page URL: the API takes course
 * ids in paths, slashes included, and turns %2B back into '+'.
 */
export function pathID(id) {
  return String(id).split('/').map(encodeURIComponent).join('/')
    .replace(/%3A/gi, ':').replace(/%2B/gi, '+');
}

/** signInURL is the sign-in page that returns to where the browser is. */
export function signInURL() {
  const next = window.location.pathname + window.location.search;
  return `/figures/signin?next=${encodeURIComponent(next)}`;
}

/**
 * get fetches an API path and returns its JSON. It throws an ApiError whose
 * message is the API's own detail ({"detail": ...}, or the per-parameter
 * messages of a 400). A 401 means the sign-in has ended: the browser goes
 * to the sign-in page, which comes back here after.
 */
export function get(path, params, opts) {
  return fetchJSON(url(path, params), opts);
}

/** fetchJSON is get for a full URL (the API's next/previous links). */
export async function fetchJSON(u, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(u, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached: check the connection and try again.');
  }
  if (resp.status === 401) {
    window.location.assign(signInURL());
    throw new ApiError(401, 'Your sign-in has ended; opening the sign-in page.');
  }
  let body = null;
  if ((resp.headers.get('Content-Type') || '').includes('json')) {
    try {
      body = await resp.json();
    } catch {
      body = null;
    }
  }
  if (!resp.ok) throw new ApiError(resp.status, detailOf(body, resp));
  if (body === null) throw new ApiError(resp.status, 'The server answered with something that is not JSON.');
  return body;
}

function detailOf(body, resp) {
  if (body && typeof body.detail === 'string') return body.detail;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const parts = Object.entries(body).map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`);
    if (parts.length) return parts.join('; ');
  }
  return `The server answered ${resp.status} ${resp.statusText}.`.replace(' .', '.');
}

/**
 * all reads every page of a limit/offset list, following the API's next
 * links, up to max rows (charts of daily rows; the API's own page size
 * stays in charge).
 */
export async function all(path, params = {}, { signal, max = 5000 } = {}) {
  let page = await get(path, { limit: 1000, ...params }, { signal });
  const rows = [...page.results];
  while (page.next && rows.length < max) {
    page = await fetchJSON(page.next, { signal });
    rows.push(...page.results);
  }
  return rows;
}
