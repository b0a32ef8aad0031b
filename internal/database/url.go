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
func (l Location) String() string { return Redact(l.raw) }

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
		return Location{}, fmt.Errorf("%w %q: %s", ErrBadURL, Redact(raw), fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(raw) == "" {
		return bad("empty; expected sqlite:///path.db, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db")
	}
	scheme, rest, ok := splitScheme(raw)
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
			return bad("malformed query string (a %% must start a %%XX escape)")
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
		// Not url.Parse's own words: they quote the part that failed to
		// parse, which is often a piece of a password holding / ? # or @.
		return bad("not a URL (a user name or password holding : / ? # @ or %% must be percent-encoded, @ as %%40)")
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

// splitScheme splits "scheme://rest". The scheme must be one (a letter,
// then letters, digits, + - or .): in "root:pa://ss@host" the "://" is a
// password's.
func splitScheme(raw string) (scheme, rest string, ok bool) {
	scheme, rest, ok = strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return "", raw, false
	}
	for i, c := range scheme {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", raw, false
		}
	}
	return scheme, rest, true
}

// Redact returns raw, a database URL that may not parse, with anything
// that may be a password replaced by xxxxx: whatever stands between the
// first colon of the user information and the last @ (with or without a
// scheme: "root:pw@host/db" is masked too), and the value of every query
// parameter whose name holds "pass". Each reading is applied to raw as it
// is, and their union masked, so that an @ or ? inside one password
// cannot hide another: more may be masked than a parser would call a
// password, never less.
func Redact(raw string) string {
	masked := make([]bool, len(raw))
	start := 0
	if scheme, _, ok := splitScheme(raw); ok {
		start = len(scheme) + len("://")
	}
	if at := strings.LastIndex(raw[start:], "@"); at >= 0 {
		at += start
		if c := strings.IndexByte(raw[start:at], ':'); c >= 0 {
			for k := start + c + 1; k < at; k++ {
				masked[k] = true
			}
		}
	}
	for i := start; i < len(raw); i++ {
		if raw[i] != '?' && raw[i] != '&' {
			continue
		}
		eq := strings.IndexAny(raw[i+1:], "=&?#")
		if eq < 0 || raw[i+1+eq] != '=' {
			continue
		}
		key := raw[i+1 : i+1+eq]
		if name, err := url.QueryUnescape(key); err == nil {
			key = name
		}
		if !strings.Contains(strings.ToLower(key), "pass") {
			continue
		}
		from := i + 1 + eq + 1
		to := strings.IndexAny(raw[from:], "&#")
		if to < 0 {
			to = len(raw) - from
		}
		for k := from; k < from+to; k++ {
			masked[k] = true
		}
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if !masked[i] {
			b.WriteByte(raw[i])
			continue
		}
		b.WriteString("xxxxx")
		for i+1 < len(raw) && masked[i+1] {
			i++
		}
	}
	return b.String()
}
