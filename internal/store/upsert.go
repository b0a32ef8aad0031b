package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// upsert describes an idempotent multi-row write: insert, or update the row
// with the same key. created is set on insert only; modified on every write.
type upsert struct {
	table string
	// key are the columns of the unique key rows conflict on.
	key []string
	// cols are the value columns, key columns included, without created and
	// modified, in the order of each row's values.
	cols []string
	// update are the columns overwritten on conflict.
	update []string
	// guard, when set, names a column: an existing row is only overwritten
	// when its guard value is not newer than the incoming one.
	guard string
	// noTimestamps is set for tables without created/modified columns.
	noTimestamps bool
	// modifiedOnly is set for tables with a modified column but no created.
	modifiedOnly bool
}

// maxArgs keeps a statement under SQLite's 32766 host-parameter limit.
const maxArgs = 30000

// write sends rows in as few statements as the parameter limit allows.
func (u upsert) write(ctx context.Context, q database.Querier, now time.Time, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := u.cols
	switch {
	case u.noTimestamps:
	case u.modifiedOnly:
		cols = append(append([]string{}, cols...), "modified")
	default:
		cols = append(append([]string{}, cols...), "created", "modified")
	}
	per := max(1, maxArgs/len(cols))
	ts := q.Time(now)
	for len(rows) > 0 {
		n := min(len(rows), per)
		chunk := rows[:n]
		rows = rows[n:]
		var b strings.Builder
		args := make([]any, 0, n*len(cols))
		b.WriteString("INSERT INTO " + u.table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		row := "(" + database.Placeholders(len(cols)) + ")"
		for i, r := range chunk {
			if len(r) != len(u.cols) {
				return fmt.Errorf("store: %s: row has %d values for %d columns", u.table, len(r), len(u.cols))
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			args = append(args, r...)
			switch {
			case u.noTimestamps:
			case u.modifiedOnly:
				args = append(args, ts)
			default:
				args = append(args, ts, ts)
			}
		}
		b.WriteString(u.conflictClause(q.Dialect()))
		if _, err := q.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: write %s: %w", u.table, err)
		}
	}
	return nil
}

func (u upsert) conflictClause(d database.Dialect) string {
	update := u.update
	if !u.noTimestamps {
		update = append(append([]string{}, update...), "modified")
	}
	if len(update) == 0 {
		if d == database.MySQL {
			// A no-op assignment makes MySQL ignore the duplicate.
			return " ON DUPLICATE KEY UPDATE " + u.key[0] + " = " + u.key[0]
		}
		return " ON CONFLICT (" + strings.Join(u.key, ", ") + ") DO NOTHING"
	}
	var sets []string
	if d == database.MySQL {
		// MySQL evaluates the assignments left to right, each seeing the
		// previous ones; the guard column is assigned last so every
		// condition compares the old value.
		for _, c := range update {
			if c == u.guard {
				continue
			}
			v := "VALUES(" + c + ")"
			if u.guard != "" {
				v = "IF(" + u.guard + " <= VALUES(" + u.guard + "), VALUES(" + c + "), " + c + ")"
			}
			sets = append(sets, c+" = "+v)
		}
		if u.guard != "" {
			sets = append(sets, u.guard+" = IF("+u.guard+" <= VALUES("+u.guard+"), VALUES("+u.guard+"), "+u.guard+")")
		}
		return " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	}
	for _, c := range update {
		sets = append(sets, c+" = excluded."+c)
	}
	s := " ON CONFLICT (" + strings.Join(u.key, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
	if u.guard != "" {
		s += " WHERE " + u.table + "." + u.guard + " <= excluded." + u.guard
	}
	return s
}
