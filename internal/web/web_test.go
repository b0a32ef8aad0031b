package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// handlerEnv is the dashboard and the API on one mux, as `figures serve`
// mounts them, over an empty store with an all-sites token.
type handlerEnv struct {
	st      *store.Store
	h       *Handler
	mux     *http.ServeMux
	token   string
	tokenID int64
}

func newHandlerEnv(t testing.TB) *handlerEnv {
	t.Helper()
	ctx := context.Background()
	db := dbtest.SQLite(t, "store.db")
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	st := store.New(db)
	token, tok, err := st.CreateAPIToken(ctx, "web", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := api.NewAuthenticator(api.AuthConfig{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	apiH, err := api.NewHandler(api.Config{Store: st, Auth: auth, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Auth: auth, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, apiH)
	mux.Handle(Path, h)
	return &handlerEnv{st: st, h: h, mux: mux, token: token, tokenID: tok.ID}
}

// do serves one request; mod adjusts it before.
func (e *handlerEnv) do(method, target string, body io.Reader, mod func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if mod != nil {
		mod(req)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

func withCookie(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

func form(values url.Values, mods ...func(*http.Request)) (io.Reader, func(*http.Request)) {
	return strings.NewReader(values.Encode()), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, m := range mods {
			m(r)
		}
	}
}

// checkSecurityHeaders checks the headers every dashboard answer carries.
func checkSecurityHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy allows inline or eval: %q", what, csp)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: no nosniff", what)
	}
}

// TestAppShell checks that a page load without credentials goes to the
// sign-in page, and that with them every dashboard path is the shell,
// with no inline script.
func TestAppShell(t *testing.T) {
	e := newHandlerEnv(t)
	rec := e.do(http.MethodGet, "/figures/courses?search=x", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/figures/signin?next=%2Ffigures%2Fcourses%3Fsearch%3Dx" {
		t.Errorf("no credentials: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	checkSecurityHeaders(t, "redirect", rec)

	inline := regexp.MustCompile(`(?is)<script\b[^>]*>\s*[^<\s]`)
	scripts := regexp.MustCompile(`<script [^>]*src="(/figures/static/[0-9a-f]+/[^"]+)"`)
	for _, p := range []string{"/figures/", "/figures/courses", "/figures/course/course-v1:Org+Num+Run", "/figures/course/Org/Num/Run",
		"/figures/user/12", "/figures/pipeline-runs", "/figures/no-such-page"} {
		for _, mod := range []func(*http.Request){
			withCookie(api.TokenCookie, e.token),
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+e.token) },
		} {
			rec := e.do(http.MethodGet, p, nil, mod)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%s: %d %s", p, rec.Code, rec.Header().Get("Content-Type"))
			}
			checkSecurityHeaders(t, p, rec)
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q", p, cc)
			}
			body := rec.Body.String()
			if inline.MatchString(body) {
				t.Errorf("%s: inline script in the page", p)
			}
			// The scripts it names are served.
			m := scripts.FindAllStringSubmatch(body, -1)
			if len(m) != 2 {
				t.Fatalf("%s: scripts %v", p, m)
			}
			for _, s := range m {
				if r := e.do(http.MethodGet, s[1], nil, nil); r.Code != http.StatusOK {
					t.Errorf("%s: script %s: %d", p, s[1], r.Code)
				}
			}
		}
	}
	if rec := e.do(http.MethodPost, "/figures/courses", nil, withCookie(api.TokenCookie, e.token)); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a page: %d", rec.Code)
	}
	// The API keeps its paths: the dashboard never answers them.
	if rec := e.do(http.MethodGet, "/figures/api/no-such-thing/", nil, withCookie(api.TokenCookie, e.token)); rec.Code != http.StatusNotFound ||
		!strings.Contains(rec.Body.String(), `"detail"`) {
		t.Errorf("unknown API path: %d %s", rec.Code, rec.Body)
	}
}

// TestRevokedTokenCookie checks that a token cookie that no longer
// verifies is dropped on the way to the sign-in page (it would hide the
// LMS's JWT cookies from the API).
func TestRevokedTokenCookie(t *testing.T) {
	e := newHandlerEnv(t)
	if err := e.st.RevokeAPIToken(context.Background(), e.tokenID, time.Now()); err != nil {
		t.Fatal(err)
	}
	rec := e.do(http.MethodGet, "/figures/", nil, withCookie(api.TokenCookie, e.token))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/figures/signin") {
		t.Fatalf("revoked token: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	c := cookieNamed(rec, api.TokenCookie)
	if c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != "/figures" {
		t.Errorf("the revoked token's cookie is not deleted: %+v", c)
	}
}

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSignIn checks the token sign-in: the cookie's attributes, the
// redirect, the refusals and their messages, and that the cookie then
// authenticates the API.
func TestSignIn(t *testing.T) {
	e := newHandlerEnv(t)
	rec := e.do(http.MethodGet, "/figures/signin?next=%2Ffigures%2Fcourses", nil, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `name="next" value="/figures/courses"`) || !strings.Contains(body, `<label for="token">`) {
		t.Fatalf("sign-in page: %d\n%s", rec.Code, body)
	}
	checkSecurityHeaders(t, "sign-in page", rec)

	b, mod := form(url.Values{"token": {e.token}, "next": {"/figures/course/course-v1:A+B+C?search=x"}})
	rec = e.do(http.MethodPost, "/figures/signin", b, mod)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/figures/course/course-v1:A+B+C?search=x" {
		t.Fatalf("sign in: %d, Location %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	c := cookieNamed(rec, api.TokenCookie)
	if c == nil || c.Value != e.token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/figures" ||
		c.MaxAge != 30*24*3600 || c.Secure {
		t.Fatalf("cookie %+v", c)
	}
	// The cookie is the API's credential too.
	if r := e.do(http.MethodGet, "/figures/api/pipeline-runs/", nil, withCookie(c.Name, c.Value)); r.Code != http.StatusOK {
		t.Errorf("API with the sign-in cookie: %d %s", r.Code, r.Body)
	}
	// Behind a TLS-terminating proxy the cookie is Secure.
	b, mod = form(url.Values{"token": {e.token}}, func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") })
	rec = e.do(http.MethodPost, "/figures/signin", b, mod)
	if c := cookieNamed(rec, api.TokenCookie); c == nil || !c.Secure || rec.Header().Get("Location") != "/figures/" {
		t.Errorf("over https: %+v, Location %q", c, rec.Header().Get("Location"))
	}

	for _, tc := range []struct {
		name   string
		values url.Values
		mod    func(*http.Request)
		code   int
		says   string
	}{
		{"empty", url.Values{"token": {" "}}, nil, http.StatusBadRequest, "Enter an API token."},
		{"not a token", url.Values{"token": {"hello"}}, nil, http.StatusBadRequest, "not a figures API token"},
		{"wrong token", url.Values{"token": {store.APITokenPrefix + "nope"}}, nil, http.StatusUnauthorized, "not valid"},
		{"cross-site", url.Values{"token": {e.token}}, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden, "own sign-in page"},
		{"other origin", url.Values{"token": {e.token}}, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden, "own sign-in page"},
	} {
		b, mod := form(tc.values, func(r *http.Request) {
			if tc.mod != nil {
				tc.mod(r)
			}
		})
		rec := e.do(http.MethodPost, "/figures/signin", b, mod)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tc.name, rec.Code, tc.code, tc.says, rec.Body)
		}
		if c := cookieNamed(rec, api.TokenCookie); c != nil {
			t.Errorf("%s: sets a cookie %+v", tc.name, c)
		}
	}
	// A same-origin browser post (Origin names this host) is fine.
	b, mod = form(url.Values{"token": {e.token}}, func(r *http.Request) { r.Header.Set("Origin", "http://example.com") })
	if rec := e.do(http.MethodPost, "/figures/signin", b, mod); rec.Code != http.StatusSeeOther {
		t.Errorf("same origin: %d", rec.Code)
	}
	// An open redirect is refused: next goes home instead.
	b, mod = form(url.Values{"token": {e.token}, "next": {"https://evil.example/figures/"}})
	if rec := e.do(http.MethodPost, "/figures/signin", b, mod); rec.Header().Get("Location") != "/figures/" {
		t.Errorf("next to another site: Location %q", rec.Header().Get("Location"))
	}
	// Signed in, the sign-in page says so.
	rec = e.do(http.MethodGet, "/figures/signin", nil, withCookie(api.TokenCookie, e.token))
	if !strings.Contains(rec.Body.String(), "You are signed in through an API token") {
		t.Errorf("signed-in notice missing:\n%s", rec.Body)
	}
}

// TestSignOut checks that signing out deletes the cookie.
func TestSignOut(t *testing.T) {
	e := newHandlerEnv(t)
	rec := e.do(http.MethodPost, "/figures/signout", nil, withCookie(api.TokenCookie, e.token))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/figures/signin?signed_out=1" {
		t.Fatalf("sign out: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if c := cookieNamed(rec, api.TokenCookie); c == nil || c.MaxAge >= 0 || c.Path != "/figures" {
		t.Errorf("cookie not deleted: %+v", c)
	}
	if rec := e.do(http.MethodGet, "/figures/signin?signed_out=1", nil, nil); !strings.Contains(rec.Body.String(), "You are signed out") {
		t.Errorf("no signed-out notice")
	}
	rec = e.do(http.MethodPost, "/figures/signout", nil, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") })
	if rec.Code != http.StatusForbidden || cookieNamed(rec, api.TokenCookie) != nil {
		t.Errorf("cross-site sign-out: %d", rec.Code)
	}
	// Only a POST signs out: a link or an image on another page cannot.
	if rec := e.do(http.MethodGet, "/figures/signout", nil, withCookie(api.TokenCookie, e.token)); rec.Code != http.StatusMethodNotAllowed ||
		cookieNamed(rec, api.TokenCookie) != nil || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET /figures/signout: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// TestStaticAssets checks content types, caching by version, gzip and
// conditional requests.
func TestStaticAssets(t *testing.T) {
	e := newHandlerEnv(t)
	v := e.h.assets.version
	for name, want := range map[string]string{
		"js/app.js":                  "text/javascript; charset=utf-8",
		"js/pages/course.js":         "text/javascript; charset=utf-8",
		"vendor/chart.umd.min.js":    "text/javascript; charset=utf-8",
		"css/app.css":                "text/css; charset=utf-8",
		"img/figures.svg":            "image/svg+xml",
		"vendor/chart.js.LICENSE.md": "text/plain; charset=utf-8",
	} {
		rec := e.do(http.MethodGet, "/figures/static/"+v+"/"+name, nil, nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != want {
			t.Errorf("%s: %d %q, want %q", name, rec.Code, rec.Header().Get("Content-Type"), want)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		checkSecurityHeaders(t, name, rec)
		src, _ := staticFS.ReadFile("static/" + name)
		if !bytes.Equal(rec.Body.Bytes(), src) {
			t.Errorf("%s: body differs from the embedded file", name)
		}
	}
	// Every embedded script is served as JavaScript (module scripts are
	// refused otherwise).
	for name, a := range e.h.assets.files {
		if strings.HasSuffix(name, ".js") && a.ctype != "text/javascript; charset=utf-8" {
			t.Errorf("%s: %s", name, a.ctype)
		}
	}

	// gzip, for clients that take it.
	rec := e.do(http.MethodGet, "/figures/static/"+v+"/vendor/chart.umd.min.js", nil, func(r *http.Request) { r.Header.Set("Accept-Encoding", "br, gzip") })
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: %v", rec.Header())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	src, _ := staticFS.ReadFile("static/vendor/chart.umd.min.js")
	if !bytes.Equal(plain, src) {
		t.Error("gzip body differs from the file")
	}
	if rec := e.do(http.MethodGet, "/figures/static/"+v+"/vendor/chart.umd.min.js", nil, func(r *http.Request) { r.Header.Set("Accept-Encoding", "gzip;q=0") }); rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}

	// A conditional request is answered 304.
	rec = e.do(http.MethodGet, "/figures/static/"+v+"/css/app.css", nil, nil)
	etag := rec.Header().Get("ETag")
	if rec := e.do(http.MethodGet, "/figures/static/"+v+"/css/app.css", nil, func(r *http.Request) { r.Header.Set("If-None-Match", etag) }); etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %q: %d", etag, rec.Code)
	}
	// A page from before an upgrade asks for an old version: it gets the
	// current file, not cached for good.
	rec = e.do(http.MethodGet, "/figures/static/0123456789ab/css/app.css", nil, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("old version: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	// Nothing else is served from there; a path to clean up is
	// redirected by the mux first, and its clean form is not a file.
	for _, p := range []string{"/figures/static/" + v + "/js/nope.js", "/figures/static/" + v + "/../web.go", "/figures/static/x", "/figures/static/"} {
		rec := e.do(http.MethodGet, p, nil, nil)
		for i := 0; i < 3 && rec.Code >= 300 && rec.Code < 400; i++ {
			rec = e.do(http.MethodGet, rec.Header().Get("Location"), nil, nil)
		}
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, rec.Code)
		}
	}
	// The templates are not static files.
	if rec := e.do(http.MethodGet, "/figures/static/"+v+"/templates/app.html", nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("template served: %d", rec.Code)
	}
}

// TestSafeNext checks the sign-in's return path.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "/figures/",
		"/figures/courses?search=a":       "/figures/courses?search=a",
		"/figures/course/course-v1:A+B+C": "/figures/course/course-v1:A+B+C",
		"https://evil.example/figures/":   "/figures/",
		"//evil.example/figures/":         "/figures/",
		"/figures/\\evil":                 "/figures/",
		"/other/":                         "/figures/",
		"/figures/signin?next=x":          "/figures/",
		"/figures/signout":                "/figures/",
		"/figures/x\r\nSet-Cookie: a=b":   "/figures/",
		"/figures/../../evil":             "/figures/",
		"/figures/a/../b":                 "/figures/a/../b",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignInURL pins the format `figures demo` prints.
func TestSignInURL(t *testing.T) {
	if got := SignInURL("http://127.0.0.1:8000/", "fgt_abc-_1"); got != "http://127.0.0.1:8000/figures/signin#token=fgt_abc-_1" {
		t.Errorf("SignInURL = %q", got)
	}
}

// TestAcceptsGzip checks the Accept-Encoding reading.
func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "br, gzip;q=0.5": true, "GZIP": true, "gzip;q=0": false, "gzip; q=0.0": false, "identity": false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := acceptsGzip(r); got != want {
			t.Errorf("%q: %v, want %v", h, got, want)
		}
	}
}

// TestVendoredChecksums checks the vendored files against the checksums
// vendor.sh recorded, so that a hand edit or a partial re-vendoring shows.
func TestVendoredChecksums(t *testing.T) {
	f, err := os.Open(filepath.Join("static", "vendor", "VERSIONS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 {
			t.Fatalf("VERSIONS line %q", line)
		}
		body, err := os.ReadFile(filepath.Join("static", "vendor", fields[0]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != fields[3] {
			t.Errorf("%s: sha256 differs from VERSIONS: re-run internal/web/vendor.sh", fields[0])
		}
		n++
	}
	if n == 0 {
		t.Fatal("VERSIONS lists no file")
	}
}
