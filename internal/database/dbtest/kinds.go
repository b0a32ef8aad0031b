package dbtest

import (
	"testing"

	"github.com/figures-analytics/figures/internal/database"
)

// Kind is a database the tests run on: SQLite always, MariaDB and
// PostgreSQL when their servers are configured (see the package comment).
type Kind struct {
	// Name names the subtest: sqlite, mariadb or postgres.
	Name    string
	Dialect database.Dialect
	// URL creates a new scratch database of this kind and returns its URL.
	URL func(t testing.TB) string
}

// Open opens a new scratch database of kind k, closed when t ends.
func (k Kind) Open(t testing.TB) *database.DB {
	t.Helper()
	return open(t, k.URL(t))
}

// The kinds of database figures runs on.
var (
	SQLiteKind   = Kind{Name: "sqlite", Dialect: database.SQLite, URL: func(t testing.TB) string { return SQLiteURL(t, "db.sqlite") }}
	MariaDBKind  = Kind{Name: "mariadb", Dialect: database.MySQL, URL: MySQLURL}
	PostgresKind = Kind{Name: "postgres", Dialect: database.Postgres, URL: PostgresURL}
)

// Stores are the databases a store can live in: SQLite, MariaDB and
// PostgreSQL. Every store feature is tested on each.
func Stores() []Kind { return []Kind{SQLiteKind, MariaDBKind, PostgresKind} }

// LMSes are the databases an LMS can live in: MySQL/MariaDB (production)
// and SQLite (synthetic LMSes).
func LMSes() []Kind { return []Kind{SQLiteKind, MariaDBKind} }

// Backend pairs an LMS and a store, for tests of the pipeline, which reads
// one and writes the other.
type Backend struct {
	// Name names the subtest after the store: sqlite, mariadb or postgres.
	Name       string
	LMS, Store Kind
}

// Backends are the LMS/store pairs the pipeline's tests run on, one per
// store: SQLite with SQLite (the demo and small installs), MariaDB with
// MariaDB, and a PostgreSQL store fed by MariaDB (the LMS is always
// MySQL in production).
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", LMS: SQLiteKind, Store: SQLiteKind},
		{Name: "mariadb", LMS: MariaDBKind, Store: MariaDBKind},
		{Name: "postgres", LMS: MariaDBKind, Store: PostgresKind},
	}
}

// Each runs f as a subtest of t for every kind, named after it.
func Each(t *testing.T, kinds []Kind, f func(t *testing.T, k Kind)) {
	t.Helper()
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) { f(t, k) })
	}
}

// EachBackend runs f as a subtest of t for every backend, named after it.
func EachBackend(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}
