package api

import (
	"database/sql"
	"net/http"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// ---- enrollment-metrics (LearnerCourseGradeMetrics) ----

type enrollmentMetric struct {
	ID               int64    `json:"id"`
	User             *userRef `json:"user"`
	CourseID         string   `json:"course_id"`
	DateFor          string   `json:"date_for"`
	Completed        bool     `json:"completed"`
	PointsEarned     float64  `json:"points_earned"`
	PointsPossible   float64  `json:"points_possible"`
	SectionsWorked   int64    `json:"sections_worked"`
	SectionsPossible int64    `json:"sections_possible"`
	ProgressPercent  string   `json:"progress_percent"`
	// ProgressEstimate says why the values are an estimate (the
	// platform would draw part of the learner's structure at random:
	// "cohort", "experiment", "library", comma-separated); null when
	// exact. Not in the original Figures.
	ProgressEstimate *string `json:"progress_estimate"`
}

const lcgmFrom = " FROM figures_learnercoursegrademetrics g LEFT JOIN figures_learner l ON l.user_id = g.user_id"

const lcgmCols = "g.id, g.user_id, l.username, l.fullname, l.has_profile, g.course_id, g.date_for, g.points_earned, g.points_possible, g.sections_worked, g.sections_possible, g.estimate"

// lcgmCompleted is the original's "completed": some section worked and all
// of them.
const lcgmCompleted = "g.sections_worked > 0 AND g.sections_worked = g.sections_possible"

func scanEnrollmentMetric(rows *sql.Rows) (enrollmentMetric, error) {
	var (
		m          enrollmentMetric
		uid        sql.NullInt64
		username   sql.NullString
		name       sql.NullString
		hasProfile sql.NullBool
		d          calendar.Date
		estimate   sql.NullString
	)
	if err := rows.Scan(&m.ID, &uid, &username, &name, &hasProfile, &m.CourseID, &d, &m.PointsEarned, &m.PointsPossible, &m.SectionsWorked, &m.SectionsPossible, &estimate); err != nil {
		return m, err
	}
	if estimate.Valid {
		m.ProgressEstimate = &estimate.String
	}
	if uid.Valid {
		m.User = &userRef{ID: uid.Int64, Username: username.String, Fullname: profileName(name.String, hasProfile.Bool)}
	}
	m.DateFor = d.String()
	m.Completed = m.SectionsWorked > 0 && m.SectionsWorked == m.SectionsPossible
	m.ProgressPercent = progressDecimal(m.SectionsWorked, m.SectionsPossible)
	return m, nil
}

var enrollmentMetricCSV = []string{"id", "user.id", "user.username", "user.fullname", "course_id", "date_for", "completed",
	"points_earned", "points_possible", "sections_worked", "sections_possible", "progress_percent", "progress_estimate"}

func enrollmentMetricRecord(m enrollmentMetric) []string {
	uid, uname, fullname := "", "", ""
	if m.User != nil {
		uid, uname, fullname = csvInt(m.User.ID), m.User.Username, csvPtr(m.User.Fullname, csvStr)
	}
	return []string{csvInt(m.ID), uid, uname, fullname, m.CourseID, m.DateFor, csvBool(m.Completed),
		csvFloat(m.PointsEarned), csvFloat(m.PointsPossible), csvInt(m.SectionsWorked), csvInt(m.SectionsPossible), m.ProgressPercent,
		csvPtr(m.ProgressEstimate, csvStr)}
}

// enrollmentMetricFilters applies the original's EnrollmentMetricsFilter.
func enrollmentMetricFilters(p *params, w *where, site Site) {
	w.add("g.site_id = ?", site.ID)
	if _, given := p.q["course_ids"]; given {
		w.in("g.course_id", database.Args(p.courseIDs("course_ids")))
	}
	if _, given := p.q["user_ids"]; given {
		w.in("g.user_id", database.Args(p.intList("user_ids")))
	}
	from, to := p.dateRange("date")
	if !from.IsZero() {
		w.add("g.date_for >= ?", from)
	}
	if !to.IsZero() {
		w.add("g.date_for <= ?", to)
	}
	if d, ok := p.date("date_for"); ok {
		w.add("g.date_for = ?", d)
	}
	if v, ok := p.boolean("only_completed"); ok && v {
		w.add(lcgmCompleted)
	}
	if v, ok := p.boolean("exclude_completed"); ok && v {
		// The complement of completed. (The original's sections_worked <
		// sections_possible also dropped the rows with nothing possible.)
		w.add("NOT (" + lcgmCompleted + ")")
	}
	if c, ok := p.courseID("course_id"); ok {
		w.add("g.course_id = ?", c)
	}
	if v, ok := p.integer("user"); ok {
		w.add("g.user_id = ?", v)
	}
	for _, f := range []string{"sections_worked", "sections_possible"} {
		if v, ok := p.integer(f); ok {
			w.add("g."+f+" = ?", v)
		}
	}
	for _, f := range []string{"points_possible", "points_earned"} {
		if v, ok := p.number(f); ok {
			w.add("g."+f+" = ?", v)
		}
	}
}

var enrollmentMetricOrdering = ordering{
	fields: map[string][]string{
		"date_for":  {"g.date_for"},
		"course_id": {"g.course_id"},
		"username":  {"l.username"},
		"user":      {"g.user_id"},
	},
	// The original's natural order: date_for, user__username, course_id.
	def: "g.date_for, l.username, g.course_id",
	tie: "g.id",
}

func (s *Server) serveEnrollmentMetrics(w http.ResponseWriter, r *http.Request, rc *reqCtx, name string, completedOnly bool) {
	p := newParams(r)
	var wh where
	enrollmentMetricFilters(p, &wh, rc.site)
	if completedOnly {
		wh.add(lcgmCompleted)
	}
	order := p.orderBy(enrollmentMetricOrdering)
	serveList(s, w, r, p, list[enrollmentMetric]{
		name:      name,
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_learnercoursegrademetrics g" + wh.sql(), wh.args},
		rows:      query{"SELECT " + lcgmCols + lcgmFrom + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanEnrollmentMetric,
		csvHeader: enrollmentMetricCSV,
		csvRecord: enrollmentMetricRecord,
	})
}

func (s *Server) enrollmentMetricsList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveEnrollmentMetrics(w, r, rc, "enrollment-metrics", false)
}

// enrollmentMetricsCompleted answers enrollment-metrics/completed/: the
// completed rows. The list's filters apply (the original ignored them).
func (s *Server) enrollmentMetricsCompleted(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.serveEnrollmentMetrics(w, r, rc, "enrollment-metrics-completed", true)
}

type completedID struct {
	CourseID string `json:"course_id"`
	UserID   int64  `json:"user_id"`
}

// enrollmentMetricsCompletedIDs answers enrollment-metrics/completed_ids/:
// the distinct (course, user) pairs with a completed row, each once (the
// original's DISTINCT could repeat them), ordered by course then user.
func (s *Server) enrollmentMetricsCompletedIDs(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	var wh where
	enrollmentMetricFilters(p, &wh, rc.site)
	wh.add(lcgmCompleted)
	wh.add("g.user_id IS NOT NULL")
	order := p.orderBy(ordering{fields: map[string][]string{"course_id": {"course_id"}, "user_id": {"user_id"}}, def: "course_id", tie: "user_id"})
	distinct := "SELECT DISTINCT g.course_id, g.user_id FROM figures_learnercoursegrademetrics g" + wh.sql()
	serveList(s, w, r, p, list[completedID]{
		name:  "enrollment-metrics-completed-ids",
		pager: limitOffset{20},
		count: query{"SELECT COUNT(*) FROM (" + distinct + ") x", wh.args},
		rows:  query{"SELECT course_id, user_id FROM (" + distinct + ") x ORDER BY " + order, wh.args},
		scan: func(rows *sql.Rows) (completedID, error) {
			var c completedID
			err := rows.Scan(&c.CourseID, &c.UserID)
			return c, err
		},
		csvHeader: []string{"course_id", "user_id"},
		csvRecord: func(c completedID) []string { return []string{c.CourseID, csvInt(c.UserID)} },
	})
}

func (s *Server) enrollmentMetricsDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT "+lcgmCols+lcgmFrom+" WHERE g.id = ? AND g.site_id = ?", scanEnrollmentMetric, rc.site.ID)
}

// ---- course-enrollments ----

type courseEnrollment struct {
	ID       int64    `json:"id"`
	User     *userRef `json:"user"`
	Created  *string  `json:"created"`
	IsActive bool     `json:"is_active"`
	Mode     string   `json:"mode"`
	CourseID string   `json:"course_id"`
}

// The site's enrollments: those in the site's courses (whose learners are
// site users by definition).
const courseEnrollmentFrom = ` FROM figures_courseenrollment ce
JOIN figures_sitecourse sc ON sc.course_id = ce.course_id
LEFT JOIN figures_learner l ON l.user_id = ce.user_id`

const courseEnrollmentCols = "ce.id, ce.user_id, l.username, l.fullname, l.has_profile, ce.created, ce.is_active, ce.mode, ce.course_id"

func scanCourseEnrollment(rows *sql.Rows) (courseEnrollment, error) {
	var (
		e          courseEnrollment
		uid        int64
		username   sql.NullString
		name       sql.NullString
		hasProfile sql.NullBool
		created    database.NullTime
	)
	if err := rows.Scan(&e.ID, &uid, &username, &name, &hasProfile, &created, &e.IsActive, &e.Mode, &e.CourseID); err != nil {
		return e, err
	}
	e.User = &userRef{ID: uid, Username: username.String, Fullname: profileName(name.String, hasProfile.Bool)}
	e.Created = isoTimePtr(created)
	return e, nil
}

func (s *Server) courseEnrollmentsList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	var wh where
	wh.add("sc.site_id = ?", rc.site.ID)
	if c, ok := p.courseID("course_id"); ok {
		wh.add("ce.course_id = ?", c)
	}
	if v, ok := p.integer("user_id"); ok {
		wh.add("ce.user_id = ?", v)
	}
	if v, ok := p.boolean("is_active"); ok {
		wh.add("ce.is_active = ?", v)
	}
	order := p.orderBy(ordering{
		fields: map[string][]string{"id": {"ce.id"}, "created": nullsFirst("ce.created"), "course_id": {"ce.course_id"}, "user_id": {"ce.user_id"}},
		tie:    "ce.id",
	})
	serveList(s, w, r, p, list[courseEnrollment]{
		name:      "course-enrollments",
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_courseenrollment ce JOIN figures_sitecourse sc ON sc.course_id = ce.course_id" + wh.sql(), wh.args},
		rows:      query{"SELECT " + courseEnrollmentCols + courseEnrollmentFrom + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanCourseEnrollment,
		csvHeader: []string{"id", "user.id", "user.username", "user.fullname", "created", "is_active", "mode", "course_id"},
		csvRecord: func(e courseEnrollment) []string {
			return []string{csvInt(e.ID), csvInt(e.User.ID), e.User.Username, csvPtr(e.User.Fullname, csvStr), csvPtr(e.Created, csvStr),
				csvBool(e.IsActive), e.Mode, e.CourseID}
		},
	})
}

func (s *Server) courseEnrollmentsDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT "+courseEnrollmentCols+courseEnrollmentFrom+" WHERE ce.id = ? AND sc.site_id = ?", scanCourseEnrollment, rc.site.ID)
}
