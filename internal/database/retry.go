package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// What may be retried, and when:
//
//   - a deadlock or a lock wait timeout rolled the statement (or the whole
//     transaction) back, so running it again is always safe: every
//     statement outside a transaction, and every transaction of InTx, is
//     retried on one (two figures runs writing the same day's rows on
//     MariaDB deadlock now and then);
//   - a lost, refused or reset connection, or a server out of connections
//     or restarting, leaves a write's outcome unknown, so only the
//     statements of a read-only session (the LMS) are retried on one;
//   - a timeout is never retried: the server did not answer for the whole
//     timeout, and asking again would double the wait on a database that
//     is most likely still stalled.

// retryAttempts is how many times a statement is tried in all.
const retryAttempts = 5

// Conflict reports whether err is a deadlock, a lock wait timeout or a
// serialization failure: the database rolled the statement or
// transaction back, and it may simply be run again.
func Conflict(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK
		return me.Number == 1205 || me.Number == 1213
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// serialization_failure, deadlock_detected
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// Transient reports whether err is a failure that trying again, on a new
// connection and a moment later, may not meet: Conflict, or a connection
// that was lost, refused or reset, or a server out of connections or
// shutting down. Timeouts are not transient (see IsTimeout).
func Transient(err error) bool {
	if err == nil || IsTimeout(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if Conflict(err) {
		return true
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED
		return me.Number == 1040 || me.Number == 1053 || me.Number == 1927
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "08000", "08001", "08003", "08004", "08006", "53300", "57P01", "57P02", "57P03":
			return true
		}
		return false
	}
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// retry runs op until it succeeds, fails in a way retryable does not
// accept, or has been tried retryAttempts times, sleeping longer between
// attempts (0.1 s, 0.4 s, 1.6 s, 5 s, with jitter).
func (db *DB) retry(ctx context.Context, what string, retryable func(error) bool, op func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = op(); err == nil || attempt == retryAttempts || !retryable(err) {
			return err
		}
		wait := min(100*time.Millisecond<<(2*(attempt-1)), 5*time.Second)
		wait = wait/2 + rand.N(wait)
		slog.Warn("database: retrying", "db", db.loc.String(), "what", what, "attempt", attempt+1, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// retryable says which errors a statement sent outside a transaction may
// be retried on: conflicts always, connection failures on a read-only
// session.
func (db *DB) retryable(err error) bool {
	if db.readOnly {
		return Transient(err)
	}
	return Conflict(err)
}
