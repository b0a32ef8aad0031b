// Package web serves the figures dashboard under /figures/: a single-page
// application (plain ES modules, CSS and a vendored Chart.js, embedded in
// the binary) that reads everything it shows from the REST API under
// /figures/api/ with the browser's same-origin fetch. The handlers here
// serve only the page shell, the static assets and the sign-in cookie;
// they never read metrics, so the dashboard can show nothing the API would
// not show the same caller.
//
// Sign-in: on the LMS's domain the LMS's JWT cookies
// (edx-jwt-cookie-header-payload and edx-jwt-cookie-signature) already
// authenticate the page and the API. Elsewhere the sign-in page takes an
// API token and stores it in the HttpOnly figures-token cookie, which the
// API accepts; see SignInURL for the link `figures demo` prints.
package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/api"
)

// Path is where the dashboard is mounted; every path below it that the
// API does not serve is the dashboard's.
const Path = "/figures/"

const (
	signInPath  = "/figures/signin"
	signOutPath = "/figures/signout"
	staticPath  = "/figures/static/"
)

// contentSecurityPolicy allows nothing but this origin's own files: no
// inline script or style, no eval, no other origin (the API is
// same-origin), no framing. Chart.js sizes its canvases through the CSSOM,
// which style-src does not restrict.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Config configures the dashboard.
type Config struct {
	// Auth authenticates page loads and sign-in tokens: the API's own
	// Authenticator, so that the pages accept exactly the API's callers.
	// Required.
	Auth *api.Authenticator
	// CookieMaxAge is how long the token sign-in lasts in the browser.
	// 0: 30 days; negative: until the browser is closed.
	CookieMaxAge time.Duration
	// Logger logs server-side failures. Nil: slog.Default().
	Logger *slog.Logger
}

// Handler serves the dashboard. Mount it on Path beside the API (whose
// more specific /figures/api/ pattern keeps the API's paths).
type Handler struct {
	auth    *api.Authenticator
	log     *slog.Logger
	maxAge  time.Duration
	assets  *assets
	appTmpl *template.Template
	inTmpl  *template.Template
	mux     *http.ServeMux
}

// New returns the dashboard handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Auth == nil {
		return nil, errors.New("web: no authenticator")
	}
	as, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	appTmpl, err := template.ParseFS(templateFS, "templates/app.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	inTmpl, err := template.ParseFS(templateFS, "templates/signin.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{auth: cfg.Auth, log: cfg.Logger, maxAge: cfg.CookieMaxAge, assets: as, appTmpl: appTmpl, inTmpl: inTmpl,
		mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.maxAge == 0 {
		h.maxAge = 30 * 24 * time.Hour
	}
	h.mux.HandleFunc("GET "+staticPath+"{version}/{file...}", h.serveAsset)
	h.mux.HandleFunc("GET "+staticPath, http.NotFound)
	h.mux.HandleFunc("GET "+signInPath, h.signInPage)
	h.mux.HandleFunc("POST "+signInPath, h.signIn)
	h.mux.HandleFunc("POST "+signOutPath, h.signOut)
	h.mux.HandleFunc("GET "+signOutPath, func(w http.ResponseWriter, r *http.Request) {
		// Only the dashboard's button (a POST) signs out: a link or an
		// image on another page must not.
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Sign out with the dashboard's Sign out button.", http.StatusMethodNotAllowed)
	})
	h.mux.HandleFunc("GET "+Path, h.app)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// SignInURL returns the link that signs a browser in with token and opens
// the dashboard: base (scheme://host[:port] of the server, as the browser
// reaches it) + "/figures/signin#token=" + token. The token travels in the
// URL's fragment, which browsers never send to a server: the sign-in page's
// script reads it, removes it from the address bar and posts it, so it
// does not reach access logs, proxies or Referer headers.
func SignInURL(base, token string) string {
	return strings.TrimRight(base, "/") + signInPath + "#token=" + url.QueryEscape(token)
}

// shell is what the page templates need.
type shell struct {
	Static string // the versioned static prefix, without the trailing slash
}

// app serves the page shell for every dashboard path (the pages route on
// the client, so a deep link or a reload of any of them works), or sends
// a caller without credentials to the sign-in page.
func (h *Handler) app(w http.ResponseWriter, r *http.Request) {
	if _, err := h.auth.Authenticate(r); err != nil {
		var se *api.StatusError
		switch {
		case errors.As(err, &se) && se.Status == http.StatusUnauthorized:
			// A figures-token cookie that no longer verifies (revoked)
			// would hide the LMS's JWT cookies from the API, which reads
			// the token cookie first: drop it.
			if c, err := r.Cookie(api.TokenCookie); err == nil && c.Value != "" {
				http.SetCookie(w, h.tokenCookie(r, "", -1))
			}
			q := url.Values{"next": {r.URL.RequestURI()}}
			http.Redirect(w, r, signInPath+"?"+q.Encode(), http.StatusSeeOther)
		case errors.As(err, &se):
			h.renderSignIn(w, r, se.Status, signInView{Error: se.Detail, Next: r.URL.RequestURI()})
		default:
			h.log.Error("dashboard: authenticate", "err", err)
			h.renderSignIn(w, r, http.StatusInternalServerError, signInView{
				Error: "The server could not check your sign-in: its store did not answer. Try again in a moment.", Next: r.URL.RequestURI()})
		}
		return
	}
	h.render(w, http.StatusOK, h.appTmpl, shell{Static: h.assets.prefix})
}

// render executes a page template into a buffer first, so that a failure
// is a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		h.log.Error("dashboard: render", "template", t.Name(), "err", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The shell depends on who is signed in; never reuse it.
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
