// Package store holds figures' own database: the Figures-compatible metric
// tables (original table and column names) and our tables for sites,
// courses, learners, outlines, runs and watermarks. One set of embedded goose
// migrations, written once with a few dialect tokens, creates them on SQLite,
// MySQL/MariaDB and PostgreSQL.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"text/template"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/figures-analytics/figures/internal/database"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// tokens are the only dialect differences in our DDL.
type tokens struct {
	ID, DATETIME, TEXT, BOOL, DOUBLE, TABLEOPTS string
}

var dialectTokens = map[database.Dialect]tokens{
	database.SQLite:   {ID: "INTEGER PRIMARY KEY AUTOINCREMENT", DATETIME: "DATETIME", TEXT: "TEXT", BOOL: "INTEGER", DOUBLE: "REAL"},
	database.MySQL:    {ID: "int NOT NULL AUTO_INCREMENT PRIMARY KEY", DATETIME: "datetime(6)", TEXT: "longtext", BOOL: "tinyint(1)", DOUBLE: "double", TABLEOPTS: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"},
	database.Postgres: {ID: "serial PRIMARY KEY", DATETIME: "timestamp(6)", TEXT: "text", BOOL: "boolean", DOUBLE: "double precision"},
}

var gooseDialects = map[database.Dialect]goose.Dialect{
	database.SQLite:   goose.DialectSQLite3,
	database.MySQL:    goose.DialectMySQL,
	database.Postgres: goose.DialectPostgres,
}

// migrations renders the embedded migration templates for a dialect.
func migrations(d database.Dialect) (fs.FS, error) {
	tok, ok := dialectTokens[d]
	if !ok {
		return nil, fmt.Errorf("store: unsupported dialect %q", d)
	}
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		src, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		tpl, err := template.New(e.Name()).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, tok); err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		out[e.Name()] = &fstest.MapFile{Data: b.Bytes(), Mode: 0o444}
	}
	return out, nil
}

// ErrSchemaTooNew is wrapped by the error of every open of a store whose
// schema a newer figures migrated: this binary does not know its tables.
var ErrSchemaTooNew = errors.New("store schema newer than this figures")

// KnownVersion is the newest schema version this binary's migrations
// create.
func KnownVersion() int64 {
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	var v int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		if n, err := strconv.ParseInt(prefix, 10, 64); err == nil {
			v = max(v, n)
		}
	}
	return v
}

// SchemaVersion returns the newest migration applied to db (0 when it was
// never migrated).
func SchemaVersion(ctx context.Context, db *database.DB) (int64, error) {
	var v sql.NullInt64
	err := db.QueryRow(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		// No version table: a database figures never migrated.
		var n int
		if db.QueryRow(ctx, "SELECT COUNT(*) FROM goose_db_version").Scan(&n) != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("store %s: schema version: %w", db.Location(), err)
	}
	return v.Int64, nil
}

// checkVersion refuses a store whose schema is newer than this binary's:
// a later figures added tables or columns this one would ignore or
// misread, and a migrate would wrongly say "up to date".
func checkVersion(ctx context.Context, db *database.DB) error {
	v, err := SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if known := KnownVersion(); v > known {
		return fmt.Errorf("store %s: %w: its schema is at version %d, this figures knows versions up to %d; "+
			"run the figures release that migrated it, or a later one", db.Location(), ErrSchemaTooNew, v, known)
	}
	return nil
}

// Migrate brings the store's schema up to date. It is safe to run at any
// time: applied migrations are recorded in goose_db_version. A store whose
// schema is newer than this binary's is refused (ErrSchemaTooNew).
func Migrate(ctx context.Context, db *database.DB) error {
	if err := checkVersion(ctx, db); err != nil {
		return err
	}
	fsys, err := migrations(db.Dialect())
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(gooseDialects[db.Dialect()], db.SQL(), fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store %s: migrations: %w", db.Location(), err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store %s: migrate: %w", db.Location(), err)
	}
	for _, r := range res {
		slog.Debug("store migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// Store is figures' own database.
type Store struct {
	db *database.DB
	// leases are the runs started through this Store, whose heartbeats
	// Close stops.
	mu     sync.Mutex
	leases []string
}

// Options say how to open a store.
type Options struct {
	// ReadOnly opens an existing, migrated store without writing to it.
	ReadOnly bool
	// Timeout bounds every wait on the store (0: database.DefaultTimeout),
	// named Setting in errors (default "--store-timeout").
	Timeout time.Duration
	Setting string
}

// Open opens the store at rawURL and migrates it.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	return OpenOptions(ctx, rawURL, Options{})
}

// OpenReadOnly opens an existing, migrated store without writing to it.
func OpenReadOnly(ctx context.Context, rawURL string) (*Store, error) {
	return OpenOptions(ctx, rawURL, Options{ReadOnly: true})
}

// OpenOptions opens the store at rawURL and, unless read-only, migrates
// it. A store whose schema is newer than this binary's is refused
// (ErrSchemaTooNew).
func OpenOptions(ctx context.Context, rawURL string, opt Options) (*Store, error) {
	if opt.Setting == "" {
		opt.Setting = "--store-timeout"
	}
	db, err := database.Open(ctx, rawURL, database.Options{ReadOnly: opt.ReadOnly, MustExist: opt.ReadOnly,
		Timeout: opt.Timeout, Setting: opt.Setting})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if opt.ReadOnly {
		err = checkVersion(ctx, db)
	} else {
		err = Migrate(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// New wraps an already open and migrated database.
func New(db *database.DB) *Store { return &Store{db: db} }

// DB returns the underlying database.
func (s *Store) DB() *database.DB { return s.db }

// Close stops the heartbeats of the runs started through the store and
// closes it.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, id := range s.leases {
		release(id)
	}
	s.leases = nil
	s.mu.Unlock()
	return s.db.Close()
}
