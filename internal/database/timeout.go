package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds every wait on a database server when Options
// leaves it unset: how long a connection may go without a byte arriving
// (or leaving) while a statement waits for it. It has to let the longest
// legitimate statement finish: on a cold 128 MiB buffer pool one range
// scan of courseware_studentmodule, or one bad legacy probe, takes tens of
// seconds before its first row (DESIGN.md §9), and MariaDB's own lock
// wait (innodb_lock_wait_timeout) is 50 s.
const DefaultTimeout = 2 * time.Minute

// TimeoutError is the error of a statement on a MySQL or PostgreSQL
// database that waited longer than the database's timeout: the server
// sent nothing for that long (a stalled connection or network path, a
// dead or overloaded server), or could not be reached in time. Callers
// wrap it with what they were doing, so the message reads "course X: read
// course grades: timed out after 30s (--lms-timeout)". (On SQLite the
// timeout is the busy timeout: a writer waits that long for another
// process's lock, then fails with SQLITE_BUSY, "database is locked".)
type TimeoutError struct {
	// After is the timeout that expired.
	After time.Duration
	// Setting names the setting that chose it ("--lms-timeout").
	Setting string
	// Err is the driver's error.
	Err error
}

func (e *TimeoutError) Error() string {
	if e.Setting == "" {
		return fmt.Sprintf("timed out after %s", e.After)
	}
	return fmt.Sprintf("timed out after %s (%s)", e.After, e.Setting)
}

// Unwrap returns the driver's error, unless it is driver.ErrBadConn:
// database/sql would then retry the statement on another connection,
// waiting the timeout again for each.
func (e *TimeoutError) Unwrap() error {
	if errors.Is(e.Err, driver.ErrBadConn) {
		return nil
	}
	return e.Err
}

// Timeout reports true, as net.Error's Timeout does.
func (e *TimeoutError) Timeout() bool { return true }

// StatementTimeout returns ctx with a deadline d away for statements that
// should be short (a run's bookkeeping, a heartbeat): a statement still
// waiting then fails with a TimeoutError naming what (for example "run
// bookkeeping"), whatever the database's own timeout.
func StatementTimeout(ctx context.Context, d time.Duration, what string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, &TimeoutError{After: d, Setting: what, Err: context.DeadlineExceeded})
}

// deadline turns the error of a statement stopped by a StatementTimeout
// deadline into that deadline's TimeoutError.
func deadline(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || IsTimeout(err) {
		return err
	}
	if cause := context.Cause(ctx); IsTimeout(cause) {
		return cause
	}
	return err
}

// IsTimeout reports whether err is, or wraps, a TimeoutError.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// connState is shared by a driver connection and the network connection
// under it, so that a driver error can be traced to the stall that caused
// it (the MySQL driver reports a read deadline as "invalid connection").
type connState struct {
	stalled atomic.Bool
}

type connStateKey struct{}

// dialer returns a dial function for the drivers that wraps every network
// connection in a stallConn bounded by timeout, and records its stalls in
// the connState the driver connection put in the context.
func dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetKeepAlive(true)
		}
		st, _ := ctx.Value(connStateKey{}).(*connState)
		if st == nil {
			st = &connState{}
		}
		return &stallConn{Conn: c, timeout: timeout, state: st}, nil
	}
}

// stallConn bounds every Read and Write of a connection: an operation
// that moves no byte for timeout fails with a timeout. A deadline the
// driver sets itself (for a context's cancellation) is kept when it comes
// sooner, and its expiry is the driver's business, not a stall.
type stallConn struct {
	net.Conn
	timeout time.Duration
	state   *connState

	mu            sync.Mutex
	readDeadline  time.Time // set by the driver; zero: none
	writeDeadline time.Time
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline, c.writeDeadline = t, t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *stallConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// bound returns the deadline of the next operation, and whether it is
// ours (a stall bound) rather than the driver's.
func (c *stallConn) bound(explicit *time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := time.Now().Add(c.timeout)
	if !explicit.IsZero() && explicit.Before(d) {
		return *explicit, false
	}
	return d, true
}

func (c *stallConn) Read(p []byte) (int, error) {
	d, ours := c.bound(&c.readDeadline)
	c.Conn.SetReadDeadline(d)
	n, err := c.Conn.Read(p)
	return n, c.check(err, ours, &c.readDeadline)
}

func (c *stallConn) Write(p []byte) (int, error) {
	d, ours := c.bound(&c.writeDeadline)
	c.Conn.SetWriteDeadline(d)
	n, err := c.Conn.Write(p)
	return n, c.check(err, ours, &c.writeDeadline)
}

// check records a stall when an operation timed out on our deadline, not
// on one the driver set meanwhile to interrupt it.
func (c *stallConn) check(err error, ours bool, explicit *time.Time) error {
	var ne net.Error
	if !ours || !errors.As(err, &ne) || !ne.Timeout() {
		return err
	}
	c.mu.Lock()
	interrupted := !explicit.IsZero() && !explicit.After(time.Now())
	c.mu.Unlock()
	if !interrupted {
		c.state.stalled.Store(true)
	}
	return err
}
