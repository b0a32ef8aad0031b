package synth

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/figures-analytics/figures/internal/database"
)

// Rows travel to the database as text, never as bound parameters: the
// generator encodes each row straight into a chunk buffer, and a background
// worker per table sends full chunks while the generator fills the next.
//
//   - MariaDB/MySQL: LOAD DATA LOCAL INFILE streamed from memory through the
//     driver's reader handlers (tab-separated text), or multi-row INSERTs
//     when the server refuses local infile.
//   - SQLite: multi-row INSERTs of literals on the single connection, in
//     large transactions.
type flavor int

const (
	flavorTSV flavor = iota
	flavorSQLite
	flavorMySQLInsert
)

// Methods reported in the Summary.
const (
	methodLoadData  = "LOAD DATA LOCAL INFILE"
	methodInsert    = "multi-row INSERT"
	methodSQLiteIns = "multi-row INSERT in large transactions"
)

// loader sends generated rows to the database.
type loader struct {
	db *database.DB
	// ctx0 is the caller's context; ctx is cancelled when a worker fails.
	ctx0   context.Context
	ctx    context.Context
	cancel context.CancelFunc
	fl     flavor
	method string
	// note is something the Summary should tell a person.
	note    string
	limit   int
	tables  []*table
	sqlite  *worker
	mu      sync.Mutex
	err     error
	failed  atomic.Bool
	wg      sync.WaitGroup
	indexes []deferredIndexes
	seq     atomic.Int64
	// free holds chunk buffers the workers are done with, so a load
	// recycles a few buffers instead of allocating one per chunk.
	free chan []byte
}

// worker is a goroutine that executes chunks on one pinned connection.
type worker struct {
	ch   chan chunk
	conn *sql.Conn
}

type chunk struct {
	t    *table
	data []byte
}

// table is one table's row encoder.
type table struct {
	l     *loader
	name  string
	cols  []string
	head  string
	buf   []byte
	rows  int
	total int64
	inRow bool
	first bool
	w     *worker
}

func newLoader(ctx context.Context, db *database.DB, forceInsert bool) (*loader, error) {
	lctx, cancel := context.WithCancel(ctx)
	l := &loader{db: db, ctx0: ctx, ctx: lctx, cancel: cancel, free: make(chan []byte, 16)}
	switch db.Dialect() {
	case database.SQLite:
		l.fl, l.method, l.limit = flavorSQLite, methodSQLiteIns, 1<<20
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("bulk load: %w", err)
		}
		// The file is being built from scratch: losing it on a crash
		// costs nothing, syncing it costs most of the time.
		for _, p := range []string{"PRAGMA synchronous=OFF", "PRAGMA cache_size=-65536"} {
			if _, err := conn.ExecContext(ctx, p); err != nil {
				conn.Close()
				cancel()
				return nil, fmt.Errorf("bulk load: %s: %w", p, err)
			}
		}
		conn.Close()
	case database.MySQL:
		l.fl, l.method, l.limit = flavorTSV, methodLoadData, 8<<20
		if forceInsert || !l.localInfileWorks(ctx) {
			if !forceInsert {
				// Turning local_infile on is the server owner's call, not
				// a side effect of seeding: say so and carry on.
				l.note = "the server refuses LOAD DATA LOCAL INFILE, so rows went in as multi-row INSERTs; " +
					"SET GLOBAL local_infile=1 makes large loads faster"
			}
			l.fl, l.method = flavorMySQLInsert, methodInsert
			l.limit = l.insertLimit(ctx)
		}
	default:
		cancel()
		return nil, fmt.Errorf("synthetic LMS: %s is not an LMS database (use MySQL/MariaDB or SQLite)", db.Dialect())
	}
	return l, nil
}

// localInfileWorks tries LOAD DATA LOCAL INFILE on a temporary table: the
// server may have local_infile off, and some managed servers refuse it.
func (l *loader) localInfileWorks(ctx context.Context) bool {
	conn, err := l.db.SQL().Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE figures_synth_probe (x int)"); err != nil {
		return false
	}
	defer conn.ExecContext(ctx, "DROP TEMPORARY TABLE figures_synth_probe")
	name := "figures-synth-probe-" + strconv.FormatInt(l.seq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return strings.NewReader("1\n") })
	defer mysql.DeregisterReaderHandler(name)
	_, err = conn.ExecContext(ctx, "LOAD DATA LOCAL INFILE 'Reader::"+name+"' INTO TABLE figures_synth_probe")
	return err == nil
}

// insertLimit keeps an INSERT chunk well under max_allowed_packet.
func (l *loader) insertLimit(ctx context.Context) int {
	var packet int64
	if err := l.db.SQL().QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil || packet <= 0 {
		return 1 << 20
	}
	return int(min(packet/2, 8<<20))
}

// table returns the encoder of a table; cols are the columns each row
// gives, in order.
func (l *loader) table(name string, cols ...string) *table {
	t := &table{l: l, name: name, cols: cols}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = "`" + c + "`"
		if l.fl == flavorSQLite {
			quoted[i] = `"` + c + `"`
		}
	}
	t.head = "INSERT INTO " + name + " (" + strings.Join(quoted, ", ") + ") VALUES "
	l.tables = append(l.tables, t)
	return t
}

func (l *loader) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
		l.failed.Store(true)
		l.cancel()
	}
	l.mu.Unlock()
}

func (l *loader) firstErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// worker returns the worker that loads t, starting it on first use: one
// per table on MySQL (tables load in parallel on their own connections),
// one for all tables on SQLite (a single writer).
func (l *loader) workerFor(t *table) (*worker, error) {
	if l.fl == flavorSQLite && l.sqlite != nil {
		return l.sqlite, nil
	}
	conn, err := l.db.SQL().Conn(l.ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk load %s: %w", t.name, err)
	}
	w := &worker{ch: make(chan chunk, 2), conn: conn}
	switch l.fl {
	case flavorSQLite:
		if _, err := conn.ExecContext(l.ctx, "BEGIN"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bulk load: %w", err)
		}
		l.sqlite = w
	default:
		// Checks the generator already guarantees (unique keys, no
		// foreign keys) are switched off for this session only.
		for _, s := range []string{"SET SESSION unique_checks=0", "SET SESSION foreign_key_checks=0"} {
			if _, err := conn.ExecContext(l.ctx, s); err != nil {
				conn.Close()
				return nil, fmt.Errorf("bulk load %s: %s: %w", t.name, s, err)
			}
		}
	}
	l.wg.Add(1)
	go l.run(w)
	return w, nil
}

func (l *loader) run(w *worker) {
	defer l.wg.Done()
	defer w.conn.Close()
	var sinceCommit int
	for c := range w.ch {
		if l.failed.Load() {
			continue // drain, so the generator never blocks on a dead worker
		}
		var err error
		switch l.fl {
		case flavorSQLite:
			_, err = w.conn.ExecContext(l.ctx, string(c.data))
			sinceCommit += len(c.data)
			if err == nil && sinceCommit > 128<<20 {
				// Commit now and then so the WAL stays bounded.
				if _, err = w.conn.ExecContext(l.ctx, "COMMIT"); err == nil {
					_, err = w.conn.ExecContext(l.ctx, "BEGIN")
				}
				sinceCommit = 0
			}
		case flavorMySQLInsert:
			_, err = w.conn.ExecContext(l.ctx, string(c.data))
		case flavorTSV:
			err = l.loadData(w.conn, c)
		}
		if err != nil {
			l.fail(fmt.Errorf("bulk load %s: %w", c.t.name, err))
		}
		l.recycle(c.data)
	}
	if l.fl == flavorSQLite && !l.failed.Load() {
		if _, err := w.conn.ExecContext(l.ctx, "COMMIT"); err != nil {
			l.fail(fmt.Errorf("bulk load: commit: %w", err))
		}
	}
}

// loadData sends one chunk with LOAD DATA LOCAL INFILE. LOCAL turns data
// errors into warnings, so any warning fails the load.
func (l *loader) loadData(conn *sql.Conn, c chunk) error {
	name := "figures-synth-" + strconv.FormatInt(l.seq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(c.data) })
	defer mysql.DeregisterReaderHandler(name)
	cols := make([]string, len(c.t.cols))
	for i, col := range c.t.cols {
		cols[i] = "`" + col + "`"
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + c.t.name +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" +
		strings.Join(cols, ", ") + ")"
	if _, err := conn.ExecContext(l.ctx, q); err != nil {
		return err
	}
	rows, err := conn.QueryContext(l.ctx, "SHOW WARNINGS LIMIT 3")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		msgs = append(msgs, fmt.Sprintf("%s %d: %s", level, code, msg))
	}
	if len(msgs) > 0 {
		return fmt.Errorf("the server changed or dropped rows: %s", strings.Join(msgs, "; "))
	}
	return rows.Err()
}

// flush hands the table's buffered rows to its worker.
func (t *table) flush() error {
	if t.rows == 0 {
		return t.l.firstErr()
	}
	if t.l.failed.Load() {
		return t.l.firstErr()
	}
	if t.w == nil {
		w, err := t.l.workerFor(t)
		if err != nil {
			t.l.fail(err)
			return err
		}
		t.w = w
	}
	data := t.buf
	t.buf = t.l.buffer()
	t.rows = 0
	select {
	case t.w.ch <- chunk{t: t, data: data}:
	case <-t.l.ctx.Done():
		if err := t.l.firstErr(); err != nil {
			return err
		}
		return t.l.ctx.Err()
	}
	return nil
}

// buffer returns an empty chunk buffer, recycled when one is free.
func (l *loader) buffer() []byte {
	select {
	case b := <-l.free:
		return b[:0]
	default:
		return make([]byte, 0, l.limit+l.limit/4)
	}
}

func (l *loader) recycle(b []byte) {
	select {
	case l.free <- b:
	default:
	}
}

// finish flushes every table and waits for the workers.
func (l *loader) finish() error {
	for _, t := range l.tables {
		if err := t.flush(); err != nil {
			break
		}
	}
	closed := map[*worker]bool{}
	for _, t := range l.tables {
		if t.w != nil && !closed[t.w] {
			close(t.w.ch)
			closed[t.w] = true
		}
	}
	l.wg.Wait()
	l.cancel()
	if err := l.firstErr(); err != nil {
		return err
	}
	if l.fl == flavorSQLite {
		// Back to the durability the database was opened with.
		if _, err := l.db.SQL().ExecContext(l.ctx0, "PRAGMA synchronous=NORMAL"); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
	}
	return nil
}

// abort stops the workers after a generation error.
func (l *loader) abort(err error) {
	l.fail(err)
	l.finish()
}

// Row encoding. A row is a sequence of value calls ended by end().

func (t *table) sep() {
	if !t.inRow {
		t.inRow, t.first = true, true
		if t.l.fl != flavorTSV {
			if t.rows == 0 {
				t.buf = append(t.buf, t.head...)
			} else {
				t.buf = append(t.buf, ',')
			}
			t.buf = append(t.buf, '(')
		}
	}
	if !t.first {
		if t.l.fl == flavorTSV {
			t.buf = append(t.buf, '\t')
		} else {
			t.buf = append(t.buf, ',')
		}
	}
	t.first = false
}

// end closes the row, flushing the chunk when it is full.
func (t *table) end() error {
	if t.l.fl == flavorTSV {
		t.buf = append(t.buf, '\n')
	} else {
		t.buf = append(t.buf, ')')
	}
	t.inRow = false
	t.rows++
	t.total++
	if len(t.buf) >= t.l.limit {
		return t.flush()
	}
	return nil
}

func (t *table) int(v int64) *table {
	t.sep()
	t.buf = strconv.AppendInt(t.buf, v, 10)
	return t
}

func (t *table) bool(v bool) *table {
	if v {
		return t.int(1)
	}
	return t.int(0)
}

func (t *table) float(v float64) *table {
	t.sep()
	t.buf = strconv.AppendFloat(t.buf, v, 'g', -1, 64)
	return t
}

func (t *table) null() *table {
	t.sep()
	if t.l.fl == flavorTSV {
		t.buf = append(t.buf, '\\', 'N')
	} else {
		t.buf = append(t.buf, "NULL"...)
	}
	return t
}

func (t *table) str(s string) *table {
	t.sep()
	switch t.l.fl {
	case flavorTSV:
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				t.buf = append(t.buf, '\\', '\\')
			case '\t':
				t.buf = append(t.buf, '\\', 't')
			case '\n':
				t.buf = append(t.buf, '\\', 'n')
			case '\r':
				t.buf = append(t.buf, '\\', 'r')
			case 0:
				t.buf = append(t.buf, '\\', '0')
			default:
				t.buf = append(t.buf, c)
			}
		}
	default:
		t.buf = append(t.buf, '\'')
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\'':
				t.buf = append(t.buf, '\'', '\'')
			case c == '\\' && t.l.fl == flavorMySQLInsert:
				t.buf = append(t.buf, '\\', '\\')
			default:
				t.buf = append(t.buf, c)
			}
		}
		t.buf = append(t.buf, '\'')
	}
	return t
}

// strOrNull writes s, or NULL when s is empty.
func (t *table) strOrNull(s string) *table {
	if s == "" {
		return t.null()
	}
	return t.str(s)
}

// time writes a datetime given in microseconds since the epoch: Django's
// text on SQLite (no fraction when there are no microseconds), datetime(6)
// text on MySQL.
func (t *table) time(us int64) *table {
	t.sep()
	tm := time.UnixMicro(us).UTC()
	quote := t.l.fl != flavorTSV
	if quote {
		t.buf = append(t.buf, '\'')
	}
	if t.l.fl == flavorSQLite && us%1_000_000 == 0 {
		t.buf = tm.AppendFormat(t.buf, "2006-01-02 15:04:05")
	} else {
		t.buf = tm.AppendFormat(t.buf, "2006-01-02 15:04:05.000000")
	}
	if quote {
		t.buf = append(t.buf, '\'')
	}
	return t
}

// timeOrNull writes a datetime, or NULL for 0.
func (t *table) timeOrNull(us int64) *table {
	if us == 0 {
		return t.null()
	}
	return t.time(us)
}

// deferredIndexes are a table's secondary indexes, dropped for the load
// and rebuilt after it: building an index from sorted data once is many
// times faster than maintaining it row by row, above all when the data does
// not fit the buffer pool. The rebuilt indexes are exactly the dropped ones
// (names, columns, order, uniqueness), so query plans are unchanged.
type deferredIndexes struct {
	table string
	// create rebuilds them (MySQL: one ALTER TABLE; SQLite: the original
	// CREATE INDEX statements).
	create []string
}

// deferIndexes drops the secondary indexes of table until restoreIndexes.
func (l *loader) deferIndexes(ctx context.Context, table string) error {
	d := deferredIndexes{table: table}
	var drops []string
	switch l.db.Dialect() {
	case database.SQLite:
		rows, err := l.db.SQL().QueryContext(ctx,
			"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", table)
		if err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
		for rows.Next() {
			var name, ddl string
			if err := rows.Scan(&name, &ddl); err != nil {
				rows.Close()
				return fmt.Errorf("indexes of %s: %w", table, err)
			}
			drops = append(drops, "DROP INDEX "+name)
			d.create = append(d.create, ddl)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
	case database.MySQL:
		rows, err := l.db.SQL().QueryContext(ctx, `SELECT index_name, non_unique, column_name, sub_part, collation
			FROM information_schema.statistics
			WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'
			ORDER BY index_name, seq_in_index`, table)
		if err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
		type index struct {
			name   string
			unique bool
			cols   []string
		}
		var idx []*index
		for rows.Next() {
			var name, col string
			var nonUnique int
			var sub sql.NullInt64
			var coll sql.NullString
			if err := rows.Scan(&name, &nonUnique, &col, &sub, &coll); err != nil {
				rows.Close()
				return fmt.Errorf("indexes of %s: %w", table, err)
			}
			if len(idx) == 0 || idx[len(idx)-1].name != name {
				idx = append(idx, &index{name: name, unique: nonUnique == 0})
			}
			c := "`" + col + "`"
			if sub.Valid {
				c += "(" + strconv.FormatInt(sub.Int64, 10) + ")"
			}
			if coll.String == "D" {
				c += " DESC"
			}
			idx[len(idx)-1].cols = append(idx[len(idx)-1].cols, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
		if len(idx) == 0 {
			return nil
		}
		var drop, add []string
		for _, ix := range idx {
			drop = append(drop, "DROP INDEX `"+ix.name+"`")
			kw := "ADD INDEX"
			if ix.unique {
				kw = "ADD UNIQUE INDEX"
			}
			add = append(add, kw+" `"+ix.name+"` ("+strings.Join(ix.cols, ", ")+")")
		}
		drops = []string{"ALTER TABLE " + table + " " + strings.Join(drop, ", ")}
		d.create = []string{"ALTER TABLE " + table + " " + strings.Join(add, ", ")}
	}
	for _, s := range drops {
		if _, err := l.db.SQL().ExecContext(ctx, s); err != nil {
			return fmt.Errorf("bulk load: %s: %w", s, err)
		}
	}
	l.indexes = append(l.indexes, d)
	return nil
}

// restoreIndexes rebuilds the indexes deferIndexes dropped.
func (l *loader) restoreIndexes(ctx context.Context) error {
	for _, d := range l.indexes {
		for _, s := range d.create {
			if _, err := l.db.SQL().ExecContext(ctx, s); err != nil {
				return fmt.Errorf("rebuild the indexes of %s (the table was loaded; run seed again with --reset): %w", d.table, err)
			}
		}
	}
	l.indexes = nil
	return nil
}
