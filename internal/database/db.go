package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Options say how to open a database.
type Options struct {
	// ReadOnly opens a session that cannot write: SQLite mode=ro, MySQL
	// SET SESSION TRANSACTION READ ONLY on every connection, PostgreSQL
	// default_transaction_read_only. The LMS is always opened this way.
	ReadOnly bool
	// MustExist refuses to create a missing SQLite file.
	MustExist bool
	// MaxOpenConns bounds the connection pool (0: the driver's default,
	// 1 for SQLite writers, whose file lock serialises them anyway).
	MaxOpenConns int
}

// DB is an open database: a *sql.DB, its dialect, and a count of the
// statements sent through it.
type DB struct {
	sql      *sql.DB
	loc      Location
	readOnly bool
	stmts    atomic.Int64
}

// Open opens and pings the database at rawURL.
func Open(ctx context.Context, rawURL string, opt Options) (*DB, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, opt)
}

// OpenLocation opens and pings a parsed location.
func OpenLocation(ctx context.Context, loc Location, opt Options) (*DB, error) {
	var (
		db  *sql.DB
		err error
	)
	switch loc.Dialect {
	case SQLite:
		db, err = openSQLite(loc, opt)
	case MySQL:
		db, err = openMySQL(loc, opt)
	case Postgres:
		db, err = openPostgres(loc, opt)
	default:
		err = fmt.Errorf("unsupported dialect %q", loc.Dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", loc, err)
	}
	if opt.MaxOpenConns > 0 {
		db.SetMaxOpenConns(opt.MaxOpenConns)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", loc, explain(err))
	}
	return &DB{sql: db, loc: loc, readOnly: opt.ReadOnly}, nil
}

// explain turns the common connection failures into a sentence.
func explain(err error) error {
	var ne *net.OpError
	switch {
	case errors.As(err, &ne):
		return fmt.Errorf("server unreachable (%v)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer within 15 s: %w", err)
	}
	return err
}

func openSQLite(loc Location, opt Options) (*sql.DB, error) {
	if _, err := os.Stat(loc.Path); err != nil {
		if opt.MustExist || opt.ReadOnly {
			return nil, fmt.Errorf("SQLite file %s: %w", loc.Path, err)
		}
	}
	q := loc.Query
	dsn := "file:" + loc.Path + "?"
	params := []string{"_pragma=busy_timeout(10000)", "_texttotime=0"}
	if opt.ReadOnly {
		params = append(params, "mode=ro")
	} else {
		params = append(params, "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)")
	}
	for k, vs := range q {
		for _, v := range vs {
			params = append(params, k+"="+v)
		}
	}
	db, err := sql.Open("sqlite", dsn+strings.Join(params, "&"))
	if err != nil {
		return nil, err
	}
	if !opt.ReadOnly {
		// One writer at a time is all SQLite allows; a pool of one keeps
		// concurrent goroutines queueing in Go rather than failing busy.
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

func openMySQL(loc Location, opt Options) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = loc.User
	cfg.Passwd = loc.Password
	if loc.Socket != "" {
		cfg.Net = "unix"
		cfg.Addr = loc.Socket
	} else {
		cfg.Net = "tcp"
		cfg.Addr = net.JoinHostPort(loc.Host, loc.Port)
	}
	cfg.DBName = loc.Name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// One round trip per statement instead of prepare/execute/close: the
	// statement counts we report are then the round trips a server sees.
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	cfg.Timeout = 10 * time.Second
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, vs := range loc.Query {
		if len(vs) > 0 {
			cfg.Params[k] = vs[0]
		}
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	if opt.ReadOnly {
		conn = readOnlyConnector{conn, "SET SESSION TRANSACTION READ ONLY"}
	}
	db := sql.OpenDB(conn)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetMaxIdleConns(8)
	return db, nil
}

func openPostgres(loc Location, opt Options) (*sql.DB, error) {
	u := "postgres://"
	if loc.User != "" {
		u += urlUser(loc.User, loc.Password) + "@"
	}
	u += net.JoinHostPort(loc.Host, loc.Port) + "/" + loc.Name
	q := loc.Query
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "prefer")
	}
	if opt.ReadOnly {
		q.Set("default_transaction_read_only", "on")
	}
	q.Set("timezone", "UTC")
	db, err := sql.Open("pgx", u+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(8)
	return db, nil
}

func urlUser(user, pass string) string {
	if pass == "" {
		return escape(user)
	}
	return escape(user) + ":" + escape(pass)
}

func escape(s string) string {
	r := strings.NewReplacer("%", "%25", "@", "%40", ":", "%3A", "/", "%2F")
	return r.Replace(s)
}

// readOnlyConnector runs a statement on every new connection before handing
// it to the pool, so no connection of the pool can ever write.
type readOnlyConnector struct {
	driver.Connector
	stmt string
}

func (c readOnlyConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("driver cannot execute statements on connect")
	}
	if _, err := ex.ExecContext(ctx, c.stmt, nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", c.stmt, err)
	}
	return conn, nil
}

// Dialect returns the SQL dialect.
func (db *DB) Dialect() Dialect { return db.loc.Dialect }

// Location returns where the database is.
func (db *DB) Location() Location { return db.loc }

// ReadOnly reports whether the session was opened read-only.
func (db *DB) ReadOnly() bool { return db.readOnly }

// SQL returns the underlying pool, for migrations and tests. Statements sent
// through it are not counted.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// Statements returns the number of statements sent so far.
func (db *DB) Statements() int64 { return db.stmts.Load() }

// Query runs a query. Placeholders are written '?' in every dialect.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db.stmts.Add(1)
	return db.sql.QueryContext(ctx, db.Rebind(query), args...)
}

// QueryRow runs a query expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	db.stmts.Add(1)
	return db.sql.QueryRowContext(ctx, db.Rebind(query), args...)
}

// Exec runs a statement that returns no rows.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.stmts.Add(1)
	return db.sql.ExecContext(ctx, db.Rebind(query), args...)
}

// Begin starts a transaction.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	db.stmts.Add(1)
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: tx, db: db}, nil
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx is a transaction on a DB; its statements count on the DB.
type Tx struct {
	tx *sql.Tx
	db *DB
}

// Dialect returns the SQL dialect.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect() }

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	tx.db.stmts.Add(1)
	return tx.tx.QueryContext(ctx, tx.db.Rebind(query), args...)
}

// QueryRow runs a single-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	tx.db.stmts.Add(1)
	return tx.tx.QueryRowContext(ctx, tx.db.Rebind(query), args...)
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx.db.stmts.Add(1)
	return tx.tx.ExecContext(ctx, tx.db.Rebind(query), args...)
}

// Commit commits the transaction.
func (tx *Tx) Commit() error { tx.db.stmts.Add(1); return tx.tx.Commit() }

// Rollback aborts the transaction.
func (tx *Tx) Rollback() error { return tx.tx.Rollback() }

// Time encodes t as a datetime argument: SQLite stores datetimes as text the
// way Django writes them, which sorts in time order, so range comparisons on
// the text are correct; the server databases take a time.Time.
func (db *DB) Time(t time.Time) any { return TimeArg(db.Dialect(), t) }

// Time encodes t as a datetime argument in the transaction's dialect.
func (tx *Tx) Time(t time.Time) any { return TimeArg(tx.Dialect(), t) }

// Querier is what DB and Tx have in common.
type Querier interface {
	Dialect() Dialect
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Time(t time.Time) any
}

// TimeArg encodes t for dialect d (see DB.Time).
func TimeArg(d Dialect, t time.Time) any {
	if d == SQLite {
		return FormatDjango(t)
	}
	return t.UTC()
}

// FormatDjango formats t as Django stores a datetime in SQLite: UTC,
// "YYYY-MM-DD HH:MM:SS" and ".ffffff" only when there are microseconds.
// Text in this form sorts in time order.
func FormatDjango(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// Rebind rewrites '?' placeholders as $1, $2, ... for PostgreSQL. Question
// marks inside quoted strings are left alone.
func (db *DB) Rebind(query string) string {
	if db.Dialect() != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Placeholders returns "?, ?, ..." with n placeholders, for IN lists.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Batches splits s into consecutive slices of at most n elements, sharing
// s's backing array, for set-based queries whose IN lists must stay short
// (MariaDB may leave its index plan for a list of 200 values or more,
// DESIGN.md §9). It returns nil for an empty s or n < 1.
func Batches[T any](s []T, n int) [][]T {
	if n < 1 {
		return nil
	}
	var out [][]T
	for len(s) > 0 {
		k := min(len(s), n)
		out = append(out, s[:k:k])
		s = s[k:]
	}
	return out
}

// Args returns vals as query arguments, for an IN list.
func Args[T any](vals []T) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}
