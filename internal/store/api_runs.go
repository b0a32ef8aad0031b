package store

import (
	"database/sql"
	"time"

	"github.com/figures-analytics/figures/internal/database"
)

// The API lists figures_run and figures_pipelineerror with its own paging,
// filters and CSV export (internal/api), so it needs the columns and the
// row readers rather than whole result sets; they live here, next to the
// tables' other readers, so that a column change is made in one place.

// RowScanner is what *sql.Rows and *sql.Row have in common.
type RowScanner interface {
	Scan(dest ...any) error
}

// RunColumns are figures_run's columns in the order ScanRun reads them.
const RunColumns = "id, kind, workflow, grades, date_for, date_to, started, finished, status, courses, " +
	"enrollments_examined, enrollments_updated, errors, lms_statements, message"

// ScanRun reads one figures_run row selected with RunColumns.
func ScanRun(sc RowScanner) (Run, error) {
	var r Run
	var started, finished database.NullTime
	err := sc.Scan(&r.ID, &r.Kind, &r.Workflow, &r.Grades, &r.DateFor, &r.DateTo, &started, &finished, &r.Status,
		&r.Courses, &r.EnrollmentsExamined, &r.EnrollmentsUpdated, &r.Errors, &r.LMSStatements, &r.Message)
	r.Started, r.Finished = started.Time, finished.Ptr()
	return r, err
}

// Duration is how long a finished run took; ok is false while it runs.
// A finish recorded before the start (a clock step between the two) is
// reported as zero rather than as a negative duration.
func (r Run) Duration() (d time.Duration, ok bool) {
	if r.Finished == nil {
		return 0, false
	}
	return max(r.Finished.Sub(r.Started), 0), true
}

// PipelineErrorRecord is a figures_pipelineerror row as listed: the
// recorded error with its id and time. Data is the error_data column's
// text, JSON as the pipeline wrote it.
type PipelineErrorRecord struct {
	ID        int64
	Created   time.Time
	RunID     *int64 // nil: recorded outside a run
	ErrorType string
	Data      string
	CourseID  string
	UserID    *int64
	SiteID    *int64
}

// PipelineErrorColumns are figures_pipelineerror's columns in the order
// ScanPipelineError reads them.
const PipelineErrorColumns = "id, created, run_id, error_type, error_data, course_id, user_id, site_id"

// ScanPipelineError reads one figures_pipelineerror row selected with
// PipelineErrorColumns.
func ScanPipelineError(sc RowScanner) (PipelineErrorRecord, error) {
	var e PipelineErrorRecord
	var created database.NullTime
	var run, user, site sql.NullInt64
	err := sc.Scan(&e.ID, &created, &run, &e.ErrorType, &e.Data, &e.CourseID, &user, &site)
	e.Created = created.Time
	e.RunID, e.UserID, e.SiteID = nullInt64(run), nullInt64(user), nullInt64(site)
	return e, err
}

func nullInt64(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}
