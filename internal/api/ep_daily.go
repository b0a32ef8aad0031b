package api

import (
	"database/sql"
	"net/http"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
)

// dateFilters applies ?date_for= and the ?date_ range to a date column.
func dateFilters(p *params, w *where, col string) {
	if d, ok := p.date("date_for"); ok {
		w.add(col+" = ?", d)
	}
	from, to := p.dateRange("date")
	if !from.IsZero() {
		w.add(col+" >= ?", from)
	}
	if !to.IsZero() {
		w.add(col+" <= ?", to)
	}
}

// siteSnapshotWhere restricts a table of a site's dated snapshots (alias
// a) to the site and by ?date_for= and the ?date_ range: the filters every
// daily and MAU metrics list shares.
func siteSnapshotWhere(p *params, site Site, a string) where {
	var wh where
	wh.add(a+".site_id = ?", site.ID)
	dateFilters(p, &wh, a+".date_for")
	return wh
}

// courseSnapshotWhere is siteSnapshotWhere for per-course snapshots (alias
// m), with ?course_id=.
func courseSnapshotWhere(p *params, site Site) where {
	wh := siteSnapshotWhere(p, site, "m")
	if c, ok := p.courseID("course_id"); ok {
		wh.add("m.course_id = ?", c)
	}
	return wh
}

// ---- course-daily-metrics ----

func scanCDM(rows *sql.Rows) (*cdmItem, error) {
	var m cdmScan
	if err := rows.Scan(m.dest()...); err != nil {
		return nil, err
	}
	return m.item(), nil
}

func (s *Server) courseDailyList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	wh := courseSnapshotWhere(p, rc.site)
	order := p.orderBy(ordering{
		fields: map[string][]string{"date_for": {"m.date_for"}, "course_id": {"m.course_id"}, "id": {"m.id"}},
		def:    "m.date_for DESC, m.course_id",
		tie:    "m.id",
	})
	serveList(s, w, r, p, list[*cdmItem]{
		name:      "course-daily-metrics",
		pager:     limitOffset{20},
		count:     query{"SELECT COUNT(*) FROM figures_coursedailymetrics m" + wh.sql(), wh.args},
		rows:      query{"SELECT " + cdmCols + " FROM figures_coursedailymetrics m" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:      scanCDM,
		csvHeader: append([]string{"course_id"}, cdmCSVHeader...),
		csvRecord: func(m *cdmItem) []string { return append([]string{m.CourseID}, m.csv()...) },
	})
}

func (s *Server) courseDailyDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT "+cdmCols+" FROM figures_coursedailymetrics m WHERE m.id = ? AND m.site_id = ?", scanCDM, rc.site.ID)
}

// ---- site-daily-metrics ----

type sdmItem struct {
	ID                        int64  `json:"id"`
	Site                      Site   `json:"site"`
	Created                   string `json:"created"`
	Modified                  string `json:"modified"`
	DateFor                   string `json:"date_for"`
	CumulativeActiveUserCount *int64 `json:"cumulative_active_user_count"`
	TodaysActiveUserCount     *int64 `json:"todays_active_user_count"`
	TotalUserCount            int64  `json:"total_user_count"`
	CourseCount               int64  `json:"course_count"`
	TotalEnrollmentCount      int64  `json:"total_enrollment_count"`
	MAU                       *int64 `json:"mau"`
}

const sdmCols = "d.id, d.created, d.modified, d.date_for, d.cumulative_active_user_count, d.todays_active_user_count, d.total_user_count, d.course_count, d.total_enrollment_count, d.mau"

func scanSDM(site Site) func(*sql.Rows) (sdmItem, error) {
	return func(rows *sql.Rows) (sdmItem, error) {
		var (
			m                 sdmItem
			created, modified database.NullTime
			date              calendar.Date
			cum, today, mau   sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &created, &modified, &date, &cum, &today, &m.TotalUserCount, &m.CourseCount, &m.TotalEnrollmentCount, &mau); err != nil {
			return m, err
		}
		m.Site = Site{ID: site.ID, Domain: site.Domain, Name: site.Name}
		m.Created, m.Modified = csvPtr(isoTimePtr(created), csvStr), csvPtr(isoTimePtr(modified), csvStr)
		m.DateFor = date.String()
		m.CumulativeActiveUserCount, m.TodaysActiveUserCount, m.MAU = intPtr(cum), intPtr(today), intPtr(mau)
		return m, nil
	}
}

func (s *Server) siteDailyList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := newParams(r)
	wh := siteSnapshotWhere(p, rc.site, "d")
	order := p.orderBy(ordering{fields: map[string][]string{"date_for": {"d.date_for"}, "id": {"d.id"}}, def: "d.date_for DESC", tie: "d.id"})
	serveList(s, w, r, p, list[sdmItem]{
		name:  "site-daily-metrics",
		pager: limitOffset{20},
		count: query{"SELECT COUNT(*) FROM figures_sitedailymetrics d" + wh.sql(), wh.args},
		rows:  query{"SELECT " + sdmCols + " FROM figures_sitedailymetrics d" + wh.sql() + " ORDER BY " + order, wh.args},
		scan:  scanSDM(rc.site),
		csvHeader: []string{"id", "site.id", "site.domain", "site.name", "created", "modified", "date_for", "cumulative_active_user_count",
			"todays_active_user_count", "total_user_count", "course_count", "total_enrollment_count", "mau"},
		csvRecord: func(m sdmItem) []string {
			return []string{csvInt(m.ID), csvInt(int64(m.Site.ID)), m.Site.Domain, m.Site.Name, m.Created, m.Modified, m.DateFor,
				csvPtr(m.CumulativeActiveUserCount, csvInt), csvPtr(m.TodaysActiveUserCount, csvInt), csvInt(m.TotalUserCount),
				csvInt(m.CourseCount), csvInt(m.TotalEnrollmentCount), csvPtr(m.MAU, csvInt)}
		},
	})
}

func (s *Server) siteDailyDetail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	serveByID(s, w, r, "SELECT "+sdmCols+" FROM figures_sitedailymetrics d WHERE d.id = ? AND d.site_id = ?", scanSDM(rc.site), rc.site.ID)
}
