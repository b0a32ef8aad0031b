package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// TestPausedStore serves the API from a MariaDB and a PostgreSQL store
// reached through a TCP proxy, then pauses the proxy (the server stalls:
// connections stay open, nothing arrives). Requests must end with a 503
// naming the store within their store time, /healthz must report the
// store, and once the proxy resumes everything answers again.
func TestPausedStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(testing.TB) string
	}{{"mysql", dbtest.MySQLURL}, {"postgres", dbtest.PostgresURL}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			direct := tc.url(t)
			db, err := database.Open(ctx, direct, database.Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, db, nil)
			u, err := neturl.Parse(direct)
			if err != nil {
				t.Fatal(err)
			}
			proxy := dbtest.NewProxy(t, u.Host)
			u.Host = proxy.Addr()
			st, err := store.OpenReadOnly(ctx, u.String())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			auth, err := NewAuthenticator(AuthConfig{Store: st, Now: func() time.Time { return fixtureNow }})
			if err != nil {
				t.Fatal(err)
			}
			const limit = time.Second
			h, err := NewHandler(Config{Store: st, Auth: auth, Now: func() time.Time { return fixtureNow }, MaxInFlight: 2,
				StoreTimeout: limit, ExportTimeout: limit, HealthTimeout: limit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			get := func(path string) (int, string, time.Duration) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer "+e.tokAll)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				return rec.Code, rec.Body.String(), time.Since(start)
			}
			paths := []string{"/figures/api/users-general/", "/figures/api/learner-metrics/?format=csv", "/figures/api/courses-detail/"}
			for _, p := range paths {
				if code, body, _ := get(p); code != http.StatusOK {
					t.Fatalf("%s before the pause: %d %s", p, code, body)
				}
			}

			proxy.Pause()
			// Paths the caches have not seen, so that the store is asked.
			for _, p := range append(paths, "/figures/api/user-index/?search=zz", "/healthz") {
				code, body, took := get(p)
				if code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
					t.Errorf("%s, store paused: %d %s", p, code, body)
				}
				// A generous bound: it proves the request did not hang.
				if took > 10*limit {
					t.Errorf("%s, store paused: answered after %s", p, took)
				}
			}

			proxy.Resume()
			deadline := time.Now().Add(30 * time.Second)
			for _, p := range append(paths, "/healthz") {
				for {
					code, body, _ := get(p)
					if code == http.StatusOK {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s after the pause: %d %s", p, code, body)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
}

// TestHealthzSaturated checks that /healthz reports an API whose every
// in-flight slot has been busy, with none freed, for longer than
// HealthStall, and recovers once one is freed.
func TestHealthzSaturated(t *testing.T) {
	now := fixtureNow
	e := sqliteEnv(t).withConfig(t, func(c *Config) {
		c.MaxInFlight = 2
		c.HealthStall = 15 * time.Second
		c.Now = func() time.Time { return now }
	})
	health := func() (int, string) {
		code, body := e.get(t, "", "/healthz")
		return code, string(body)
	}
	r1, _ := e.srv.gate.acquire(context.Background())
	r2, _ := e.srv.gate.acquire(context.Background())
	now = now.Add(10 * time.Second)
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("busy for 10 s: %d %s", code, body)
	}
	now = now.Add(10 * time.Second)
	if code, body := health(); code != http.StatusServiceUnavailable || !strings.Contains(body, "all 2 request slots busy for 20s") {
		t.Fatalf("stuck for 20 s: %d %s", code, body)
	}
	r1()
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("a slot freed: %d %s", code, body)
	}
	r2()
}
