package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/store"
)

// TestServeBounds checks the server's own bounds: its timeouts are set,
// a client that drips its headers or a request body is cut off (with the
// timeouts shortened for the test), --public-url sets the links' scheme
// and host, and bad settings are refused.
func TestServeBounds(t *testing.T) {
	ctx := context.Background()
	storeURL := "sqlite:///" + filepath.Join(t.TempDir(), "store.db")
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(ctx, "INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (1, 'lms.example.com', 'LMS', '', ?), (2, 'b.example.com', 'B', '', ?)",
		st.DB().Time(time.Now()), st.DB().Time(time.Now())); err != nil {
		t.Fatal(err)
	}
	token, _, err := st.CreateAPIToken(ctx, "ops", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, bad := range []serveOptions{
		{storeURL: storeURL, publicURL: "lms.example.com"},
		{storeURL: storeURL, storeTimeout: -time.Second},
		{storeURL: storeURL, writeTimeout: -time.Second},
	} {
		if _, _, err := buildServer(ctx, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}

	srv, cleanup, err := buildServer(ctx, serveOptions{storeURL: storeURL, addr: "127.0.0.1:0", dbConns: 4, publicURL: "https://lms.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts: header %s, read %s, write %s, idle %s", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	srv.ReadHeaderTimeout, srv.ReadTimeout = 500*time.Millisecond, time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServer(sctx, srv, ln) }()
	defer func() { stop(); <-done }()

	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/figures/api/admin/sites/?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"next":"https://lms.example.com/figures/api/admin/sites/?limit=1&offset=1"`) {
		t.Errorf("--public-url: %s", body)
	}

	// drip sends head at once, then body one byte at a time, 100 ms
	// apart, until the server closes the connection.
	drip := func(head, body string) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		closed := make(chan struct{})
		go func() {
			io.Copy(io.Discard, bufio.NewReader(c))
			close(closed)
		}()
		io.WriteString(c, head)
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-closed:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if time.Since(start) > 20*time.Second {
				t.Errorf("still reading a dripped request after 20 s: %.60q", head)
				return
			}
			c.Write([]byte{body[i%len(body)]})
		}
	}
	drip("", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 1000))
	drip("POST /figures/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n",
		strings.Repeat("token=x&", 1000))
	drip("GET /figures/api/admin/sites/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\nContent-Length: 100000\r\n\r\n",
		strings.Repeat("z", 1000))
}
