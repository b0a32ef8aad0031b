package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
)

// ErrNoOutline is returned (wrapped) by Outline when no outline of the course
// is stored; test for it with errors.Is.
var ErrNoOutline = errors.New("no course outline stored: import one with `figures course import` or `figures course fetch`")

// SaveOutline stores o as its course's current outline. When the stored
// outline already has o's version (the same content, whatever its source),
// nothing is written and changed is false; otherwise the row is inserted or
// replaced and changed is true.
func (s *Store) SaveOutline(ctx context.Context, o *course.Outline) (changed bool, err error) {
	if o.CourseID == "" || o.Version == "" {
		return false, fmt.Errorf("store: save outline: course id %q and version %q are both required (call ComputeVersion)", o.CourseID, o.Version)
	}
	doc, err := json.Marshal(o)
	if err != nil {
		return false, fmt.Errorf("store: save outline of %s: %w", o.CourseID, err)
	}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		var version string
		err := tx.QueryRow(ctx, `SELECT version FROM figures_courseoutline WHERE course_id = ?`, o.CourseID).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case version == o.Version:
			return nil
		}
		changed = true
		_, err = tx.Exec(ctx, upsertOutline(tx.Dialect()), o.CourseID, o.Version, o.Source, string(doc), tx.Time(time.Now()))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store %s: save outline of %s: %w", s.db.Location(), o.CourseID, err)
	}
	return changed, nil
}

// upsertOutline is the insert-or-replace statement in d's dialect.
func upsertOutline(d database.Dialect) string {
	const insert = `INSERT INTO figures_courseoutline (course_id, version, source, outline, imported) VALUES (?, ?, ?, ?, ?) `
	if d == database.MySQL {
		return insert + `ON DUPLICATE KEY UPDATE version = VALUES(version), source = VALUES(source),
outline = VALUES(outline), imported = VALUES(imported)`
	}
	return insert + `ON CONFLICT (course_id) DO UPDATE SET version = excluded.version, source = excluded.source,
outline = excluded.outline, imported = excluded.imported`
}

// Outline returns the stored outline of courseID, or an error wrapping
// ErrNoOutline when there is none.
func (s *Store) Outline(ctx context.Context, courseID string) (*course.Outline, error) {
	var doc string
	err := s.db.QueryRow(ctx, `SELECT outline FROM figures_courseoutline WHERE course_id = ?`, courseID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store %s: course %s: %w", s.db.Location(), courseID, ErrNoOutline)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: outline of %s: %w", s.db.Location(), courseID, err)
	}
	return decodeOutline(courseID, doc)
}

// Outlines returns every stored outline, keyed by course id.
func (s *Store) Outlines(ctx context.Context) (map[string]*course.Outline, error) {
	rows, err := s.db.Query(ctx, `SELECT course_id, outline FROM figures_courseoutline`)
	if err != nil {
		return nil, fmt.Errorf("store %s: outlines: %w", s.db.Location(), err)
	}
	defer rows.Close()
	out := map[string]*course.Outline{}
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("store %s: outlines: %w", s.db.Location(), err)
		}
		o, err := decodeOutline(id, doc)
		if err != nil {
			return nil, err
		}
		out[id] = o
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: outlines: %w", s.db.Location(), err)
	}
	return out, nil
}

func decodeOutline(courseID, doc string) (*course.Outline, error) {
	var o course.Outline
	if err := json.Unmarshal([]byte(doc), &o); err != nil {
		return nil, fmt.Errorf("store: stored outline of %s is not valid JSON (re-import the course): %w", courseID, err)
	}
	if o.CourseID != courseID {
		return nil, fmt.Errorf("store: the outline stored under %s is that of %s (re-import the course)", courseID, o.CourseID)
	}
	return &o, nil
}
