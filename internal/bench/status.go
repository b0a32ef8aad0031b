package bench

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Status is a snapshot of a MariaDB/MySQL session's status counters, by
// variable name (SHOW SESSION STATUS). Only numeric values are kept.
type Status map[string]int64

// handlerReads are the Handler_read_* counters that count rows the storage
// engine handed to the server: index lookups (key), index and table walks
// (first, last, next, prev, rnd_next) and position reads (rnd). Their sum is
// "rows the server read". Handler_read_retry and Handler_read_rnd_deleted
// count retries and skipped deleted rows, not rows read.
var handlerReads = []string{
	"Handler_read_first", "Handler_read_key", "Handler_read_last", "Handler_read_next",
	"Handler_read_prev", "Handler_read_rnd", "Handler_read_rnd_next",
}

// statusQuery reads the session counters the benchmark uses. Questions
// counts the statements the session sent (the probe itself included);
// Rows_read is MariaDB's own per-session count of rows read, kept as a
// cross-check (MariaDB 10.11 has no Innodb_rows_read).
const statusQuery = `SHOW SESSION STATUS WHERE Variable_name LIKE 'Handler_read%' OR Variable_name IN ('Questions', 'Rows_read', 'Innodb_rows_read')`

// ParseStatus builds a Status from (name, value) pairs as SHOW STATUS
// returns them. Values that are not integers are skipped; a name given
// twice is an error, as it would make deltas ambiguous.
func ParseStatus(pairs [][2]string) (Status, error) {
	s := Status{}
	for _, p := range pairs {
		v, err := strconv.ParseInt(strings.TrimSpace(p[1]), 10, 64)
		if err != nil {
			continue
		}
		if _, dup := s[p[0]]; dup {
			return nil, fmt.Errorf("status variable %s given twice", p[0])
		}
		s[p[0]] = v
	}
	return s, nil
}

// Sub returns the counters' growth since before. A counter missing from
// either snapshot is left out.
func (s Status) Sub(before Status) Status {
	d := Status{}
	for k, v := range s {
		if b, ok := before[k]; ok {
			d[k] = v - b
		}
	}
	return d
}

// RowsRead sums the Handler_read_* counters that count rows read (see
// handlerReads); -1 when the snapshot holds none of them.
func (s Status) RowsRead() int64 {
	var sum int64
	found := false
	for _, k := range handlerReads {
		if v, ok := s[k]; ok {
			sum += v
			found = true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// String lists the counters in name order, for logs.
func (s Status) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s[k]))
	}
	return strings.Join(parts, " ")
}

// readStatus runs statusQuery on db. The pool must hold a single
// connection, so the session read is the one the measured statements ran
// in; sessionID checks that.
func readStatus(ctx context.Context, db *sql.DB) (Status, error) {
	rows, err := db.QueryContext(ctx, statusQuery)
	if err != nil {
		return nil, fmt.Errorf("read session status: %w", err)
	}
	defer rows.Close()
	var pairs [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, fmt.Errorf("read session status: %w", err)
		}
		pairs = append(pairs, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read session status: %w", err)
	}
	return ParseStatus(pairs)
}

// sessionID returns the server's id of the session db's single connection.
func sessionID(ctx context.Context, db *sql.DB) (int64, error) {
	var id int64
	if err := db.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return 0, fmt.Errorf("session id: %w", err)
	}
	return id, nil
}
