package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
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
	// Timeout bounds every wait on the database (0: DefaultTimeout):
	// connecting (at most ConnectTimeout), each read and write on a MySQL
	// or PostgreSQL connection (a statement whose server sends nothing for
	// that long fails with a TimeoutError), and a SQLite writer's wait for
	// another process's lock (busy_timeout).
	Timeout time.Duration
	// Setting names the setting Timeout comes from, for errors
	// ("--lms-timeout").
	Setting string
}

// ConnectTimeout bounds connecting to a server (the TCP connection and
// the handshake), whatever Options.Timeout is: a server that does not
// accept a connection in that time is down or unreachable.
const ConnectTimeout = 15 * time.Second

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) connectTimeout() time.Duration { return min(o.timeout(), ConnectTimeout) }

// DB is an open database: a *sql.DB, its dialect, and a count of the
// statements sent through it.
type DB struct {
	sql      *sql.DB
	loc      Location
	readOnly bool
	timeout  time.Duration
	setting  string
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
	// Connecting includes the server's handshake and, for MySQL, the
	// session's set-up statements: the connect bound plus one timeout.
	wait := opt.connectTimeout() + opt.timeout()
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", loc, explain(err, wait, opt.Setting))
	}
	return &DB{sql: db, loc: loc, readOnly: opt.ReadOnly, timeout: opt.timeout(), setting: opt.Setting}, nil
}

// explain turns the common connection failures into a sentence.
func explain(err error, wait time.Duration, setting string) error {
	var ne *net.OpError
	switch {
	case IsTimeout(err):
		return err
	case errors.As(err, &ne) && !ne.Timeout():
		return fmt.Errorf("server unreachable (%v)", err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return &TimeoutError{After: wait, Setting: setting, Err: err}
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
	params := []string{fmt.Sprintf("_pragma=busy_timeout(%d)", opt.timeout().Milliseconds()), "_texttotime=0"}
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
	cfg.Timeout = opt.connectTimeout()
	// Every read and write is bounded by the stallConn under the driver,
	// so that a stall is known for what it is; the driver's own log line
	// for it ("[mysql] ... i/o timeout") would only repeat our error.
	cfg.DialFunc = dialer(opt.timeout())
	cfg.Logger = mysqlLogger{}
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, vs := range loc.Query {
		if len(vs) == 0 {
			continue
		}
		// The driver's own timeouts, for those who write them in the
		// URL; every other parameter is a session variable.
		var dst *time.Duration
		switch k {
		case "timeout":
			dst = &cfg.Timeout
		case "readTimeout":
			dst = &cfg.ReadTimeout
		case "writeTimeout":
			dst = &cfg.WriteTimeout
		default:
			cfg.Params[k] = vs[0]
			continue
		}
		d, err := time.ParseDuration(vs[0])
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want a duration such as 30s", k, vs[0])
		}
		*dst = d
	}
	var conn driver.Connector
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	if opt.ReadOnly {
		conn = readOnlyConnector{conn, "SET SESSION TRANSACTION READ ONLY"}
	}
	db := sql.OpenDB(&guardConnector{inner: conn, timeout: opt.timeout(), setting: opt.Setting})
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
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", strconv.Itoa(int(opt.connectTimeout().Round(time.Second)/time.Second)))
	}
	q.Set("timezone", "UTC")
	cfg, err := pgx.ParseConfig(u + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	// pgx has no read timeout of its own: the stallConn under it bounds
	// every read and write.
	cfg.DialFunc = dialer(opt.timeout())
	db := sql.OpenDB(&guardConnector{inner: stdlib.GetConnector(*cfg), timeout: opt.timeout(), setting: opt.Setting})
	db.SetMaxIdleConns(8)
	return db, nil
}

// mysqlLogger sends the MySQL driver's log lines to slog at debug level.
type mysqlLogger struct{}

func (mysqlLogger) Print(v ...any) { slog.Debug("mysql driver", "msg", fmt.Sprint(v...)) }

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

// Timeout returns the bound on every wait on the database (see
// Options.Timeout), and the setting it comes from.
func (db *DB) Timeout() (time.Duration, string) { return db.timeout, db.setting }

// Query runs a query. Placeholders are written '?' in every dialect. A
// query that fails in a way a retry may not meet again is retried (see
// retryable).
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	err := db.retry(ctx, "query", db.retryable, func() (err error) {
		db.stmts.Add(1)
		rows, err = db.sql.QueryContext(ctx, db.Rebind(query), args...)
		return err
	})
	return rows, deadline(ctx, err)
}

// QueryRow runs a query expected to return at most one row; Scan returns
// its error.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	rows, err := db.Query(ctx, query, args...)
	return &Row{ctx: ctx, rows: rows, err: err}
}

// Exec runs a statement that returns no rows, again when it was rolled
// back by a deadlock or lock wait (or, read-only, lost its connection).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.retry(ctx, "statement", db.retryable, func() (err error) {
		db.stmts.Add(1)
		res, err = db.sql.ExecContext(ctx, db.Rebind(query), args...)
		return err
	})
	return res, deadline(ctx, err)
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

// errBegin marks a transaction that could not start: nothing was done, so
// any transient failure may be retried.
type errBegin struct{ error }

func (e errBegin) Unwrap() error { return e.error }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. A transaction rolled back by a deadlock, a lock wait
// timeout or a serialization failure is run again, fn included (fn must
// only depend on what it reads in the transaction and on values it does
// not change), after a pause; so is one that could not start for a
// transient reason.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	retryable := func(err error) bool {
		var eb errBegin
		return Conflict(err) || errors.As(err, &eb) && Transient(err)
	}
	err := db.retry(ctx, "transaction", retryable, func() error {
		tx, err := db.Begin(ctx)
		if err != nil {
			return errBegin{err}
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	var eb errBegin
	if errors.As(err, &eb) {
		return eb.error
	}
	return err
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
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	rows, err := tx.Query(ctx, query, args...)
	return &Row{ctx: ctx, rows: rows, err: err}
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

// Row is the result of QueryRow, as *sql.Row is: the query has run, and
// Scan returns its error or reads its first row.
type Row struct {
	ctx  context.Context
	rows *sql.Rows
	err  error
}

// Scan copies the first row's columns into dest, or returns the query's
// error, or sql.ErrNoRows when there is no row.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return deadline(r.ctx, err)
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

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
	QueryRow(ctx context.Context, query string, args ...any) *Row
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
