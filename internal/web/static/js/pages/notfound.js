// A dashboard path that names no page.

import { h } from '../dom.js';
import { href } from '../router.js';

export function render(main, ctx) {
  ctx.title('Page not found');
  main.append(h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', null, 'The dashboard has no page at this address. ', h('a', { href: href('/figures/') }, 'Go to the overview'), '.'));
}
