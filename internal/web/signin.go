package web

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/api"
	"github.com/figures-analytics/figures/internal/store"
)

// signInView is what the sign-in page shows.
type signInView struct {
	Static string
	// Next is the dashboard path to open after signing in.
	Next string
	// Error explains why the last attempt failed (or why the page was
	// refused); Notice is a neutral message (signed out).
	Error, Notice string
	// SignedIn: the request already authenticates (the LMS's cookies, or
	// a token cookie), so the page offers to continue instead.
	SignedIn bool
	// Via says how: "the LMS" or "an API token".
	Via string
}

// signInPage serves the sign-in form. Its script signs in at once when the
// URL's fragment carries a token (the link SignInURL makes).
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	v := signInView{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("signed_out") != "" {
		v.Notice = "You are signed out of the dashboard."
	}
	if p, err := h.auth.Authenticate(r); err == nil {
		v.SignedIn, v.Via = true, "an API token"
		if p.Kind == "jwt" {
			v.Via = "the LMS"
		}
	}
	h.renderSignIn(w, r, http.StatusOK, v)
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInView) {
	v.Static = h.assets.prefix
	v.Next = safeNext(v.Next)
	h.render(w, status, h.inTmpl, v)
}

// maxFormBytes bounds a sign-in form: a token and a path.
const maxFormBytes = 16 << 10

// signIn checks the posted API token and, when it verifies, stores it in
// the figures-token cookie and opens the dashboard.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		// A form posted from another site would sign the browser in with
		// someone else's token (login CSRF).
		http.Error(w, "Sign-in must be posted from the dashboard's own sign-in page.", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderSignIn(w, r, http.StatusBadRequest, signInView{Error: "The sign-in form could not be read."})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	fail := func(status int, msg string) {
		h.renderSignIn(w, r, status, signInView{Error: msg, Next: next})
	}
	switch {
	case token == "":
		fail(http.StatusBadRequest, "Enter an API token.")
		return
	case !strings.HasPrefix(token, store.APITokenPrefix):
		fail(http.StatusBadRequest, "That is not a figures API token: they start with "+store.APITokenPrefix+
			" (figures token create prints one). On the LMS's domain, sign in to the LMS instead.")
		return
	}
	if _, err := h.auth.VerifyAPIToken(r.Context(), token); err != nil {
		var se *api.StatusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			fail(http.StatusUnauthorized, "That token is not valid: it may have been mistyped or revoked.")
			return
		}
		h.log.Error("dashboard: verify token", "err", err)
		fail(http.StatusInternalServerError, "The server could not check the token: its store did not answer. Try again in a moment.")
		return
	}
	http.SetCookie(w, h.tokenCookie(r, token, h.maxAge))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut forgets the token cookie. (A sign-in through the LMS's cookies
// ends only when the LMS signs the user out.)
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "Sign-out must be posted from the dashboard.", http.StatusForbidden)
		return
	}
	http.SetCookie(w, h.tokenCookie(r, "", -1))
	http.Redirect(w, r, signInPath+"?signed_out=1", http.StatusSeeOther)
}

// tokenCookie is the figures-token cookie: HttpOnly, so that no script
// (the dashboard's included) can read the token; SameSite=Lax, so that
// other sites' requests do not carry it; scoped to /figures, the API and
// the dashboard; Secure when the browser reached us over HTTPS (directly
// or through a proxy that says so: a false claim only keeps the cookie off
// plain HTTP). With an empty value and a negative maxAge it deletes the
// cookie; with a token, a negative maxAge makes it last until the browser
// closes.
func (h *Handler) tokenCookie(r *http.Request, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: api.TokenCookie, Value: value, Path: "/figures", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.EqualFold(firstValue(r.Header.Get("X-Forwarded-Proto")), "https")}
	switch {
	case maxAge < 0 && value == "":
		c.MaxAge = -1
	case maxAge >= time.Second:
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

func firstValue(s string) string {
	v, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(v)
}

// sameOrigin reports whether a state-changing request comes from this
// site's own pages: the browser's Sec-Fetch-Site says so, or its Origin
// names the host the request was sent to. A request with neither (an old
// browser, curl) is allowed: only browsers carry ambient credentials that
// a cross-site form could abuse, and every current one sends them.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "cross-site", "same-site":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	host := r.Host
	if fh := firstValue(r.Header.Get("X-Forwarded-Host")); fh != "" {
		// Behind a proxy the browser's origin is the proxy's host; a
		// client that forges the header gains nothing, as it could post
		// without an Origin at all.
		host = fh
	}
	return strings.EqualFold(u.Host, host)
}

// safeNext returns next when it is a path of the dashboard, else the
// dashboard's home: an open redirect (next=https://evil.example) would
// let a link through our sign-in page land anywhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Path) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Path
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return Path
	}
	if strings.HasPrefix(u.Path, signInPath) || strings.HasPrefix(u.Path, signOutPath) || strings.HasPrefix(u.Path, staticPath) {
		return Path
	}
	// Dot segments would climb out of the dashboard
	// (/figures/../../elsewhere): the redirect cleans them away.
	if !strings.HasPrefix(path.Clean(u.Path)+"/", Path) {
		return Path
	}
	return next
}
