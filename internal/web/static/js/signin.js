// The sign-in page's only script. A link made by `figures demo` (or by
// anyone with web.SignInURL) carries the token in the URL's fragment,
// which the browser never sends to the server: take it from there, drop it
// from the address bar and the history entry, and post it with the form,
// so that the token reaches the server once, in a POST body, and never an
// access log.
const form = document.getElementById('signin-form');
const input = document.getElementById('token');
const progress = document.getElementById('signin-progress');

const hash = new URLSearchParams(location.hash.slice(1));
const token = hash.get('token');
if (token) {
  history.replaceState(null, '', location.pathname + location.search);
  // A token that did not verify comes back with an error: do not loop.
  if (!document.getElementById('signin-error')) {
    input.value = token;
    progress.hidden = false;
    form.requestSubmit();
  }
}
