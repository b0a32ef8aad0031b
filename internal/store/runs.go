package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// Run is a figures_run row: one pipeline run.
type Run struct {
	ID                  int
	Kind                string // run, backfill, compare
	Workflow            string
	Grades              string
	DateFor             calendar.Date
	DateTo              calendar.Date
	Started             time.Time
	Finished            *time.Time
	Status              string // running, ok, partial, failed, interrupted
	Courses             int
	EnrollmentsExamined int
	EnrollmentsUpdated  int
	Errors              int
	LMSStatements       int64
	Message             string
}

// Run statuses.
const (
	RunRunning = "running"
	RunOK      = "ok"
	RunPartial = "partial"
	RunFailed  = "failed"
)

// StartRun records a run's start, with the lease that says this process
// runs it (renewed until FinishRun or Close), and returns its id. It marks
// interrupted, first, the runs whose process is gone (ReapInterrupted).
func (s *Store) StartRun(ctx context.Context, r Run) (int, error) {
	ctx, cancel := database.StatementTimeout(ctx, bookkeeping, "run bookkeeping")
	defer cancel()
	if _, err := s.ReapInterrupted(ctx); err != nil {
		slog.Warn("cannot mark interrupted runs", "err", err)
	}
	q := `INSERT INTO figures_run (kind, workflow, grades, date_for, date_to, started, status, courses,
 enrollments_examined, enrollments_updated, errors, lms_statements, message, host, pid, heartbeat)
 VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, '', ?, ?, ?)`
	args := []any{r.Kind, r.Workflow, r.Grades, r.DateFor, r.DateTo, s.db.Time(r.Started), RunRunning,
		hostname, os.Getpid(), s.db.Time(time.Now())}
	var id int
	if s.db.Dialect() == database.Postgres {
		if err := s.db.QueryRow(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
			return 0, fmt.Errorf("store: record run: %w", err)
		}
	} else {
		res, err := s.db.Exec(ctx, q, args...)
		if err != nil {
			return 0, fmt.Errorf("store: record run: %w", err)
		}
		n, err := res.LastInsertId()
		if err != nil {
			return 0, fmt.Errorf("store: record run: %w", err)
		}
		id = int(n)
	}
	s.keepAlive(id)
	return id, nil
}

// FinishRun records a run's end, counts and status, and ends its lease.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	release(s.leaseKey(r.ID))
	ctx, cancel := database.StatementTimeout(ctx, bookkeeping, "run bookkeeping")
	defer cancel()
	fin := time.Now()
	if r.Finished != nil {
		fin = *r.Finished
	}
	_, err := s.db.Exec(ctx, `UPDATE figures_run SET finished = ?, status = ?, courses = ?, enrollments_examined = ?,
 enrollments_updated = ?, errors = ?, lms_statements = ?, message = ? WHERE id = ?`,
		s.db.Time(fin), r.Status, r.Courses, r.EnrollmentsExamined, r.EnrollmentsUpdated, r.Errors, r.LMSStatements, r.Message, r.ID)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", r.ID, err)
	}
	return nil
}

// Runs returns the latest runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, workflow, grades, date_for, date_to, started, finished, status, courses,
 enrollments_examined, enrollments_updated, errors, lms_statements, message FROM figures_run ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished database.NullTime
		if err := rows.Scan(&r.ID, &r.Kind, &r.Workflow, &r.Grades, &r.DateFor, &r.DateTo, &started, &finished, &r.Status,
			&r.Courses, &r.EnrollmentsExamined, &r.EnrollmentsUpdated, &r.Errors, &r.LMSStatements, &r.Message); err != nil {
			return nil, fmt.Errorf("store: runs: %w", err)
		}
		r.Started, r.Finished = started.Time, finished.Ptr()
		out = append(out, r)
	}
	return out, rows.Err()
}

// PipelineError is a figures_pipelineerror row.
type PipelineError struct {
	RunID     int
	ErrorType string // UNSPECIFIED, GRADES, COURSE, SITE
	Data      map[string]any
	CourseID  string
	UserID    int // 0: none
	SiteID    int // 0: none
}

// Pipeline error types, as in the original.
const (
	ErrorUnspecified = "UNSPECIFIED"
	ErrorGrades      = "GRADES"
	ErrorCourse      = "COURSE"
	ErrorSite        = "SITE"
)

// bookkeeping bounds the statements that record runs and their errors:
// short statements, which a run waits for when it ends.
const bookkeeping = 30 * time.Second

// RecordError writes a pipeline error row.
func (s *Store) RecordError(ctx context.Context, e PipelineError) error {
	ctx, cancel := database.StatementTimeout(ctx, bookkeeping, "run bookkeeping")
	defer cancel()
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("store: pipeline error data: %w", err)
	}
	now := s.db.Time(time.Now())
	var user, site, run any
	if e.UserID != 0 {
		user = e.UserID
	}
	if e.SiteID != 0 {
		site = e.SiteID
	}
	if e.RunID != 0 {
		run = e.RunID
	}
	typ := e.ErrorType
	if typ == "" {
		typ = ErrorUnspecified
	}
	_, err = s.db.Exec(ctx, `INSERT INTO figures_pipelineerror (created, modified, error_type, error_data, course_id, user_id, site_id, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, now, now, typ, string(data), e.CourseID, user, site, run)
	if err != nil {
		return fmt.Errorf("store: record pipeline error: %w", err)
	}
	return nil
}

// ErrorsOfRun returns the pipeline errors recorded by a run.
func (s *Store) ErrorsOfRun(ctx context.Context, runID int) ([]PipelineError, error) {
	rows, err := s.db.Query(ctx, `SELECT error_type, error_data, course_id, user_id, site_id FROM figures_pipelineerror
WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: errors of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []PipelineError
	for rows.Next() {
		e := PipelineError{RunID: runID}
		var data string
		var user, site sql.NullInt64
		if err := rows.Scan(&e.ErrorType, &data, &e.CourseID, &user, &site); err != nil {
			return nil, fmt.Errorf("store: pipeline errors: %w", err)
		}
		json.Unmarshal([]byte(data), &e.Data)
		e.UserID, e.SiteID = int(user.Int64), int(site.Int64)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Watermark returns a named watermark, or the zero time when unset.
func (s *Store) Watermark(ctx context.Context, name string) (time.Time, error) {
	var v database.NullTime
	err := s.db.QueryRow(ctx, `SELECT value FROM figures_watermark WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: watermark %s: %w", name, err)
	}
	return v.Time, nil
}

// SetWatermarks stores named watermarks in one transaction.
func (s *Store) SetWatermarks(ctx context.Context, marks map[string]time.Time) error {
	u := upsert{table: "figures_watermark", key: []string{"name"}, cols: []string{"name", "value"}, update: []string{"value"}, modifiedOnly: true}
	var rows [][]any
	for name, t := range marks {
		rows = append(rows, []any{name, s.db.Time(t)})
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error { return u.write(ctx, tx, time.Now(), rows) })
}
