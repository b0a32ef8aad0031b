package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// A server that stops answering (its connection paused by a proxy) fails
// every kind of wait — a query, a row being read, a single-row Scan, an
// Exec, a commit, and connecting — within the timeout, with an error
// naming it and its setting; once the server answers again, a new
// statement works (the stalled connection was not reused).
func TestStalledServerTimesOut(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	dbtest.Each(t, []dbtest.Kind{dbtest.MariaDBKind, dbtest.PostgresKind}, func(t *testing.T, k dbtest.Kind) {
		proxy, url := dbtest.ProxyURL(t, k.URL(t))
		ctx := context.Background()
		db, err := database.Open(ctx, url, database.Options{Timeout: timeout, Setting: "--test-timeout"})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(ctx, "CREATE TABLE t (id integer)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO t (id) VALUES (1), (2), (3)"); err != nil {
			t.Fatal(err)
		}
		want := "timed out after 1.5s (--test-timeout)"
		stalled := func(name string, op func() error) {
			t.Helper()
			proxy.Pause()
			defer proxy.Resume()
			start := time.Now()
			err := op()
			took := time.Since(start)
			if err == nil || !database.IsTimeout(err) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s on a stalled server: %v, want a TimeoutError saying %q", name, err, want)
			}
			// The bound is per read or write: a statement may wait for its
			// write and then its read, plus a connection to open.
			if took > 4*timeout+time.Second {
				t.Errorf("%s took %v with a %v timeout", name, took, timeout)
			}
		}
		var n int
		stalled("QueryRow", func() error { return db.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n) })
		stalled("Exec", func() error { _, err := db.Exec(ctx, "INSERT INTO t (id) VALUES (4)"); return err })
		stalled("Query", func() error {
			rows, err := db.Query(ctx, "SELECT id FROM t")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		})
		// A row being read when the server stalls: the query answered,
		// the stall comes while its rows stream.
		rows, err := db.Query(ctx, "SELECT a.id FROM t a, t b, t c, t d, t e, t f, t g, t h, t i, t j")
		if err != nil {
			t.Fatal(err)
		}
		stalled("rows.Next", func() error {
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		})
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO t (id) VALUES (5)"); err != nil {
			t.Fatal(err)
		}
		stalled("Commit", tx.Commit)
		stalled("Open", func() error {
			db2, err := database.Open(ctx, url, database.Options{Timeout: timeout, Setting: "--test-timeout"})
			if err == nil {
				db2.Close()
			}
			return err
		})
		// Answering again: the next statement gets a working connection.
		// (Whether the server ran the writes the proxy held back and
		// delivered on resuming is the server's business: the client gave
		// up on them, as it would on a network that stalled.)
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n < 3 {
			t.Errorf("after the stall: %d rows, %v; want 3 or more", n, err)
		}
		var te *database.TimeoutError
		if err := db.QueryRow(ctx, "SELECT 1").Scan(&n); errors.As(err, &te) {
			t.Errorf("a healthy statement timed out: %v", err)
		}
	})
}

// A connection lost in the middle of a statement (the proxy drops it as
// the statement passes) is retried on a new connection when the session
// is read-only (the LMS), and not when it may write: a write's fate is
// then unknown, and doing it twice is worse than failing.
func TestLostConnectionRetriedWhenReadOnly(t *testing.T) {
	dbtest.Each(t, []dbtest.Kind{dbtest.MariaDBKind, dbtest.PostgresKind}, func(t *testing.T, k dbtest.Kind) {
		direct := k.URL(t)
		ctx := context.Background()
		rw, err := database.Open(ctx, direct, database.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer rw.Close()
		if _, err := rw.Exec(ctx, "CREATE TABLE t (id integer)"); err != nil {
			t.Fatal(err)
		}
		proxy, url := dbtest.ProxyURL(t, direct)
		ro, err := database.Open(ctx, url, database.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		proxy.DropOn("AS lost_once")
		var n int
		if err := ro.QueryRow(ctx, "SELECT COUNT(*) AS lost_once FROM t").Scan(&n); err != nil || n != 0 {
			t.Errorf("read-only query whose connection was lost once: %d, %v; want it retried", n, err)
		}
		w, err := database.Open(ctx, url, database.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		proxy.DropOn("INSERT INTO t")
		if _, err := w.Exec(ctx, "INSERT INTO t (id) VALUES (1)"); err == nil {
			t.Error("a write whose connection was lost succeeded: it was retried")
		}
		if err := rw.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows, %v; the lost write must not have been sent again", n, err)
		}
	})
}

// A statement that should be short and outlives its StatementTimeout
// fails with a TimeoutError naming what it was, on every database.
func TestStatementTimeout(t *testing.T) {
	dbtest.Each(t, []dbtest.Kind{dbtest.MariaDBKind, dbtest.PostgresKind}, func(t *testing.T, k dbtest.Kind) {
		db := k.Open(t)
		sleep := "SELECT SLEEP(5)"
		if k.Dialect == database.Postgres {
			sleep = "SELECT pg_sleep(5)"
		}
		ctx, cancel := database.StatementTimeout(context.Background(), 300*time.Millisecond, "run bookkeeping")
		defer cancel()
		var v any
		err := db.QueryRow(ctx, sleep).Scan(&v)
		if !database.IsTimeout(err) || err.Error() != "timed out after 300ms (run bookkeeping)" {
			t.Errorf("QueryRow: %v", err)
		}
		ctx2, cancel2 := database.StatementTimeout(context.Background(), 300*time.Millisecond, "run bookkeeping")
		defer cancel2()
		if _, err := db.Exec(ctx2, sleep); !database.IsTimeout(err) {
			t.Errorf("Exec: %v", err)
		}
	})
}
