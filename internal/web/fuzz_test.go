package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzSignInRedirect signs in through the real handler with a valid token
// and a fuzzed next, and resolves the redirect as a browser would (tabs
// and line breaks dropped, backslashes read as slashes): it never leaves
// the dashboard's origin.
func FuzzSignInRedirect(f *testing.F) {
	e := newHandlerEnv(f)
	for _, s := range []string{
		"/figures/courses", "/figures/course/course-v1:A+B+C?search=x", "https://evil.example/", "//evil.example",
		"/figures//evil.example", "/figures/\\evil.example", "/\\evil.example", "/figures/../..//evil.example",
		"/figures/%2F%2Fevil.example", "/figures/\t/evil.example", "javascript:alert(1)", "/figures/signin", "/figures/@evil.example",
		"/figures/?next=//evil.example", "/figures/#//evil.example", "/figures/..%2f..%2f%2fevil.example", "",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://dash.example/figures/signin")
	f.Fuzz(func(t *testing.T, next string) {
		b, mod := form(url.Values{"token": {e.token}, "next": {next}})
		rec := e.do(http.MethodPost, "/figures/signin", b, mod)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("next %q: status %d", next, rec.Code)
		}
		loc := rec.Header().Get("Location")
		browser := strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return -1
			case '\\':
				return '/'
			}
			return r
		}, strings.Trim(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		u, err := url.Parse(browser)
		if err != nil {
			// A browser that cannot parse it goes nowhere; but we only
			// ever send what our own code made.
			t.Fatalf("next %q: Location %q does not parse: %v", next, loc, err)
		}
		to := base.ResolveReference(u)
		// http.Redirect cleans the path: "/figures/." becomes "/figures",
		// the dashboard's root all the same.
		if to.Scheme != "https" || to.Host != "dash.example" || (to.Path != "/figures" && !strings.HasPrefix(to.Path, "/figures/")) {
			t.Fatalf("next %q: Location %q leads to %s", next, loc, to)
		}
	})
}
