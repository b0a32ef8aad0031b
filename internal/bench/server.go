package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPU      string
	Cores    int
	MemTotal int64 // bytes
	Kernel   string
	Go       string
	// Server is the LMS server's version string; BufferPool its InnoDB
	// buffer pool size when the benchmark started, in bytes.
	Server     string
	BufferPool int64
}

// readMachine describes this machine and the LMS server behind db.
func readMachine(ctx context.Context, db *database.DB) (Machine, error) {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.CPU = parseCPUModel(f)
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		m.MemTotal = parseMemTotal(f)
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if err := db.SQL().QueryRowContext(ctx, "SELECT VERSION()").Scan(&m.Server); err != nil {
		return m, fmt.Errorf("bench: server version: %w", err)
	}
	bp, err := bufferPool(ctx, db.SQL())
	if err != nil {
		return m, err
	}
	m.BufferPool = bp
	return m, nil
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo.
func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseMemTotal returns /proc/meminfo's MemTotal in bytes (0 if absent).
func parseMemTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

func bufferPool(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size").Scan(&n); err != nil {
		return 0, fmt.Errorf("bench: buffer pool size: %w", err)
	}
	return n, nil
}

// setBufferPool resizes the server's InnoDB buffer pool and waits until the
// resize has taken effect. The benchmark does this only when asked
// (--buffer-pool), reports both sizes, and restores the original.
func setBufferPool(ctx context.Context, db *sql.DB, size int64) error {
	if _, err := db.ExecContext(ctx, "SET GLOBAL innodb_buffer_pool_size = "+strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("bench: set innodb_buffer_pool_size = %d: %w", size, err)
	}
	var page int64
	if err := db.QueryRowContext(ctx, "SELECT @@innodb_page_size").Scan(&page); err != nil {
		return fmt.Errorf("bench: page size: %w", err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		cur, err := bufferPool(ctx, db)
		if err != nil {
			return err
		}
		var name, pages, status string
		if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_total'").Scan(&name, &pages); err != nil {
			return fmt.Errorf("bench: buffer pool pages: %w", err)
		}
		// An absent resize status is fine: an empty result means no resize.
		_ = db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_resize_status'").Scan(&name, &status)
		n, _ := strconv.ParseInt(pages, 10, 64)
		have := n * page
		// The pool holds a few percent of its pages for itself; within 10%
		// of the asked size, with no resize going on, it is done.
		if cur >= size && have > size*9/10 && have < size*11/10 && !strings.Contains(strings.ToLower(status), "resiz") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: buffer pool resize to %d not done after 10 minutes (size %d, %d pages, status %q)", size, cur, n, status)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// TableSize is one table's size from information_schema (InnoDB's
// estimates for rows; exact counts come from the dataset's record).
type TableSize struct {
	Table      string
	Rows       int64
	DataBytes  int64
	IndexBytes int64
}

// tableSizes reads the sizes of the tables of schema.
func tableSizes(ctx context.Context, db *sql.DB, schema string) ([]TableSize, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, COALESCE(table_rows, 0), COALESCE(data_length, 0), COALESCE(index_length, 0)
FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY data_length + index_length DESC, table_name`, schema)
	if err != nil {
		return nil, fmt.Errorf("bench: table sizes of %s: %w", schema, err)
	}
	defer rows.Close()
	var out []TableSize
	for rows.Next() {
		var t TableSize
		if err := rows.Scan(&t.Table, &t.Rows, &t.DataBytes, &t.IndexBytes); err != nil {
			return nil, fmt.Errorf("bench: table sizes: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ParseSize reads a byte size as operators write it: a number of bytes, or
// a number with a binary unit (K, M, G, T, optionally followed by "iB" or
// "B"): "134217728", "128M", "8GiB", "1.5G".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if strings.HasSuffix(num, ".") {
		num = strings.TrimSuffix(num, ".")
	}
	unit := strings.ToUpper(strings.TrimSpace(t[len(num):]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	mult := map[string]float64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 {
		return 0, fmt.Errorf("size %q: want bytes or a number with K, M, G or T (binary units), such as 8G", s)
	}
	return int64(v * mult), nil
}
