package api

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"strings"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// courseRow is a site course (figures_course, alias c).
type courseRow struct {
	id, name, org, number string
	start, end            database.NullTime
	selfPaced             bool
}

const courseCols = "c.course_id, c.display_name, c.org, c.number, c.start_date, c.end_date, c.self_paced"

func (c *courseRow) dest() []any {
	return []any{&c.id, &c.name, &c.org, &c.number, &c.start, &c.end, &c.selfPaced}
}

// siteCoursesFrom is the FROM clause of a site's courses: figures_sitecourse
// (sc) joined to figures_course (c).
const siteCoursesFrom = " FROM figures_sitecourse sc JOIN figures_course c ON c.course_id = sc.course_id"

// siteCourseByID selects one course of a site. Arguments: site id, course id.
const siteCourseByID = "SELECT " + courseCols + siteCoursesFrom + " WHERE sc.site_id = ? AND sc.course_id = ?"

// courseFilters applies the original's CourseOverviewFilter and the site.
func courseFilters(p *params, w *where, site Site) {
	w.add("sc.site_id = ?", site.ID)
	p.textFilters(w,
		textFilter{param: "display_name", col: "c.display_name"},
		textFilter{param: "org", col: "c.org", exact: true},
		textFilter{param: "number", col: "c.number", exact: true},
		textFilter{param: "number_contains", col: "c.number"})
}

var courseOrdering = ordering{
	fields: map[string][]string{
		"display_name": {"c.display_name"},
		"self_paced":   {"c.self_paced"},
		"start_date":   nullsFirst("c.start_date"),
		"course_id":    {"c.course_id"},
	},
	tie: "c.course_id",
}

// coursePath splits a course-keyed tree path: "" (the list), or a course
// id, possibly followed by one of actions ("<course id>/<action>").
func coursePath(r *http.Request, actions ...string) (courseID, action string, list bool, err error) {
	rest := strings.Trim(r.PathValue("rest"), "/")
	if rest == "" {
		return "", "", true, nil
	}
	if i := strings.LastIndex(rest, "/"); i > 0 {
		for _, a := range actions {
			if rest[i+1:] == a {
				rest, action = rest[:i], a
				break
			}
		}
	}
	id, perr := parseCourseID(rest)
	if perr != nil {
		return "", "", false, badRequest(perr.Error())
	}
	return id, action, false, nil
}

// siteCourse reads one course of the site; a course of another site, or
// none, is 404 (the original's choice: not 403, so that other sites'
// courses are not revealed).
func (s *Server) siteCourse(ctx context.Context, site Site, id string) (courseRow, error) {
	var c courseRow
	err := s.db.QueryRow(ctx, siteCourseByID, site.ID, id).Scan(c.dest()...)
	if err == sql.ErrNoRows {
		return c, errNotFound
	}
	return c, err
}

// serveCourseTree answers a course-keyed tree of the site's courses: a
// course id answers that course, the root the list, filtered, searched and
// ordered alike in every course endpoint. l holds what the endpoints
// differ in (name, pager, scan, expand, per-item CSV); csv, when not nil,
// builds the flat CSV export over the list's WHERE clause and ORDER BY.
func serveCourseTree[T any](s *Server, w http.ResponseWriter, r *http.Request, site Site, l list[T], csv func(wh where, order string) *flatCSV) {
	id, _, isList, err := coursePath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !isList {
		serveDetail(s, w, r, query{siteCourseByID, []any{site.ID, id}}, l.scan, l.expand)
		return
	}
	p := newParams(r)
	var wh where
	courseFilters(p, &wh, site)
	p.search(&wh, "c.display_name", "c.course_id")
	order := p.orderBy(courseOrdering)
	l.count = query{"SELECT COUNT(*)" + siteCoursesFrom + wh.sql(), wh.args}
	l.rows = query{"SELECT " + courseCols + siteCoursesFrom + wh.sql() + " ORDER BY " + order, wh.args}
	if csv != nil {
		l.csvFlat = csv(wh, order)
	}
	serveList(s, w, r, p, l)
}

// ---- courses-index ----

type courseIndexItem struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Org    string `json:"org"`
	Number string `json:"number"`
}

func scanCourseIndex(rows *sql.Rows) (courseIndexItem, error) {
	var c courseRow
	if err := rows.Scan(c.dest()...); err != nil {
		return courseIndexItem{}, err
	}
	return courseIndexItem{ID: c.id, Name: c.name, Org: c.org, Number: c.number}, nil
}

func (s *Server) coursesIndex(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveCourseTree(s, w, r, rc.site, list[courseIndexItem]{
		name:      "courses-index",
		pager:     limitOffset{20},
		scan:      scanCourseIndex,
		csvHeader: []string{"id", "name", "org", "number"},
		csvRecord: func(c courseIndexItem) []string { return []string{c.ID, c.Name, c.Org, c.Number} },
	}, nil)
}

// ---- courses-general ----

// staffMember is a course staff entry. The store records that an enrolled
// user holds the staff, instructor or CCX coach role on the course, not
// which, so role is "staff" for all three.
type staffMember struct {
	UserID   int64   `json:"user_id"`
	Username string  `json:"username"`
	Fullname *string `json:"fullname"`
	Role     string  `json:"role"`
}

// cdmItem is a serialized figures_coursedailymetrics row.
type cdmItem struct {
	ID                    int64   `json:"id"`
	AverageProgress       *string `json:"average_progress"`
	Created               string  `json:"created"`
	Modified              string  `json:"modified"`
	DateFor               string  `json:"date_for"`
	CourseID              string  `json:"course_id"`
	EnrollmentCount       int64   `json:"enrollment_count"`
	ActiveLearnersToday   int64   `json:"active_learners_today"`
	AverageDaysToComplete *int64  `json:"average_days_to_complete"`
	NumLearnersCompleted  int64   `json:"num_learners_completed"`
	Site                  int64   `json:"site"`
}

const cdmCols = "m.id, m.average_progress, m.created, m.modified, m.date_for, m.course_id, m.enrollment_count, m.active_learners_today, m.average_days_to_complete, m.num_learners_completed, m.site_id"

// cdmScan holds the nullable scan targets of cdmCols, for LEFT JOINs.
type cdmScan struct {
	id                          sql.NullInt64
	progress                    sql.NullFloat64
	created, modified           database.NullTime
	date                        nullDate
	courseID                    sql.NullString
	enrolled, active, completed sql.NullInt64
	days                        sql.NullInt64
	site                        sql.NullInt64
}

func (m *cdmScan) dest() []any {
	return []any{&m.id, &m.progress, &m.created, &m.modified, &m.date, &m.courseID, &m.enrolled, &m.active, &m.days, &m.completed, &m.site}
}

func (m *cdmScan) item() *cdmItem {
	if !m.id.Valid {
		return nil
	}
	return &cdmItem{
		ID: m.id.Int64, AverageProgress: decimalString(m.progress), Created: csvPtr(isoTimePtr(m.created), csvStr),
		Modified: csvPtr(isoTimePtr(m.modified), csvStr), DateFor: m.date.Date.String(), CourseID: m.courseID.String,
		EnrollmentCount: m.enrolled.Int64, ActiveLearnersToday: m.active.Int64, AverageDaysToComplete: intPtr(m.days),
		NumLearnersCompleted: m.completed.Int64, Site: m.site.Int64,
	}
}

func (m *cdmItem) csv() []string {
	if m == nil {
		return make([]string, 10)
	}
	return []string{csvInt(m.ID), csvPtr(m.AverageProgress, csvStr), m.Created, m.Modified, m.DateFor,
		csvInt(m.EnrollmentCount), csvInt(m.ActiveLearnersToday), csvPtr(m.AverageDaysToComplete, csvInt), csvInt(m.NumLearnersCompleted), csvInt(m.Site)}
}

var cdmCSVHeader = []string{"id", "average_progress", "created", "modified", "date_for", "enrollment_count", "active_learners_today", "average_days_to_complete", "num_learners_completed", "site"}

// courseHead is the course and its staff, with which the courses-general
// and courses-detail objects both begin; embedded, its fields come first
// in their JSON.
type courseHead struct {
	CourseID   string        `json:"course_id"`
	CourseName string        `json:"course_name"`
	CourseCode string        `json:"course_code"`
	Org        string        `json:"org"`
	StartDate  *string       `json:"start_date"`
	EndDate    *string       `json:"end_date"`
	SelfPaced  bool          `json:"self_paced"`
	Staff      []staffMember `json:"staff"`
}

func scanCourseHead(rows *sql.Rows) (courseHead, error) {
	var c courseRow
	if err := rows.Scan(c.dest()...); err != nil {
		return courseHead{}, err
	}
	return courseHead{CourseID: c.id, CourseName: c.name, CourseCode: c.number, Org: c.org,
		StartDate: isoTimePtr(c.start), EndDate: isoTimePtr(c.end), SelfPaced: c.selfPaced, Staff: []staffMember{}}, nil
}

type courseGeneral struct {
	courseHead
	Metrics *cdmItem `json:"metrics"`
}

func scanCourseGeneral(rows *sql.Rows) (*courseGeneral, error) {
	h, err := scanCourseHead(rows)
	if err != nil {
		return nil, err
	}
	return &courseGeneral{courseHead: h}, nil
}

// courseStaff reads the staff of courses: the enrolled users holding a
// course staff role.
func (s *Server) courseStaff(ctx context.Context, ids []string) (map[string][]staffMember, error) {
	out := map[string][]staffMember{}
	err := inBatches(ids, func(batch []any) error {
		rows, err := s.db.Query(ctx, `SELECT ce.course_id, l.user_id, l.username, l.fullname, l.has_profile
FROM figures_courseenrollment ce JOIN figures_learner l ON l.user_id = ce.user_id
WHERE ce.is_course_staff = ? AND ce.course_id IN (`+database.Placeholders(len(batch))+`) ORDER BY ce.course_id, l.username, l.user_id`,
			append([]any{true}, batch...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				cid, name  string
				m          staffMember
				hasProfile bool
			)
			if err := rows.Scan(&cid, &m.UserID, &m.Username, &name, &hasProfile); err != nil {
				return err
			}
			m.Fullname = profileName(name, hasProfile)
			m.Role = "staff"
			out[cid] = append(out[cid], m)
		}
		return rows.Err()
	})
	return out, err
}

// latestCDMJoin joins each site course (sc) to its newest daily metrics
// row in the site (m); one index seek per course on the unique
// (site_id, course_id, date_for) key.
const latestCDMJoin = ` LEFT JOIN figures_coursedailymetrics m ON m.site_id = sc.site_id AND m.course_id = sc.course_id
  AND m.date_for = (SELECT MAX(m2.date_for) FROM figures_coursedailymetrics m2 WHERE m2.site_id = sc.site_id AND m2.course_id = sc.course_id)`

// expandCourseGeneral fills staff and the newest daily metrics row of this
// site (the original took the newest row of any site).
func (s *Server) expandCourseGeneral(site Site) func(context.Context, []*courseGeneral) error {
	return func(ctx context.Context, cs []*courseGeneral) error {
		ids, byID := indexBy(cs, func(c *courseGeneral) string { return c.CourseID })
		staff, err := s.courseStaff(ctx, ids)
		if err != nil {
			return err
		}
		for id, st := range staff {
			byID[id].Staff = st
		}
		return inBatches(ids, func(batch []any) error {
			rows, err := s.db.Query(ctx, "SELECT "+cdmCols+" FROM figures_sitecourse sc"+latestCDMJoin+
				" WHERE sc.site_id = ? AND m.id IS NOT NULL AND sc.course_id IN ("+database.Placeholders(len(batch))+")",
				append([]any{site.ID}, batch...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var m cdmScan
				if err := rows.Scan(m.dest()...); err != nil {
					return err
				}
				if c := byID[m.courseID.String]; c != nil {
					c.Metrics = m.item()
				}
			}
			return rows.Err()
		})
	}
}

func courseCSV(c courseRow) []string {
	return []string{c.id, c.name, c.number, c.org, csvPtr(isoTimePtr(c.start), csvStr), csvPtr(isoTimePtr(c.end), csvStr), csvBool(c.selfPaced)}
}

var courseCSVHeader = []string{"course_id", "course_name", "course_code", "org", "start_date", "end_date", "self_paced"}

func (s *Server) coursesGeneral(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveCourseTree(s, w, r, rc.site, list[*courseGeneral]{
		name:   "courses-general",
		pager:  limitOffset{1000},
		scan:   scanCourseGeneral,
		expand: s.expandCourseGeneral(rc.site),
	}, func(wh where, order string) *flatCSV {
		return &flatCSV{
			q:      query{"SELECT " + courseCols + ", " + cdmCols + siteCoursesFrom + latestCDMJoin + wh.sql() + " ORDER BY " + order, wh.args},
			header: append(append([]string(nil), courseCSVHeader...), prefixed("metrics.", cdmCSVHeader)...),
			scan: func(rows *sql.Rows) ([]string, error) {
				var (
					c courseRow
					m cdmScan
				)
				if err := rows.Scan(append(c.dest(), m.dest()...)...); err != nil {
					return nil, err
				}
				return append(courseCSV(c), m.item().csv()...), nil
			},
		}
	})
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// ---- courses-detail ----

// courseDetail is the original's intended CourseDetailsSerializer (broken
// at its HEAD): the course, its staff, and four six-month series of its
// daily metrics.
type courseDetail struct {
	courseHead
	LearnersEnrolled      series `json:"learners_enrolled"`
	AverageProgress       series `json:"average_progress"`
	AverageDaysToComplete series `json:"average_days_to_complete"`
	UsersCompleted        series `json:"users_completed"`
}

func scanCourseDetail(rows *sql.Rows) (*courseDetail, error) {
	h, err := scanCourseHead(rows)
	if err != nil {
		return nil, err
	}
	return &courseDetail{courseHead: h}, nil
}

func (s *Server) expandCourseDetail(site Site) func(context.Context, []*courseDetail) error {
	return func(ctx context.Context, cs []*courseDetail) error {
		ids, _ := indexBy(cs, func(c *courseDetail) string { return c.CourseID })
		staff, err := s.courseStaff(ctx, ids)
		if err != nil {
			return err
		}
		months := lastMonths(calendar.Of(s.now()), historyMonths)
		aggs, err := s.courseMonths(ctx, site.ID, ids, months)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if st := staff[c.CourseID]; st != nil {
				c.Staff = st
			}
			a := aggs[c.CourseID]
			c.LearnersEnrolled = makeSeries(months, func(i int) any { return a[i].maxEnrolled })
			c.AverageProgress = makeSeries(months, func(i int) any { return a[i].avgProgress() })
			c.AverageDaysToComplete = makeSeries(months, func(i int) any { return a[i].avgDays() })
			c.UsersCompleted = makeSeries(months, func(i int) any { return a[i].maxCompleted })
		}
		return nil
	}
}

// monthAggJoin joins each site course (sc) to its daily metrics aggregated
// over a date range (a): maxima, and exact sums and counts for the
// averages (progress in hundredths). Arguments: site id, first day, last day.
const monthAggJoin = ` LEFT JOIN (SELECT course_id, MAX(enrollment_count) AS enrolled, MAX(num_learners_completed) AS completed,
  SUM(ROUND(average_progress * 100)) AS prog_sum, COUNT(average_progress) AS prog_n,
  SUM(average_days_to_complete) AS days_sum, COUNT(average_days_to_complete) AS days_n
  FROM figures_coursedailymetrics WHERE site_id = ? AND date_for >= ? AND date_for <= ? GROUP BY course_id) a ON a.course_id = sc.course_id`

const monthAggCols = "a.enrolled, a.completed, a.prog_sum, a.prog_n, a.days_sum, a.days_n"

// monthAggScan reads monthAggCols.
type monthAggScan struct {
	enrolled, completed, progN, daysSum, daysN sql.NullInt64
	progSum                                    sql.NullFloat64
}

func (m *monthAggScan) dest() []any {
	return []any{&m.enrolled, &m.completed, &m.progSum, &m.progN, &m.daysSum, &m.daysN}
}

func (m *monthAggScan) agg() cdmAgg {
	return cdmAgg{maxEnrolled: m.enrolled.Int64, maxCompleted: m.completed.Int64,
		progSum: int64(math.Round(m.progSum.Float64)), progN: m.progN.Int64, daysSum: m.daysSum.Int64, daysN: m.daysN.Int64}
}

func (s *Server) coursesDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveCourseTree(s, w, r, rc.site, list[*courseDetail]{
		name:   "courses-detail",
		pager:  limitOffset{1000},
		scan:   scanCourseDetail,
		expand: s.expandCourseDetail(rc.site),
	}, func(wh where, order string) *flatCSV {
		// One record per course with the current month's values of the
		// four series.
		month := calendar.Of(s.now()).MonthStart()
		return &flatCSV{
			q: query{"SELECT " + courseCols + ", " + monthAggCols + siteCoursesFrom + monthAggJoin + wh.sql() + " ORDER BY " + order,
				append([]any{rc.site.ID, month, month.MonthEnd()}, wh.args...)},
			header: append(append([]string(nil), courseCSVHeader...), "learners_enrolled", "average_progress", "average_days_to_complete", "users_completed"),
			scan: func(rows *sql.Rows) ([]string, error) {
				var (
					c courseRow
					m monthAggScan
				)
				if err := rows.Scan(append(c.dest(), m.dest()...)...); err != nil {
					return nil, err
				}
				a := m.agg()
				return append(courseCSV(c), csvInt(a.maxEnrolled), csvFloat(a.avgProgress()), csvInt(a.avgDays()), csvInt(a.maxCompleted)), nil
			},
		}
	})
}
