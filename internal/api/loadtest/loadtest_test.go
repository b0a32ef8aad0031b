package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/bad" {
			http.Error(w, "bad", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("0123456789"))
	}))
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL + "/", Token: "tok", Paths: []string{"/ok", "/bad"}, Clients: 4, Duration: 300 * time.Millisecond}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || int64(res.Requests) > served.Load() {
		t.Fatalf("%d requests recorded, %d served", res.Requests, served.Load())
	}
	ok, bad := res.ByStatus[200], res.ByStatus[500]
	if ok+bad != res.Requests || res.Errors != bad || ok == 0 || bad == 0 {
		t.Fatalf("by status %v, errors %d, requests %d", res.ByStatus, res.Errors, res.Requests)
	}
	if res.Bytes != int64(ok)*10+int64(bad)*4 {
		t.Errorf("bytes %d for %d ok and %d bad", res.Bytes, ok, bad)
	}
	if res.ByPath["/ok"].Requests != ok || res.ByPath["/bad"].Errors != bad {
		t.Errorf("by path %+v", res.ByPath)
	}
	if !(res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) || res.Max <= 0 {
		t.Errorf("percentiles out of order: %v %v %v %v", res.P50, res.P90, res.P99, res.Max)
	}
	if !strings.Contains(res.FirstError, "500 Internal Server Error") {
		t.Errorf("first error %q", res.FirstError)
	}
	var b bytes.Buffer
	res.Report(&b, cfg)
	for _, want := range []string{"4 clients for", "errors", "latency p50 ", "status 200: ", "500: ", "/bad"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}

	// A server that is not there: transport errors, counted as status 0.
	srv.Close()
	res, err = Run(context.Background(), Config{BaseURL: srv.URL, Paths: []string{"/"}, Clients: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.ByStatus[0] != res.Requests || res.Errors != res.Requests {
		t.Fatalf("unreachable server: %+v", res)
	}
	if _, err := Run(context.Background(), Config{BaseURL: srv.URL, Clients: 1, Duration: time.Second}); err == nil {
		t.Fatal("no paths: no error")
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}, {0, 1}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("p%d = %d, want %d", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

// TestStallers checks that the stalled clients reach the server, with the
// token, and are counted.
func TestStallers(t *testing.T) {
	var stalled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/export" && r.Header.Get("Authorization") == "Bearer tok" {
			stalled.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL, Token: "tok", Paths: []string{"/ok"}, Clients: 1, Duration: 300 * time.Millisecond,
		Stallers: 3, StallPath: "/export"}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stalls != 3 || stalled.Load() != 3 {
		t.Errorf("%d stalls counted, %d reached the server", res.Stalls, stalled.Load())
	}
	var b bytes.Buffer
	res.Report(&b, cfg)
	if !strings.Contains(b.String(), "meanwhile 3 clients stalled on /export") {
		t.Errorf("report:\n%s", b.String())
	}
	if _, err := Run(context.Background(), Config{BaseURL: "https://x", Paths: []string{"/"}, Clients: 1, Duration: time.Millisecond, Stallers: 1}); err == nil {
		t.Error("stallers on an https URL: no error")
	}
}
