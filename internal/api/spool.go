package api

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"
)

// A slow or stalled client must cost only its own request. So an API
// response is not written to the client by the handler: the handler writes
// into a spool at the store's pace, and a sender goroutine copies the spool
// to the client at the client's pace, each write bounded by a deadline.
// The handler therefore finishes (closing its statements, returning its
// database connection and its in-flight slot) as soon as the store has
// answered, however slowly the client reads. The spool holds up to
// spoolMemory unsent bytes in memory; a response that outgrows that while
// the client lags (a large CSV export to a stalled reader) continues in an
// unlinked temporary file, so memory stays bounded and the disk holds the
// rest until the client reads it or its write deadline expires.

// spoolMemory is how many unsent bytes a response keeps in memory before
// continuing on disk.
const spoolMemory = 256 << 10

// spoolChunk is the most the sender writes at once.
const spoolChunk = 8 << 10

// errClientGone is the error a handler's writes get once the sender has
// given up on the client.
var errClientGone = errors.New("the client stopped reading the response (write deadline exceeded) or went away")

// spool is an http.ResponseWriter whose body is sent by a goroutine.
type spool struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	dir     string

	header http.Header
	status int
	sent   bool // the header went to w and the sender runs
	done   chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond
	mem    bytes.Buffer
	file   *os.File
	fileW  int64 // bytes in file
	fileR  int64 // bytes of file sent
	closed bool  // the handler has finished
	err    error // the sender failed or the response was aborted
}

// newSpool returns a spool in front of w whose writes to the client each
// get timeout (0: none), spilling to files in dir ("" for os.TempDir).
func newSpool(w http.ResponseWriter, timeout time.Duration, dir string) *spool {
	sp := &spool{w: w, rc: http.NewResponseController(w), timeout: timeout, dir: dir, header: http.Header{}}
	sp.cond = sync.NewCond(&sp.mu)
	return sp
}

// Header implements http.ResponseWriter. Changes after the first write
// are ignored, as with any ResponseWriter.
func (sp *spool) Header() http.Header { return sp.header }

// WriteHeader implements http.ResponseWriter.
func (sp *spool) WriteHeader(code int) {
	if sp.status == 0 && !sp.sent {
		sp.status = code
	}
}

// start sends the header (on the handler's goroutine: it only fills w's
// buffers) and starts the sender.
func (sp *spool) start() {
	if sp.sent {
		return
	}
	sp.sent = true
	h := sp.w.Header()
	for k, v := range sp.header {
		h[k] = v
	}
	if sp.status == 0 {
		sp.status = http.StatusOK
	}
	sp.w.WriteHeader(sp.status)
	sp.done = make(chan struct{})
	go sp.send()
}

// Write implements http.ResponseWriter: it never waits for the client.
func (sp *spool) Write(p []byte) (int, error) {
	sp.start()
	if len(p) == 0 {
		return 0, nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.err != nil {
		return 0, sp.err
	}
	if sp.file == nil && sp.mem.Len()+len(p) > spoolMemory {
		f, err := os.CreateTemp(sp.dir, "figures-response-*")
		if err != nil {
			sp.err = err
			sp.cond.Broadcast()
			return 0, err
		}
		// Unlinked at once: the open file keeps its bytes, and nothing is
		// left behind if the process dies.
		os.Remove(f.Name())
		sp.file = f
	}
	if sp.file != nil {
		n, err := sp.file.WriteAt(p, sp.fileW)
		sp.fileW += int64(n)
		if err != nil {
			sp.err = err
		}
		sp.cond.Broadcast()
		return n, err
	}
	sp.mem.Write(p)
	sp.cond.Broadcast()
	return len(p), nil
}

// Flush implements http.Flusher: the sender sends as soon as it can
// anyway.
func (sp *spool) Flush() {}

// send copies the spool to the client until the handler has finished and
// everything is sent, or a write fails.
func (sp *spool) send() {
	defer close(sp.done)
	buf := make([]byte, spoolChunk)
	for {
		sp.mu.Lock()
		for sp.err == nil && !sp.closed && sp.mem.Len() == 0 && sp.fileR == sp.fileW {
			sp.cond.Wait()
		}
		if sp.err != nil {
			sp.mu.Unlock()
			return
		}
		var n int
		var err error
		switch {
		case sp.mem.Len() > 0:
			n, _ = sp.mem.Read(buf)
		case sp.fileR < sp.fileW:
			// Bytes below fileW are written; WriteAt appends past them.
			want := int(min(int64(len(buf)), sp.fileW-sp.fileR))
			f, off := sp.file, sp.fileR
			sp.mu.Unlock()
			n, err = f.ReadAt(buf[:want], off)
			sp.mu.Lock()
			sp.fileR += int64(n)
		}
		idle := sp.mem.Len() == 0 && sp.fileR == sp.fileW
		finished := idle && sp.closed
		sp.mu.Unlock()
		if err == nil && n > 0 {
			err = sp.write(buf[:n])
		}
		if err == nil && idle {
			// Caught up: push what the server buffers to the client now,
			// so that a slow export shows progress.
			sp.deadline()
			err = sp.rc.Flush()
			if errors.Is(err, http.ErrNotSupported) {
				err = nil
			}
		}
		if err != nil {
			sp.fail(errClientGone)
			return
		}
		if finished {
			return
		}
	}
}

// write sends p with a deadline.
func (sp *spool) write(p []byte) error {
	sp.deadline()
	_, err := sp.w.Write(p)
	return err
}

// deadline bounds the next write to the client. The deadline stays on the
// connection for net/http's own final writes; net/http clears it when the
// response is done.
func (sp *spool) deadline() {
	if sp.timeout > 0 {
		sp.rc.SetWriteDeadline(time.Now().Add(sp.timeout))
	}
}

func (sp *spool) fail(err error) {
	sp.mu.Lock()
	if sp.err == nil {
		sp.err = err
	}
	sp.cond.Broadcast()
	sp.mu.Unlock()
}

// finish waits until everything the handler wrote is sent (or the client
// is given up on), then frees the spool. Only the request's own goroutine
// waits: it holds no slot and no database connection by then.
func (sp *spool) finish() {
	if !sp.sent {
		if sp.status != 0 {
			sp.start()
		} else {
			sp.release()
			return
		}
	}
	sp.mu.Lock()
	sp.closed = true
	sp.cond.Broadcast()
	sp.mu.Unlock()
	<-sp.done
	sp.release()
}

// abort stops sending at once, for a response that must not look
// complete; the caller then breaks the connection.
func (sp *spool) abort() {
	sp.fail(errClientGone)
	if sp.sent {
		<-sp.done
	}
	sp.release()
}

func (sp *spool) release() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.file != nil {
		sp.file.Close()
		sp.file = nil
	}
	sp.mem = bytes.Buffer{}
}
