package api

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// query is a SQL statement and its arguments.
type query struct {
	sql  string
	args []any
}

// chunkSize bounds the rows a JSON page reads per statement: a page is
// read in chunks, each closed before its nested rows are fetched, so that
// a large ?limit= never holds more than a chunk in memory and no two
// statements are ever open at once (a writer's SQLite pool has one
// connection).
const chunkSize = 500

// list describes one list endpoint.
type list[T any] struct {
	// name is the CSV file name's stem.
	name string
	// pager paginates the JSON answer; nil answers a bare array of every
	// row (the original's unpaginated lists).
	pager pager
	// count counts the rows (not needed without a pager).
	count query
	// rows selects the rows in order, without LIMIT.
	rows query
	// scan reads one row.
	scan func(*sql.Rows) (T, error)
	// expand, when set, fills the nested parts of a chunk of items with a
	// few set-based statements.
	expand func(ctx context.Context, items []T) error
	// csvHeader and csvRecord export one CSV record per item.
	csvHeader []string
	csvRecord func(T) []string
	// csvFlat, when set, replaces the per-item CSV: its own statement whose
	// rows are the records (nested lists flattened to one record each).
	csvFlat *flatCSV
}

// flatCSV is a CSV export read from its own statement.
type flatCSV struct {
	q      query
	header []string
	scan   func(*sql.Rows) ([]string, error)
}

// serveList answers a list request: a JSON page or a CSV export.
func serveList[T any](s *Server, w http.ResponseWriter, r *http.Request, p *params, l list[T]) {
	format := p.format()
	if err := p.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if format == "csv" {
		s.serveCSV(w, r, l.name, csvSourceOf(l))
		return
	}
	ctx := r.Context()
	var (
		head          []byte
		limit, offset = -1, 0
		skip          bool
	)
	if l.pager != nil {
		count, err := s.counts.count(ctx, s, l.count)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%s: count: %w", l.name, err))
			return
		}
		q := r.URL.Query()
		limit, offset, err = l.pager.window(q, count)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		head = l.pager.head(s.pageLink(r), q, count, limit, offset)
		skip = offset >= count
	} else {
		head = []byte("[")
	}
	tail := []byte("]}")
	if l.pager == nil {
		tail = []byte("]")
	}

	bw := bufio.NewWriterSize(w, 32<<10)
	started := false
	start := func() {
		if !started {
			w.Header().Set("Content-Type", "application/json")
			bw.Write(head)
			started = true
		}
	}
	n := 0
	for !skip && (limit < 0 || n < limit) {
		size := chunkSize
		if limit >= 0 {
			size = min(size, limit-n)
		}
		items, err := fetchChunk(ctx, s, l, size, offset+n)
		if err != nil {
			if !started {
				s.fail(w, r, fmt.Errorf("%s: %w", l.name, err))
				return
			}
			s.abort(r, fmt.Errorf("%s: %w", l.name, err))
		}
		start()
		for _, it := range items {
			if n > 0 {
				bw.WriteByte(',')
			}
			if err := writeItem(bw, it); err != nil {
				s.abort(r, fmt.Errorf("%s: encode: %w", l.name, err))
			}
			n++
		}
		if len(items) < size {
			break
		}
	}
	start()
	bw.Write(tail)
	if err := bw.Flush(); err != nil && ctx.Err() == nil {
		s.log.Debug("api: write response", "path", r.URL.Path, "err", err)
	}
}

// fetchChunk reads size rows from offset, closes the statement, then
// expands them.
func fetchChunk[T any](ctx context.Context, s *Server, l list[T], size, offset int) ([]T, error) {
	args := append(append([]any(nil), l.rows.args...), size, offset)
	rows, err := s.db.Query(ctx, l.rows.sql+" LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, err
	}
	items := make([]T, 0, size)
	for rows.Next() {
		it, err := l.scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, it)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if l.expand != nil && len(items) > 0 {
		if err := l.expand(ctx, items); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// writeItem writes one JSON value without HTML escaping (the output is
// JSON for programs, not HTML) and without the encoder's newline.
func writeItem(bw *bufio.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := bw.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return err
}

// abort ends a response that has already started: the status is sent, so
// the only honest signal left is to break the connection, so that the
// client sees a failed transfer rather than a body that looks complete
// (a CSV cut at a row boundary would). net/http recovers this value
// without logging a stack trace.
func (s *Server) abort(r *http.Request, err error) {
	switch {
	case storeTimedOut(r.Context()):
		s.log.Warn("api response cut: the store did not answer in time", "path", clip(r.URL.Path), "query", clip(r.URL.RawQuery),
			"cause", context.Cause(r.Context()))
	case r.Context().Err() == nil && !errors.Is(err, errClientGone):
		s.log.Error("api response aborted", "path", clip(r.URL.Path), "query", clip(r.URL.RawQuery), "err", clip(err.Error()))
	}
	panic(http.ErrAbortHandler)
}

// csvSourceOf returns the statement, header and record reader of a list's
// CSV export.
func csvSourceOf[T any](l list[T]) flatCSV {
	if l.csvFlat != nil {
		return *l.csvFlat
	}
	return flatCSV{
		q:      l.rows,
		header: l.csvHeader,
		scan: func(rows *sql.Rows) ([]string, error) {
			it, err := l.scan(rows)
			if err != nil {
				return nil, err
			}
			return l.csvRecord(it), nil
		},
	}
}

// serveCSV streams a CSV export straight from the database cursor: each row
// is written as it is read, through a small buffer, so memory does not grow
// with the export. ?limit= and ?offset=, when given, cut it; otherwise it
// holds every row the filters select.
func (s *Server) serveCSV(w http.ResponseWriter, r *http.Request, name string, src flatCSV) {
	ctx := r.Context()
	q := r.URL.Query()
	sqlText, args := src.q.sql, append([]any(nil), src.q.args...)
	limit, hasLimit := positiveInt(q.Get("limit"))
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	if hasLimit || offset > 0 {
		if !hasLimit {
			limit = 1 << 62
		}
		sqlText += " LIMIT ? OFFSET ?"
		args = append(args, limit, offset)
	}
	rows, err := s.db.Query(ctx, sqlText, args...)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%s csv: %w", name, err))
		return
	}
	defer rows.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := newCSVWriter(w)
	cw.header(src.header)
	for rows.Next() {
		rec, err := src.scan(rows)
		if err != nil {
			s.abort(r, fmt.Errorf("%s csv: %w", name, err))
		}
		if s.rowHook != nil {
			s.rowHook()
		}
		if err := cw.record(rec); err != nil {
			s.abort(r, fmt.Errorf("%s csv: %w", name, err))
		}
	}
	if err := rows.Err(); err != nil {
		s.abort(r, fmt.Errorf("%s csv: %w", name, err))
	}
	if err := cw.flush(); err != nil && ctx.Err() == nil {
		s.log.Debug("api: write csv", "path", r.URL.Path, "err", err)
	}
}

// serveDetail answers one object: the first row of q, or 404.
func serveDetail[T any](s *Server, w http.ResponseWriter, r *http.Request, q query, scan func(*sql.Rows) (T, error), expand func(context.Context, []T) error) {
	ctx := r.Context()
	rows, err := s.db.Query(ctx, q.sql, q.args...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var items []T
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			rows.Close()
			s.fail(w, r, err)
			return
		}
		items = append(items, it)
		break
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(items) == 0 {
		s.fail(w, r, errNotFound)
		return
	}
	if expand != nil {
		if err := expand(ctx, items); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(items[0]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// serveByID answers a detail route keyed by a row's integer id: q selects
// the row by that id, its first argument, then by args (the site's id, for
// a site's rows, so that another site's row is a 404 like a missing one).
func serveByID[T any](s *Server, w http.ResponseWriter, r *http.Request, q string, scan func(*sql.Rows) (T, error), args ...any) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveDetail(s, w, r, query{q, append([]any{id}, args...)}, scan, nil)
}

// idParam reads the integer id of a detail path; a non-integer is 404, as
// the original's router pattern would not have matched it.
func idParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return 0, errNotFound
	}
	return id, nil
}

// countCache remembers list counts for a few seconds. A count reads every
// row the filters select (the page reads only its own), so it is most of a
// page's cost on a large site, and paging through a list repeats it; the
// data changes only when the pipeline runs, so a count a few seconds old
// is as good. The key is the statement and its arguments, site included,
// so a count never crosses sites.
type countCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]countEntry
}

type countEntry struct {
	n  int
	at time.Time
}

// maxCountEntries bounds the cache; when full, it is emptied (the next
// requests recount).
const maxCountEntries = 4096

func (c *countCache) count(ctx context.Context, s *Server, q query) (int, error) {
	if c.ttl <= 0 {
		var n int
		err := s.db.QueryRow(ctx, q.sql, q.args...).Scan(&n)
		return n, err
	}
	key := q.sql + "\x00" + fmt.Sprintf("%#v", q.args)
	now := s.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.n, nil
	}
	var n int
	if err := s.db.QueryRow(ctx, q.sql, q.args...).Scan(&n); err != nil {
		return 0, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxCountEntries {
		c.entries = map[string]countEntry{}
	}
	c.entries[key] = countEntry{n, now}
	c.mu.Unlock()
	return n, nil
}
