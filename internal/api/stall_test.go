package api

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// smallBuffers makes every accepted connection's send buffer small, so
// that a client that stops reading stalls the server's writes after a few
// kilobytes rather than after the megabytes loopback buffers can hold.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestStalledReaders has eight clients (twice the in-flight slots, twice
// the store's connections) start a 1.5 MB CSV export and stop reading after
// the status line. Every other request must still be answered, /healthz
// must say ok, and each stalled client must be dropped once its write
// deadline passes. Before the fix the stalled exports held every slot (and
// without the gate, every connection) and the API froze.
func TestStalledReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("large fixture")
	}
	ctx := context.Background()
	url := dbtest.SQLiteURL(t, "big.db")
	rw, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, rw); err != nil {
		t.Fatal(err)
	}
	const learners, per = 3000, 3
	loadLarge(t, rw, 20, learners, per)
	token, _, err := store.New(rw).CreateAPIToken(ctx, "ops", nil, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	rw.Close()

	for _, tc := range []struct {
		name        string
		maxInFlight int
	}{{"gate", 4}, {"no gate", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.OpenReadOnly(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			st.DB().SQL().SetMaxOpenConns(4)
			auth, err := NewAuthenticator(AuthConfig{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			h, err := NewHandler(Config{Store: st, Auth: auth, MaxInFlight: tc.maxInFlight, WriteTimeout: 2 * time.Second,
				SpoolDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(h)
			srv.Listener = smallBuffers{srv.Listener}
			srv.Start()
			defer srv.Close()
			addr := srv.Listener.Addr().String()

			const stalled = 8
			var conns []net.Conn
			for range stalled {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.(*net.TCPConn).SetReadBuffer(16 << 10)
				io.WriteString(c, "GET /figures/api/learner-metrics/?format=csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n")
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				status, err := bufio.NewReaderSize(c, 16).ReadString('\n')
				if err != nil || !strings.Contains(status, " 200 ") {
					t.Fatalf("stalled export: %q %v", status, err)
				}
				conns = append(conns, c) // and never read again
			}

			// Everything else still answers, well within a bound that only
			// says "not frozen".
			client := &http.Client{Timeout: 20 * time.Second}
			get := func(path string) (int, int64) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s while %d clients stall: %v", path, stalled, err)
					return 0, 0
				}
				defer resp.Body.Close()
				n, _ := io.Copy(io.Discard, resp.Body)
				return resp.StatusCode, n
			}
			start := time.Now()
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := []string{"/figures/api/learner-metrics/?limit=5", "/figures/api/courses-index/", "/healthz"}[i%3]
					if code, _ := get(path); code != http.StatusOK {
						t.Errorf("%s while %d clients stall: %d", path, stalled, code)
					}
				}()
			}
			wg.Wait()
			t.Logf("16 requests answered in %s while %d clients stall", time.Since(start).Round(time.Millisecond), stalled)
			code, n := get("/figures/api/learner-metrics/?format=csv")
			t.Logf("an export read in full after %s", time.Since(start).Round(time.Millisecond))
			if code != http.StatusOK || n < 1<<20 {
				t.Errorf("a reading client's export: %d, %d bytes", code, n)
			}

			// The stalled clients are dropped when their write deadline
			// passes: reading now ends early, well short of the export.
			time.Sleep(3 * time.Second)
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Generous: a stalled export is dropped once its producer
					// writes again after the deadline, which a loaded machine
					// (or -race) can delay.
					c.SetReadDeadline(time.Now().Add(60 * time.Second))
					got, err := io.Copy(io.Discard, c)
					if err != nil && !isReset(err) {
						t.Errorf("stalled client: %v after %d bytes", err, got)
					}
					if got >= n {
						t.Errorf("stalled client got the whole export (%d bytes): it was never dropped", got)
					}
				}()
			}
			wg.Wait()
			t.Logf("stalled clients dropped by %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset by peer")
}

// TestExportsLeaveSlots holds four CSV exports inside the store (their row
// reads blocked) on a server with four request slots: exports take at most
// half the slots, so JSON pages still answer. Before, four slow exports
// took every slot and every other request waited behind them.
func TestExportsLeaveSlots(t *testing.T) {
	block := make(chan struct{})
	ctx := context.Background()
	url := dbtest.SQLiteURL(t, "store.db")
	rw, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	fixture := newEnv(t, rw, nil)
	// As serve opens it: read-only, a pool of several connections.
	ro, err := store.OpenReadOnly(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ro.DB().SQL().SetMaxOpenConns(8)
	e := &env{db: ro.DB(), st: ro, tokAll: fixture.tokAll}
	e = e.withConfig(t, func(c *Config) { c.MaxInFlight = 4; c.StoreTimeout = 5 * time.Second })
	var inside atomic.Int64
	e.srv.rowHook = func() {
		inside.Add(1)
		<-block
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.do(t, e.tokAll, "/figures/api/users-general/?format=csv", nil)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for inside.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := inside.Load(); n != 2 {
		t.Errorf("%d exports reading at once, want 2 (half the slots)", n)
	}
	for _, p := range []string{"/figures/api/users-general/", "/figures/api/courses-index/", "/figures/api/learner-metrics/"} {
		if code, body := e.get(t, e.tokAll, p); code != http.StatusOK {
			t.Errorf("%s while exports run: %d %s", p, code, body)
		}
	}
	close(block)
	wg.Wait()
}
