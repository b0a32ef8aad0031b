package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/store"
)

// TestServeMountsDashboard checks that `figures serve` serves the
// dashboard beside the API: pages send a caller without credentials to
// sign in, the token sign-in sets the cookie, and with it the dashboard
// and the API answer.
func TestServeMountsDashboard(t *testing.T) {
	storeURL := "sqlite:///" + filepath.Join(t.TempDir(), "store.db")
	ctx := context.Background()
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := st.CreateAPIToken(ctx, "web", nil, time.Now())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv, cleanup, err := buildServer(ctx, serveOptions{storeURL: storeURL, addr: "127.0.0.1:0", dbConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, req)
		return rec
	}

	rec := serve(httptest.NewRequest(http.MethodGet, "/figures/courses", nil))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/figures/signin?next=") {
		t.Fatalf("page without credentials: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	req := httptest.NewRequest(http.MethodPost, "/figures/signin", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = serve(req)
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("sign in: %d %v", rec.Code, cookies)
	}
	for _, p := range []string{"/figures/", "/figures/api/pipeline-runs/"} {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		req.AddCookie(cookies[0])
		if rec := serve(req); rec.Code != http.StatusOK {
			t.Errorf("%s with the sign-in cookie: %d %s", p, rec.Code, rec.Body)
		}
	}
}
