// DOM helpers. Every page builds its elements with h(), which sets text
// through text nodes and attributes through setAttribute: nothing from the
// API is ever parsed as HTML, so course names, learner names and error
// messages cannot inject markup.

/**
 * h builds an element.
 * props: class, text, dataset (object), on<event> (function), or any
 * attribute (true: present, false/null/undefined: absent).
 * children: nodes, strings, numbers, arrays of them; null and false are
 * skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** append adds children (see h) to el. */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** replace swaps el's children for children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
/** id returns a document-unique id with prefix, for label/for pairs. */
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** loading is the placeholder of a region whose data is on its way. */
export function loading(what) {
  return h('p', { class: 'state loading', role: 'status' }, `Loading ${what}…`);
}

/**
 * errorBox says in words why a region could not be shown: the API's own
 * detail message, and the status when there is one. retry, when given,
 * offers to try again.
 */
export function errorBox(what, err, retry) {
  const status = err && err.status ? ` (HTTP ${err.status})` : '';
  const msg = (err && err.message) || String(err);
  return h('div', { class: 'state error', role: 'alert' },
    h('strong', null, `Could not load ${what}.`), ' ', msg, status,
    retry ? [' ', h('button', { type: 'button', class: 'button button-small', onclick: retry }, 'Try again')] : null);
}

/** empty is the text of a region with nothing to show. */
export function empty(text) {
  return h('p', { class: 'state empty' }, text);
}

/** NO_DATA says why a site has no metrics yet. */
export const NO_DATA = 'No data yet — the pipeline has not run for this site.';

/**
 * card is a titled section of a page. Its heading level is h2: a page has
 * exactly one h1, its title.
 */
export function card(title, ...children) {
  const hid = id('card');
  return h('section', { class: 'card', 'aria-labelledby': hid }, h('h2', { id: hid }, title), children);
}

/** debounce delays fn until ms have passed without another call. */
export function debounce(fn, ms) {
  let t;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
