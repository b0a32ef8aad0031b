package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAdmitArrivalOrder checks the MaxInFlight gate: one request at a
// time under /figures/api/, the waiting ones served in the order they
// arrived, /healthz never held back, and a caller who leaves while
// waiting never reaches the handler.
func TestAdmitArrivalOrder(t *testing.T) {
	s := &Server{gate: newGate(1, time.Now)}
	release := make(chan struct{})
	var mu sync.Mutex
	var served []string
	h := s.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.RawQuery == "first" {
			<-release
		}
	}))
	get := func(ctx context.Context, target string) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil).WithContext(ctx))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); get(context.Background(), "/figures/api/x?first") }()
	waitQueued(t, s, 0)
	gone, cancel := context.WithCancel(context.Background())
	for i, q := range []string{"a", "gone", "b", "c"} {
		ctx := context.Background()
		if q == "gone" {
			ctx = gone
		}
		wg.Add(1)
		go func() { defer wg.Done(); get(ctx, "/figures/api/x?"+q) }()
		waitQueued(t, s, i+1) // arrive in this order
	}
	cancel()
	waitQueued(t, s, 3) // the caller who left is out of the queue
	// Not behind the gate.
	get(context.Background(), "/healthz?health")
	close(release)
	wg.Wait()
	want := []string{"first", "health", "a", "b", "c"}
	if len(served) != len(want) {
		t.Fatalf("served %v, want %v", served, want)
	}
	for i := range want {
		if served[i] != want[i] {
			t.Fatalf("served %v, want %v", served, want)
		}
	}
}

// waitQueued waits until a request holds the gate and n more wait at it
// (goroutines blocked in the gate's select).
func waitQueued(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		k := 0
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "[select") && strings.Contains(g, "(*gate).acquire") {
				k++
			}
		}
		if k == n && len(s.gate.slots) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait at the gate, want %d", k, n)
		}
		time.Sleep(time.Millisecond)
	}
}
