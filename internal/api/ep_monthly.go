package api

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	"github.com/figures-analytics/figures/internal/calendar"
)

// siteMetricNames are the site-monthly-metrics series, as paths and keys.
var siteMetricNames = []string{"registered_users", "new_users", "course_completions", "course_enrollments", "site_courses", "active_users"}

// siteSeries computes the site series named metric over months.
func (s *Server) siteSeries(ctx context.Context, site Site, metric string, months []calendar.Date) (series, error) {
	var vals []int64
	switch metric {
	case "registered_users", "site_courses", "course_enrollments":
		sm, err := s.siteMonths(ctx, site.ID, months)
		if err != nil {
			return series{}, err
		}
		vals = make([]int64, len(months))
		for i, m := range sm {
			switch metric {
			case "registered_users":
				vals[i] = m.registered
			case "site_courses":
				vals[i] = m.courses
			default:
				vals[i] = m.enrollments
			}
		}
	case "new_users":
		vals = make([]int64, len(months))
		for i, m := range months {
			n, err := s.newUsers(ctx, site, m)
			if err != nil {
				return series{}, err
			}
			vals[i] = n
		}
	case "course_completions":
		vals = make([]int64, len(months))
		for i, m := range months {
			n, err := s.completions(ctx, site.ID, m.MonthEnd())
			if err != nil {
				return series{}, err
			}
			vals[i] = n
		}
	case "active_users":
		var err error
		if vals, err = s.siteMAUHistory(ctx, site, months); err != nil {
			return series{}, err
		}
	default:
		return series{}, errNotFound
	}
	return makeSeries(months, func(i int) any { return vals[i] }), nil
}

// siteMonthlyCurrent answers GET site-monthly-metrics/: the six site
// metrics of the current month.
func (s *Server) siteMonthlyCurrent(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	months := lastMonths(calendar.Of(s.now()), 1)
	out := map[string]int64{}
	for _, name := range siteMetricNames {
		sr, err := s.siteSeries(ctx, rc.site, name, months)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out[name] = sr.CurrentMonth.(int64)
	}
	writeJSON(w, http.StatusOK, struct {
		ActiveUsers       int64 `json:"active_users"`
		RegisteredUsers   int64 `json:"registered_users"`
		NewUsers          int64 `json:"new_users"`
		SiteCourses       int64 `json:"site_courses"`
		CourseEnrollments int64 `json:"course_enrollments"`
		CourseCompletions int64 `json:"course_completions"`
	}{out["active_users"], out["registered_users"], out["new_users"], out["site_courses"], out["course_enrollments"], out["course_completions"]})
}

// siteMonthlySeries answers GET site-monthly-metrics/<metric>/: that
// metric's six-month series, {"<metric>": series}. Every series has six
// months, active users too (the original's had one to seven).
func (s *Server) siteMonthlySeries(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	metric := r.PathValue("metric")
	sr, err := s.siteSeries(r.Context(), rc.site, metric, lastMonths(calendar.Of(s.now()), historyMonths))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]series{metric: sr})
}

// generalSiteMetrics answers the deprecated GET general-site-metrics: five
// series ending with the month of ?date_for= (default today).
func (s *Server) generalSiteMetrics(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	d := calendar.Of(s.now())
	if v, ok := p.date("date_for"); ok {
		d = v
	}
	if err := p.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	months := lastMonths(d, historyMonths)
	out := struct {
		MonthlyActiveUsers     series `json:"monthly_active_users"`
		TotalSiteUsers         series `json:"total_site_users"`
		TotalSiteCourses       series `json:"total_site_courses"`
		TotalCourseEnrollments series `json:"total_course_enrollments"`
		TotalCourseCompletions series `json:"total_course_completions"`
	}{}
	for _, x := range []struct {
		dst    *series
		metric string
	}{
		{&out.MonthlyActiveUsers, "active_users"}, {&out.TotalSiteUsers, "registered_users"}, {&out.TotalSiteCourses, "site_courses"},
		{&out.TotalCourseEnrollments, "course_enrollments"}, {&out.TotalCourseCompletions, "course_completions"},
	} {
		sr, err := s.siteSeries(r.Context(), rc.site, x.metric, months)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		*x.dst = sr
	}
	writeJSON(w, http.StatusOK, out)
}

// ---- course-monthly-metrics ----

// courseMetricNames are the course-monthly-metrics/<course>/ actions.
var courseMetricNames = []string{"active_users", "course_enrollments", "num_learners_completed", "avg_days_to_complete", "avg_progress"}

type courseMonthItem struct {
	CourseID             string  `json:"course_id"`
	MonthFor             string  `json:"month_for"`
	ActiveUsers          int64   `json:"active_users"`
	CourseEnrollments    int64   `json:"course_enrollments"`
	NumLearnersCompleted int64   `json:"num_learners_completed"`
	AvgDaysToComplete    int64   `json:"avg_days_to_complete"`
	AvgProgress          float64 `json:"avg_progress"`
}

// monthFor formats a month as the original's course metrics do: M/YYYY,
// the month not zero-padded.
func monthFor(m calendar.Date) string { return fmt.Sprintf("%d/%d", int(m.Month), m.Year) }

func courseMonthOf(id string, m calendar.Date, a cdmAgg, active int64) courseMonthItem {
	return courseMonthItem{CourseID: id, MonthFor: monthFor(m), ActiveUsers: active, CourseEnrollments: a.maxEnrolled,
		NumLearnersCompleted: a.maxCompleted, AvgDaysToComplete: a.avgDays(), AvgProgress: a.avgProgress()}
}

func (s *Server) courseMonthly(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	id, action, isList, err := coursePath(r, courseMetricNames...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month := calendar.Of(s.now()).MonthStart()
	if isList {
		s.courseMonthlyList(w, r, rc, month)
		return
	}
	if _, err := s.siteCourse(ctx, rc.site, id); err != nil {
		s.fail(w, r, err)
		return
	}
	if action == "" {
		aggs, err := s.courseMonths(ctx, rc.site.ID, []string{id}, []calendar.Date{month})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		live, err := s.liveCourseMAU(ctx, rc.site, []string{id})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, courseMonthOf(id, month, aggs[id][0], live[id]))
		return
	}
	months := lastMonths(month, historyMonths)
	var sr series
	if action == "active_users" {
		vals, err := s.courseMAUHistory(ctx, rc.site, id, months)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sr = makeSeries(months, func(i int) any { return vals[i] })
	} else {
		aggs, err := s.courseMonths(ctx, rc.site.ID, []string{id}, months)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a := aggs[id]
		sr = makeSeries(months, func(i int) any {
			switch action {
			case "course_enrollments":
				return a[i].maxEnrolled
			case "num_learners_completed":
				return a[i].maxCompleted
			case "avg_days_to_complete":
				return a[i].avgDays()
			default:
				return a[i].avgProgress()
			}
		})
	}
	writeJSON(w, http.StatusOK, map[string]series{action: sr})
}

// courseMonthlyList answers GET course-monthly-metrics/: every site course's
// current month, as an unpaginated array (as the original).
func (s *Server) courseMonthlyList(w http.ResponseWriter, r *http.Request, rc *reqCtx, month calendar.Date) {
	p, order, live, err := s.liveCourseList(r, rc.site)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveList(s, w, r, p, list[courseMonthItem]{
		name: "course-monthly-metrics",
		rows: query{"SELECT sc.course_id, " + monthAggCols + " FROM figures_sitecourse sc" + monthAggJoin + " WHERE sc.site_id = ? ORDER BY " + order,
			[]any{rc.site.ID, month, month.MonthEnd(), rc.site.ID}},
		scan: func(rows *sql.Rows) (courseMonthItem, error) {
			var (
				id string
				m  monthAggScan
			)
			if err := rows.Scan(append([]any{&id}, m.dest()...)...); err != nil {
				return courseMonthItem{}, err
			}
			return courseMonthOf(id, month, m.agg(), live[id]), nil
		},
		csvHeader: []string{"course_id", "month_for", "active_users", "course_enrollments", "num_learners_completed", "avg_days_to_complete", "avg_progress"},
		csvRecord: func(c courseMonthItem) []string {
			return []string{c.CourseID, c.MonthFor, csvInt(c.ActiveUsers), csvInt(c.CourseEnrollments), csvInt(c.NumLearnersCompleted),
				csvInt(c.AvgDaysToComplete), csvFloat(c.AvgProgress)}
		},
	})
}
