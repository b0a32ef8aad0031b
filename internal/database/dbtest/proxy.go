package dbtest

import (
	"bytes"
	"io"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a database or other server, for fault
// tests: Pause stops every byte in both directions while keeping the
// connections open (what a stalled server or a dropped network path looks
// like to a client: the socket stays up, nothing arrives), and Resume lets
// them flow again. New connections are accepted while paused and stall the
// same way.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	paused  bool
	resume  chan struct{} // closed on Resume; replaced on Pause
	conns   map[net.Conn]bool
	trigger []byte // PauseOn's or DropOn's text; nil: none
	drop    bool   // the trigger drops the connection instead of pausing
}

// NewProxy listens on a free loopback port and forwards every connection to
// target (host:port). It is closed, with every connection, when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, resume: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(p.resume)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Pause stops forwarding until Resume.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resume = make(chan struct{})
	}
}

// PauseOn arms the proxy: the first chunk a client sends that holds text
// (a statement naming a table, say) pauses the proxy before it is
// forwarded, so the statement and everything after it stall. It is for
// stalling a command at a known step without hooks into it.
func (p *Proxy) PauseOn(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger, p.drop = []byte(text), false
}

// DropOn arms the proxy: the first chunk a client sends that holds text
// is not forwarded, and its connection is closed on both sides, as a
// server that crashed or a connection that was reset mid-statement.
func (p *Proxy) DropOn(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger, p.drop = []byte(text), true
}

// Resume forwards again, delivering whatever was held back.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
}

// Close stops listening and closes every forwarded connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Resume()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resume
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(client)
	}
}

func (p *Proxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.track(client, true)
	p.track(server, true)
	defer func() {
		client.Close()
		server.Close()
		p.track(client, false)
		p.track(server, false)
	}()
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, true); done <- struct{}{} }()
	go func() { p.pipe(client, server, false); done <- struct{}{} }()
	<-done
}

// triggered reports whether chunk holds the armed text, disarming it, and
// pauses the proxy if PauseOn armed it; drop is true if DropOn did.
func (p *Proxy) triggered(chunk []byte) (drop bool) {
	p.mu.Lock()
	hit := p.trigger != nil && bytes.Contains(chunk, p.trigger)
	if hit {
		p.trigger = nil
	}
	drop = hit && p.drop
	p.mu.Unlock()
	if hit && !drop {
		p.Pause()
	}
	return drop
}

// pipe copies src to dst, waiting at the gate before every write so that a
// pause holds back data already read as well as data still to come.
func (p *Proxy) pipe(dst io.Writer, src io.Reader, fromClient bool) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient && p.triggered(buf[:n]) {
				return // serve closes both sides
			}
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// ProxyURL puts a Proxy in front of the server of the database URL url
// (mysql://… or postgres://…) and returns it with url rewritten to go
// through it (without TLS, so that PauseOn can see the statements).
func ProxyURL(t testing.TB, url string) (*Proxy, string) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy: %q is not a server URL", url)
	}
	target := u.Host
	if u.Port() == "" {
		port := "3306"
		if strings.HasPrefix(u.Scheme, "postgres") {
			port = "5432"
		}
		target = net.JoinHostPort(u.Hostname(), port)
	}
	p := NewProxy(t, target)
	u.Host = p.Addr()
	if strings.HasPrefix(u.Scheme, "postgres") {
		// In clear, so that PauseOn sees the statements.
		q := u.Query()
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
	}
	return p, u.String()
}
