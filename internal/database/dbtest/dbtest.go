// Package dbtest gives tests scratch databases: a SQLite file in the test's
// temporary directory always, and a fresh MariaDB/MySQL or PostgreSQL
// database when the server is configured.
//
// Server-backed tests are enabled by environment variables holding a server
// URL without a database name:
//
//	FIGURES_TEST_MYSQL=mysql://root@127.0.0.1:3306/
//	FIGURES_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/
//	FIGURES_TEST_REDIS=redis://127.0.0.1:6379/15 (the queue's tests)
//
// Without them those tests skip with a message saying so; with
// FIGURES_TEST_REQUIRE_DB=1 (as .ci/run sets) an unset or unreachable server
// fails the test instead, so CI can never pass by skipping.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// SQLiteURL returns a sqlite URL for a new file named name in t's temp dir.
func SQLiteURL(t testing.TB, name string) string {
	t.Helper()
	return "sqlite:///" + filepath.Join(t.TempDir(), name)
}

// SQLite opens a new SQLite database in t's temp dir.
func SQLite(t testing.TB, name string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), SQLiteURL(t, name), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MySQLURL creates a scratch MariaDB/MySQL database, dropped when the test
// ends, and returns its URL.
func MySQLURL(t testing.TB) string {
	return serverURL(t, "FIGURES_TEST_MYSQL", database.MySQL, true)
}

// PostgresURL creates a scratch PostgreSQL database and returns its URL.
func PostgresURL(t testing.TB) string {
	return serverURL(t, "FIGURES_TEST_POSTGRES", database.Postgres, true)
}

// MySQL opens a scratch MariaDB/MySQL database.
func MySQL(t testing.TB) *database.DB {
	t.Helper()
	return open(t, MySQLURL(t))
}

// Postgres opens a scratch PostgreSQL database.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return open(t, PostgresURL(t))
}

func open(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// RedisURL returns the Redis URL of FIGURES_TEST_REDIS (a database the
// tests may fill and empty), after checking that the server accepts
// connections; without it the test skips, or fails when Required.
func RedisURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("FIGURES_TEST_REDIS")
	fail := t.Skip
	if Required() {
		fail = t.Fatal
	}
	if url == "" {
		fail("Redis tests disabled: set FIGURES_TEST_REDIS to a Redis URL such as redis://127.0.0.1:6379/15")
		return ""
	}
	u, err := neturl.Parse(url)
	if err != nil || u.Host == "" {
		t.Fatalf("FIGURES_TEST_REDIS=%q: want redis://host:port/db", url)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":6379"
	}
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		fail(fmt.Sprintf("Redis unreachable at %s: %v", url, err))
		return ""
	}
	c.Close()
	return url
}

// Required reports whether server-backed tests must run (FIGURES_TEST_REQUIRE_DB=1).
func Required() bool { return os.Getenv("FIGURES_TEST_REQUIRE_DB") == "1" }

// serverURL creates a scratch database on the server of env and returns
// its URL; dropped when t ends if dropAtEnd.
func serverURL(t testing.TB, env string, dialect database.Dialect, dropAtEnd bool) string {
	t.Helper()
	base := os.Getenv(env)
	if base == "" {
		msg := fmt.Sprintf("%s tests disabled: set %s to a server URL such as %s", dialect, env, example(dialect))
		if Required() {
			t.Fatal(msg + " (FIGURES_TEST_REQUIRE_DB=1 forbids skipping)")
		}
		t.Skip(msg)
	}
	base = strings.TrimSuffix(base, "/")
	admin := base + "/" + adminDB(dialect)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, admin, database.Options{})
	if err != nil {
		msg := fmt.Sprintf("%s unreachable at %s: %v", dialect, base, err)
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "figures_test_" + hex.EncodeToString(b)
	if _, err := db.SQL().ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create scratch database: %v", err)
	}
	url := base + "/" + name
	if dropAtEnd {
		t.Cleanup(func() {
			if err := drop(dialect, url); err != nil {
				t.Log(err)
			}
		})
	}
	return url
}

// drop drops the scratch database at url, created by serverURL.
func drop(dialect database.Dialect, url string) error {
	i := strings.LastIndex(url, "/")
	admin, name := url[:i]+"/"+adminDB(dialect), url[i+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := database.Open(ctx, admin, database.Options{})
	if err != nil {
		return fmt.Errorf("drop scratch database %s: %w", name, err)
	}
	defer db.Close()
	if dialect == database.Postgres {
		db.SQL().ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
	}
	if _, err := db.SQL().ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		return fmt.Errorf("drop scratch database %s: %w", name, err)
	}
	return nil
}

func adminDB(d database.Dialect) string {
	if d == database.Postgres {
		return "postgres"
	}
	return "mysql"
}

func example(d database.Dialect) string {
	if d == database.Postgres {
		return "postgres://postgres@127.0.0.1:5432/"
	}
	return "mysql://root@127.0.0.1:3306/"
}

// Dump renders the rows of query, one line each, values separated by
// spaces (NULL for a null): what tests compare between two databases that
// must hold the same rows.
func Dump(t testing.TB, db *database.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				b.WriteString("NULL ")
			case []byte:
				b.WriteString(string(x) + " ")
			default:
				fmt.Fprintf(&b, "%v ", x)
			}
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Explain returns MySQL's EXPLAIN rows for query as maps of column → value.
func Explain(t testing.TB, db *database.DB, query string, args ...any) []map[string]string {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
