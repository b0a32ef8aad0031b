package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/store"
)

// runCLI executes the CLI with args and returns its standard output and
// error output.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestTokenAndServe creates tokens and a grant with the CLI, serves a
// SQLite store on a free port, calls it, and stops it as SIGINT would.
func TestTokenAndServe(t *testing.T) {
	storeURL := "sqlite:///" + filepath.Join(t.TempDir(), "store.db")
	ctx := context.Background()
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	now := db.Time(time.Now())
	for _, q := range []string{
		"INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (1, 'lms.example.com', 'LMS', '[]', ?)",
		"INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (2, 'other.example.com', 'Other', '[\"O\"]', ?)",
	} {
		if _, err := db.Exec(ctx, q, now); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	if _, _, err := runCLI(t, "token", "create", "--store", storeURL); err == nil {
		t.Fatal("create without --site or --all: no error")
	}
	if _, _, err := runCLI(t, "token", "create", "--store", storeURL, "--site", "1", "--all"); err == nil {
		t.Fatal("create with --site and --all: no error")
	}
	out, errOut, err := runCLI(t, "token", "create", "--store", storeURL, "--all", "--name", "ops")
	if err != nil {
		t.Fatal(err)
	}
	global := strings.TrimSpace(out)
	if !strings.HasPrefix(global, "fgt_") || !strings.Contains(errOut, `token 1 "ops" created for all sites`) {
		t.Fatalf("create: %q %q", out, errOut)
	}
	out, _, err = runCLI(t, "token", "create", "--store", storeURL, "--site", "2", "--name", "other")
	if err != nil {
		t.Fatal(err)
	}
	other := strings.TrimSpace(out)
	if _, _, err := runCLI(t, "token", "revoke", "--store", storeURL, "2"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, "token", "list", "--store", storeURL)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID  NAME   SCOPE") || !strings.Contains(lines[1], "ops    all sites") ||
		!strings.Contains(lines[2], "other  site 2") || strings.HasSuffix(lines[2], " -") || strings.Contains(out, global) {
		t.Fatalf("list:\n%s", out)
	}
	if _, _, err := runCLI(t, "token", "admin-grant", "--store", storeURL, "--site", "2", "carol"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, "token", "admin-list", "--store", storeURL)
	if err != nil || !strings.Contains(out, "2     carol") {
		t.Fatalf("admin-list: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "token", "admin-revoke", "--store", storeURL, "--site", "2", "carol"); err != nil {
		t.Fatal(err)
	}

	if _, _, err := buildServer(ctx, serveOptions{storeURL: storeURL, maxInFlight: -1}); err == nil || !strings.Contains(err.Error(), "--max-in-flight -1") {
		t.Errorf("--max-in-flight -1: %v", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	srv, cleanup, err := buildServer(sctx, serveOptions{storeURL: storeURL, addr: "127.0.0.1:0", dbConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runServer(sctx, srv, ln) }()
	base := "http://" + ln.Addr().String()
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz", ""); code != 200 || body != `{"sites":2,"status":"ok"}` {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, body := get("/figures/api/admin/sites/", global); code != 200 ||
		body != `{"count":2,"next":null,"previous":null,"results":[{"id":1,"domain":"lms.example.com","name":"LMS"},{"id":2,"domain":"other.example.com","name":"Other"}]}` {
		t.Fatalf("admin/sites: %d %s", code, body)
	}
	if code, _ := get("/figures/api/admin/sites/", other); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	if code, body := get("/metrics", global); code != 200 || !strings.Contains(body, "figures_store_up 1") {
		t.Fatalf("metrics: %d", code)
	}
	code, body := get("/figures/api/openapi.json", global)
	var doc map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &doc) != nil || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
