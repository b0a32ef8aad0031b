package api

import (
	"database/sql"
	"net/http"

	"github.com/figures-analytics/figures/internal/calendar"
)

// The MAU snapshot lists inherited the LMS's default page-number
// pagination in the original; they keep it, so that scripts written
// against it keep working.
var mauPager = pageNumber{def: 10, max: 100}

// ---- course-mau-metrics ----

type courseMauItem struct {
	MAU      int64  `json:"mau"`
	DateFor  string `json:"date_for"`
	Domain   string `json:"domain"`
	CourseID string `json:"course_id"`
}

func scanCourseMau(site Site) func(*sql.Rows) (courseMauItem, error) {
	return func(rows *sql.Rows) (courseMauItem, error) {
		var (
			m courseMauItem
			d calendar.Date
		)
		if err := rows.Scan(&m.MAU, &d, &m.CourseID); err != nil {
			return m, err
		}
		m.DateFor, m.Domain = d.String(), site.Domain
		return m, nil
	}
}

func (s *Server) courseMauList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	wh := courseSnapshotWhere(p, rc.site)
	order := p.orderBy(ordering{
		fields: map[string][]string{"date_for": {"m.date_for"}, "course_id": {"m.course_id"}, "mau": {"m.mau"}},
		def:    "m.date_for DESC, m.course_id",
		tie:    "m.id",
	})
	serveList(s, w, r, p, list[courseMauItem]{
		name:      "course-mau-metrics",
		pager:     mauPager,
		count:     query{"SELECT COUNT(*) FROM figures_coursemaumetrics m" + wh.sql(), wh.args},
		rows:      query{"SELECT m.mau, m.date_for, m.course_id FROM figures_coursemaumetrics m" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanCourseMau(rc.site),
		csvHeader: []string{"mau", "date_for", "domain", "course_id"},
		csvRecord: func(m courseMauItem) []string { return []string{csvInt(m.MAU), m.DateFor, m.Domain, m.CourseID} },
	})
}

// courseMauDetail answers course-mau-metrics/<id>/ by the row's id. (The
// original's route expected a course id but looked up an integer, so it
// always answered 404.)
func (s *Server) courseMauDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT m.mau, m.date_for, m.course_id FROM figures_coursemaumetrics m WHERE m.id = ? AND m.site_id = ?", scanCourseMau(rc.site), rc.site.ID)
}

// ---- site-mau-metrics ----

type siteMauItem struct {
	MAU     int64  `json:"mau"`
	DateFor string `json:"date_for"`
	Domain  string `json:"domain"`
}

func scanSiteMau(site Site) func(*sql.Rows) (siteMauItem, error) {
	return func(rows *sql.Rows) (siteMauItem, error) {
		var (
			m siteMauItem
			d calendar.Date
		)
		if err := rows.Scan(&m.MAU, &d); err != nil {
			return m, err
		}
		m.DateFor, m.Domain = d.String(), site.Domain
		return m, nil
	}
}

func (s *Server) siteMauList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	wh := siteSnapshotWhere(p, rc.site, "m")
	order := p.orderBy(ordering{fields: map[string][]string{"date_for": {"m.date_for"}, "mau": {"m.mau"}}, def: "m.date_for DESC", tie: "m.id"})
	serveList(s, w, r, p, list[siteMauItem]{
		name:      "site-mau-metrics",
		pager:     mauPager,
		count:     query{"SELECT COUNT(*) FROM figures_sitemaumetrics m" + wh.sql(), wh.args},
		rows:      query{"SELECT m.mau, m.date_for FROM figures_sitemaumetrics m" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanSiteMau(rc.site),
		csvHeader: []string{"mau", "date_for", "domain"},
		csvRecord: func(m siteMauItem) []string { return []string{csvInt(m.MAU), m.DateFor, m.Domain} },
	})
}

func (s *Server) siteMauDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT m.mau, m.date_for FROM figures_sitemaumetrics m WHERE m.id = ? AND m.site_id = ?", scanSiteMau(rc.site), rc.site.ID)
}

// ---- live MAU ----

type courseMauLiveItem struct {
	MonthFor string `json:"month_for"`
	Count    int64  `json:"count"`
	CourseID string `json:"course_id"`
	Domain   string `json:"domain"`
}

// courseMauLive answers course-mau-live-metrics/ (every site course) and
// course-mau-live-metrics/<course id>/: this month's active learners so
// far, from the LMS with --lms, otherwise from the store. month_for is
// today's date, as in the original.
func (s *Server) courseMauLive(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	id, _, isList, err := coursePath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today := calendar.Of(s.now()).String()
	if !isList {
		if _, err := s.siteCourse(ctx, rc.site, id); err != nil {
			s.fail(w, r, err)
			return
		}
		counts, err := s.liveCourseMAU(ctx, rc.site, []string{id})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, courseMauLiveItem{MonthFor: today, Count: counts[id], CourseID: id, Domain: rc.site.Domain})
		return
	}
	p, order, counts, err := s.liveCourseList(r, rc.site)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveList(s, w, r, p, list[courseMauLiveItem]{
		name: "course-mau-live-metrics",
		rows: query{"SELECT sc.course_id FROM figures_sitecourse sc WHERE sc.site_id = ? ORDER BY " + order, []any{rc.site.ID}},
		scan: func(rows *sql.Rows) (courseMauLiveItem, error) {
			var id string
			err := rows.Scan(&id)
			return courseMauLiveItem{MonthFor: today, Count: counts[id], CourseID: id, Domain: rc.site.Domain}, err
		},
		csvHeader: []string{"month_for", "count", "course_id", "domain"},
		csvRecord: func(m courseMauLiveItem) []string { return []string{m.MonthFor, csvInt(m.Count), m.CourseID, m.Domain} },
	})
}

// liveCourseList is the set-up of the unpaginated lists of every site
// course with its active learners this month (course-mau-live-metrics,
// course-monthly-metrics): the request's parameters, the ORDER BY of
// ?ordering=, and the live counts, read before the list's statement opens
// since no request holds two statements open at once.
func (s *Server) liveCourseList(r *http.Request, site Site) (*params, string, map[string]int64, error) {
	ctx := r.Context()
	p := newParams(r)
	order := p.orderBy(ordering{fields: map[string][]string{"course_id": {"sc.course_id"}}, tie: "sc.course_id"})
	if err := p.err(); err != nil {
		return nil, "", nil, err
	}
	ids, err := s.siteCourseIDs(ctx, site.ID)
	if err != nil {
		return nil, "", nil, err
	}
	live, err := s.liveCourseMAU(ctx, site, ids)
	if err != nil {
		return nil, "", nil, err
	}
	return p, order, live, nil
}

// siteMauLive answers site-mau-live-metrics/: one object (not a list).
func (s *Server) siteMauLive(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	n, err := s.liveSiteMAU(r.Context(), rc.site)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		MonthFor string `json:"month_for"`
		Count    int64  `json:"count"`
		Domain   string `json:"domain"`
	}{calendar.Of(s.now()).String(), n, rc.site.Domain})
}
