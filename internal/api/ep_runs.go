package api

import (
	"database/sql"
	"encoding/json"
	"math"
	"net/http"

	"github.com/figures-analytics/figures/internal/store"
)

// The pipeline-runs endpoints are beyond the original: its pipeline left
// no record of its runs. They read figures_run and figures_pipelineerror.
// A run covers every site, so the run list is not site data and any caller
// may read it; the errors name courses and learners of every site, so
// they are for global callers only.

// runItem is a pipeline-runs answer.
type runItem struct {
	ID                  int      `json:"id"`
	Kind                string   `json:"kind"`
	Workflow            string   `json:"workflow"`
	Grades              string   `json:"grades"`
	DateFor             *string  `json:"date_for"`
	DateTo              *string  `json:"date_to"`
	Started             string   `json:"started"`
	Finished            *string  `json:"finished"`
	DurationSeconds     *float64 `json:"duration_seconds"`
	Status              string   `json:"status"`
	Courses             int      `json:"courses"`
	EnrollmentsExamined int      `json:"enrollments_examined"`
	EnrollmentsUpdated  int      `json:"enrollments_updated"`
	Errors              int      `json:"errors"`
	LMSStatements       int64    `json:"lms_statements"`
	Message             string   `json:"message"`
}

var runCSVHeader = []string{"id", "kind", "workflow", "grades", "date_for", "date_to", "started", "finished",
	"duration_seconds", "status", "courses", "enrollments_examined", "enrollments_updated", "errors", "lms_statements", "message"}

func newRunItem(r store.Run) *runItem {
	it := &runItem{ID: r.ID, Kind: r.Kind, Workflow: r.Workflow, Grades: r.Grades, Started: isoTime(r.Started),
		Status: r.Status, Courses: r.Courses, EnrollmentsExamined: r.EnrollmentsExamined,
		EnrollmentsUpdated: r.EnrollmentsUpdated, Errors: r.Errors, LMSStatements: r.LMSStatements, Message: r.Message}
	if !r.DateFor.IsZero() {
		s := r.DateFor.String()
		it.DateFor = &s
	}
	if !r.DateTo.IsZero() {
		s := r.DateTo.String()
		it.DateTo = &s
	}
	if r.Finished != nil {
		s := isoTime(*r.Finished)
		it.Finished = &s
	}
	if d, ok := r.Duration(); ok {
		// Milliseconds: finer is noise for a batch job's duration.
		secs := math.Round(d.Seconds()*1000) / 1000
		it.DurationSeconds = &secs
	}
	return it
}

func (it *runItem) csv() []string {
	return []string{csvInt(int64(it.ID)), it.Kind, it.Workflow, it.Grades, csvPtr(it.DateFor, csvStr), csvPtr(it.DateTo, csvStr),
		it.Started, csvPtr(it.Finished, csvStr), csvPtr(it.DurationSeconds, csvFloat), it.Status,
		csvInt(int64(it.Courses)), csvInt(int64(it.EnrollmentsExamined)), csvInt(int64(it.EnrollmentsUpdated)),
		csvInt(int64(it.Errors)), csvInt(it.LMSStatements), it.Message}
}

func scanRunItem(rows *sql.Rows) (*runItem, error) {
	r, err := store.ScanRun(rows)
	if err != nil {
		return nil, err
	}
	return newRunItem(r), nil
}

func (s *Server) pipelineRunsList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	var wh where
	for _, col := range []string{"kind", "workflow", "status"} {
		if v := p.str(col); v != "" {
			wh.add(col+" = ?", v)
		}
	}
	dateFilters(p, &wh, "date_for")
	order := p.orderBy(ordering{
		fields: map[string][]string{"id": {"id"}, "started": {"started"}, "date_for": nullsFirst("date_for"),
			"kind": {"kind"}, "status": {"status"}},
		def: "id DESC",
		tie: "id",
	})
	serveList(s, w, r, p, list[*runItem]{
		name:      "pipeline-runs",
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_run" + wh.sql(), wh.args},
		rows:      query{"SELECT " + store.RunColumns + " FROM figures_run" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanRunItem,
		csvHeader: runCSVHeader,
		csvRecord: (*runItem).csv,
	})
}

func (s *Server) pipelineRunsDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT "+store.RunColumns+" FROM figures_run WHERE id = ?", scanRunItem)
}

// scheduleItem is the pipeline-runs/schedule answer.
type scheduleItem struct {
	Schedule *string `json:"schedule"`
	NextRun  *string `json:"next_run"`
	Running  bool    `json:"running"`
}

// pipelineSchedule answers the scheduler's state. Without a scheduler
// (Config.Schedule nil) everything is null and running is false: runs
// started by cron or by hand in other processes show in the run list
// with status "running", which this process cannot know about otherwise.
func (s *Server) pipelineSchedule(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var out scheduleItem
	if s.cfg.Schedule != nil {
		spec, next, running := s.cfg.Schedule()
		if spec != "" {
			out.Schedule = &spec
		}
		if !next.IsZero() {
			n := isoTime(next)
			out.NextRun = &n
		}
		out.Running = running
	}
	writeJSON(w, http.StatusOK, out)
}

// errorItem is a pipeline-runs/errors answer.
type errorItem struct {
	ID        int64  `json:"id"`
	Run       *int64 `json:"run"`
	Created   string `json:"created"`
	ErrorType string `json:"error_type"`
	CourseID  string `json:"course_id"`
	UserID    *int64 `json:"user_id"`
	SiteID    *int64 `json:"site_id"`
	// ErrorData is the JSON the pipeline recorded, passed through; text
	// that is not JSON (written by something else) is answered as a
	// string rather than breaking the answer.
	ErrorData json.RawMessage `json:"error_data"`
	data      string
}

func scanErrorItem(rows *sql.Rows) (*errorItem, error) {
	e, err := store.ScanPipelineError(rows)
	if err != nil {
		return nil, err
	}
	it := &errorItem{ID: e.ID, Run: e.RunID, Created: isoTime(e.Created), ErrorType: e.ErrorType, CourseID: e.CourseID,
		UserID: e.UserID, SiteID: e.SiteID, data: e.Data}
	if json.Valid([]byte(e.Data)) {
		it.ErrorData = json.RawMessage(e.Data)
	} else {
		it.ErrorData = jsonString(e.Data)
	}
	return it, nil
}

func (s *Server) pipelineErrorsList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	var wh where
	if id, ok := p.integer("run"); ok {
		wh.add("run_id = ?", id)
	}
	if v := p.str("error_type"); v != "" {
		wh.iexact("error_type", v)
	}
	// Course ids are matched as recorded, unvalidated: an error may be
	// about a course id the pipeline could not parse.
	if v := p.str("course_id"); v != "" {
		wh.add("course_id = ?", normalizeCourseID(v))
	}
	order := p.orderBy(ordering{fields: map[string][]string{"id": {"id"}, "created": {"created"}}, def: "id", tie: "id"})
	serveList(s, w, r, p, list[*errorItem]{
		name:      "pipeline-errors",
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_pipelineerror" + wh.sql(), wh.args},
		rows:      query{"SELECT " + store.PipelineErrorColumns + " FROM figures_pipelineerror" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanErrorItem,
		csvHeader: []string{"id", "run", "created", "error_type", "course_id", "user_id", "site_id", "error_data"},
		csvRecord: func(e *errorItem) []string {
			return []string{csvInt(e.ID), csvPtr(e.Run, csvInt), e.Created, e.ErrorType, e.CourseID,
				csvPtr(e.UserID, csvInt), csvPtr(e.SiteID, csvInt), e.data}
		},
	})
}
