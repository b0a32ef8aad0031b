package dbtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// Creating a database and its tables is what a server-backed test spends
// most of its time on (a second on MariaDB, where every CREATE TABLE
// syncs to disk); emptying the tables again takes milliseconds. So the
// tests of a package whose TestMain runs Main share their server databases
// through a pool: Pooled hands out a database whose tables a setup
// function created, empties it when the test ends and keeps it for the
// next test asking for the same setup; Main drops the pool when the
// package's tests are done.

var pool struct {
	sync.Mutex
	active bool
	free   map[string][]string // kind/purpose → database URLs
	all    []pooled
}

type pooled struct {
	kind Kind
	url  string
}

// Main runs a package's tests (call it from TestMain) with the database
// pool on, and drops the pooled databases afterwards.
func Main(m *testing.M) int {
	pool.Lock()
	pool.active = true
	pool.free = map[string][]string{}
	pool.Unlock()
	code := m.Run()
	pool.Lock()
	defer pool.Unlock()
	for _, p := range pool.all {
		if err := drop(p.kind.Dialect, p.url); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: %v\n", err)
		}
	}
	pool.all, pool.active = nil, false
	return code
}

// Pooled returns the URL of a database of kind k whose tables setup
// created, with every table empty. Tests that take one may change rows,
// not the schema (a test that adds a trigger removes it when it ends).
// SQLite databases are always new files; without Main, server databases
// are new too, and dropped when the test ends.
func Pooled(t testing.TB, k Kind, purpose string, setup func(context.Context, *database.DB) error) string {
	t.Helper()
	ctx := context.Background()
	key := k.Name + "/" + purpose
	pool.Lock()
	active := pool.active && k.Dialect != database.SQLite
	var url string
	if active && len(pool.free[key]) > 0 {
		n := len(pool.free[key])
		url, pool.free[key] = pool.free[key][n-1], pool.free[key][:n-1]
	}
	pool.Unlock()
	if url == "" {
		if active {
			url = serverURL(t, envOf(k.Dialect), k.Dialect, false)
		} else {
			url = k.URL(t)
		}
		db := open(t, url)
		if err := setup(ctx, db); err != nil {
			t.Fatalf("prepare %s database: %v", purpose, err)
		}
		db.Close()
		if active {
			pool.Lock()
			pool.all = append(pool.all, pooled{k, url})
			pool.Unlock()
		}
	}
	if active {
		t.Cleanup(func() {
			if err := empty(k.Dialect, url); err != nil {
				// A database that cannot be emptied is not reused.
				t.Errorf("dbtest: empty %s for reuse: %v", url, err)
				return
			}
			pool.Lock()
			pool.free[key] = append(pool.free[key], url)
			pool.Unlock()
		})
	}
	return url
}

func envOf(d database.Dialect) string {
	if d == database.Postgres {
		return "FIGURES_TEST_POSTGRES"
	}
	return "FIGURES_TEST_MYSQL"
}

// empty deletes every row of every table but goose's version table.
func empty(d database.Dialect, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	list := "SHOW TABLES"
	if d == database.Postgres {
		list = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
	}
	rows, err := db.SQL().QueryContext(ctx, list)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		if name != "goose_db_version" {
			tables = append(tables, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(tables) == 0 {
		return err
	}
	// One transaction on one connection: one sync to disk, not one per
	// table. DELETE rather than TRUNCATE, which creates new files for
	// each table: these tables hold a few rows.
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stmts := []string{"BEGIN"}
	quote := `"`
	if d == database.MySQL {
		stmts = []string{"SET FOREIGN_KEY_CHECKS = 0", "BEGIN"}
		quote = "`"
	}
	for _, tb := range tables {
		stmts = append(stmts, "DELETE FROM "+quote+tb+quote)
	}
	stmts = append(stmts, "COMMIT")
	if d == database.MySQL {
		stmts = append(stmts, "SET FOREIGN_KEY_CHECKS = 1")
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
