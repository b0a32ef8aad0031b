// Package database opens the SQL databases figures talks to — the LMS it reads
// and the store it writes — from the URLs operators write, and hides the few
// differences between SQLite, MySQL/MariaDB and PostgreSQL that the rest of
// the code must not care about: placeholders, datetime encoding, upserts and
// read-only sessions. Every statement issued through a DB is counted, so that
// workflows can be compared by the number of SQL statements they send.
package database

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Dialect names the SQL dialect of a database.
type Dialect string

// The dialects figures supports.
const (
	SQLite   Dialect = "sqlite"
	MySQL    Dialect = "mysql"
	Postgres Dialect = "postgres"
)

// Location is a parsed database URL.
type Location struct {
	Dialect Dialect
	// Path is the SQLite file path (absolute or relative to the working directory).
	Path string
	// Host, Port, User, Password and Name describe a server database.
	Host, Port, User, Password, Name string
	// Socket is a Unix socket path for MySQL (?socket=...).
	Socket string
	// Query holds the remaining query parameters, passed to the driver.
	Query url.Values
	raw   string
}

// String returns the URL with its password masked, for logs and errors.
func (l Location) String() string {
	u, err := url.Parse(l.raw)
	if err != nil {
		return l.raw
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// ErrBadURL is wrapped by every URL parsing error.
var ErrBadURL = errors.New("malformed database URL")

// ParseURL parses a database location as SQLAlchemy writes them:
//
//	sqlite:///relative/path.db        (three slashes: relative path)
//	sqlite:////absolute/path.db       (four slashes: absolute path)
//	mysql://user:pass@host:3306/db
//	mysql://user@localhost/db?socket=/run/mysqld/mysqld.sock
//	postgres://user:pass@host:5432/db (also postgresql://)
func ParseURL(raw string) (Location, error) {
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("%w %q: %s", ErrBadURL, mask(raw), fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(raw) == "" {
		return bad("empty; expected sqlite:///path.db, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return bad("no scheme; expected sqlite:///path.db, mysql://... or postgres://...")
	}
	loc := Location{raw: raw}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		loc.Dialect = SQLite
		if !strings.HasPrefix(rest, "/") {
			return bad("a SQLite URL has three slashes before a relative path (sqlite:///figures.db) and four before an absolute one")
		}
		path, query, _ := strings.Cut(rest[1:], "?")
		if path == "" {
			return bad("no database file path")
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return bad("query: %v", err)
		}
		loc.Path = filepath.Clean(path)
		loc.Query = q
		return loc, nil
	case "mysql", "mariadb", "mysql+pymysql", "mysql+mysqldb":
		loc.Dialect = MySQL
	case "postgres", "postgresql", "postgresql+psycopg2", "pgx":
		loc.Dialect = Postgres
	default:
		return bad("unknown scheme %q; expected sqlite, mysql or postgres", scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", unwrapURLError(err))
	}
	if u.User != nil {
		loc.User = u.User.Username()
		loc.Password, _ = u.User.Password()
	}
	loc.Host = u.Hostname()
	loc.Port = u.Port()
	loc.Name = strings.TrimPrefix(u.Path, "/")
	loc.Query = u.Query()
	if s := loc.Query.Get("socket"); s != "" {
		loc.Socket = s
		loc.Query.Del("socket")
	}
	if loc.Host == "" && loc.Socket == "" {
		return bad("no host")
	}
	if loc.Name == "" || strings.Contains(loc.Name, "/") {
		return bad("no database name after the host (…/dbname)")
	}
	if loc.Port == "" {
		if loc.Dialect == MySQL {
			loc.Port = "3306"
		} else {
			loc.Port = "5432"
		}
	}
	return loc, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// mask hides a password in a URL that may not parse.
func mask(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	userinfo := rest[:at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return raw
}
