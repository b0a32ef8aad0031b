package api

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"testing"
)

// gatedWriter is a ResponseWriter whose writes wait until open is closed:
// a client that reads nothing for a while.
type gatedWriter struct {
	header http.Header
	open   chan struct{}
	got    bytes.Buffer
	code   int
}

func (g *gatedWriter) Header() http.Header { return g.header }
func (g *gatedWriter) WriteHeader(c int)   { g.code = c }
func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.got.Write(p)
}

// TestSpoolSpillsToDisk writes 2 MB into a spool whose client reads
// nothing until the handler is done: the writes never wait, the bytes past
// the memory bound go to a file, and the client then gets every byte in
// order with the handler's status and headers.
func TestSpoolSpillsToDisk(t *testing.T) {
	w := &gatedWriter{header: http.Header{}, open: make(chan struct{})}
	sp := newSpool(w, 0, t.TempDir())
	sp.Header().Set("Content-Type", "text/csv")
	sp.WriteHeader(http.StatusTeapot)
	var want bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 2))
	for want.Len() < 2<<20 {
		p := make([]byte, rng.IntN(20000))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want.Write(p)
		if n, err := sp.Write(p); n != len(p) || err != nil {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	sp.mu.Lock()
	spilled := sp.file != nil
	sp.mu.Unlock()
	if !spilled {
		t.Error("2 MB held in memory: the spool never spilled")
	}
	close(w.open)
	sp.finish()
	if w.code != http.StatusTeapot || w.header.Get("Content-Type") != "text/csv" {
		t.Errorf("status %d, header %v", w.code, w.header)
	}
	if !bytes.Equal(w.got.Bytes(), want.Bytes()) {
		t.Errorf("sent %d bytes, not the %d written", w.got.Len(), want.Len())
	}
}
