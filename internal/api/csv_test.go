package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
)

// TestCSV checks CSV exports: headers, records, nested lists flattened one
// record per item, and limit/offset when given.
func TestCSV(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		for _, tc := range []struct{ path, want string }{
			{"/figures/api/users-general/?format=csv&ordering=-username", `id,username,email,fullname,country,is_active,year_of_birth,gender,date_joined,level_of_education,course_id,course_display_name,course_org
14,"erin","erin@example.com","Erin Evans","US","true",,"o","2023-01-01","p","course-v1:AlphaX+A101+2023","Alpha Intro","AlphaX"
13,"dave","dave@example.com","Dave Diaz","FR","false",2000,"m","2023-11-05","hs","course-v1:AlphaX+A101+2023","Alpha Intro","AlphaX"
11,"bob","bob@example.org","Bob Brown",,"true",,,"2023-10-31",,"course-v1:AlphaX+A101+2023","Alpha Intro","AlphaX"
10,"alice","alice@example.com","Alice Archer","US","true",1990,"f","2023-06-15","b","course-v1:AlphaX+A101+2023","Alpha Intro","AlphaX"
10,"alice","alice@example.com","Alice Archer","US","true",1990,"f","2023-06-15","b","course-v1:AlphaX+A102+2023","Advanced Alpha & <Co>","AlphaX"
`},
			{"/figures/api/learner-metrics/?format=csv&name=i", `id,username,email,fullname,is_active,date_joined,enrollmentdata_id,course_id,date_enrolled,is_enrolled,is_completed,progress_percent,points_possible,points_earned,sections_worked,sections_possible,progress_estimate
10,"alice","alice@example.com","Alice Archer","true","2023-06-15T10:00:00Z",1,"course-v1:AlphaX+A101+2023","2023-06-20","true","true",1,10,8.5,4,4,
10,"alice","alice@example.com","Alice Archer","true","2023-06-15T10:00:00Z",2,"course-v1:AlphaX+A102+2023","2023-07-01","false","false",0.125,8,2,1,8,
13,"dave","dave@example.com","Dave Diaz","false","2023-11-05T00:00:00Z",5,"course-v1:AlphaX+A101+2023","2023-11-06","true","false",0.75,10,7,3,4,"cohort"
`},
			{"/figures/api/users-detail/?format=csv&user_ids=10,14", `id,username,name,email,country,is_active,year_of_birth,level_of_education,gender,date_joined,enrollment_id,course_id,course_name,course_code,date_enrolled,course_completed,course_progress,points_possible,points_earned,sections_worked,sections_possible
10,"alice","Alice Archer","alice@example.com","US","true",1990,"b","f","2023-06-15T10:00:00Z",100,"course-v1:AlphaX+A101+2023","Alpha Intro","A101","2023-06-20","2023-11-15T14:00:00Z",1,10,8.5,4,4
10,"alice","Alice Archer","alice@example.com","US","true",1990,"b","f","2023-06-15T10:00:00Z",101,"course-v1:AlphaX+A102+2023","Advanced Alpha & <Co>","A102","2023-07-01",,0.125,8,2,1,8
14,"erin","Erin Evans","erin@example.com","US","true",,"p","o","2023-01-01T00:00:00Z",106,"course-v1:AlphaX+A101+2023","Alpha Intro","A101","2023-01-02",,,,,,
`},
			{"/figures/api/enrollment-metrics/?format=csv&limit=2&offset=1", `id,user.id,user.username,user.fullname,course_id,date_for,completed,points_earned,points_possible,sections_worked,sections_possible,progress_percent,progress_estimate
7,10,"alice","Alice Archer","course-v1:AlphaX+A102+2023","2023-11-10","false",2,8,1,8,0.12,
2,10,"alice","Alice Archer","course-v1:AlphaX+A101+2023","2023-11-15","true",8.5,10,4,4,1.00,
`},
			{"/figures/api/courses-general/?format=csv", `course_id,course_name,course_code,org,start_date,end_date,self_paced,metrics.id,metrics.average_progress,metrics.created,metrics.modified,metrics.date_for,metrics.enrollment_count,metrics.active_learners_today,metrics.average_days_to_complete,metrics.num_learners_completed,metrics.site
"course-v1:AlphaX+A101+2023","Alpha Intro","A101","AlphaX","2023-01-10T09:00:00Z",,"false",3,0.35,"2023-11-16T02:00:12.345678Z","2023-11-16T02:00:00Z","2023-11-16",3,2,13,1,1
"course-v1:AlphaX+A102+2023","Advanced Alpha & <Co>","A102","AlphaX",,"2024-06-30T00:00:00Z","true",4,,"2023-11-16T02:00:12.345678Z","2023-11-16T02:00:00Z","2023-11-16",0,0,,0,1
`},
			{"/figures/api/courses-detail/?format=csv", `course_id,course_name,course_code,org,start_date,end_date,self_paced,learners_enrolled,average_progress,average_days_to_complete,users_completed
"course-v1:AlphaX+A101+2023","Alpha Intro","A101","AlphaX","2023-01-10T09:00:00Z",,"false",3,0.34,12,1
"course-v1:AlphaX+A102+2023","Advanced Alpha & <Co>","A102","AlphaX",,"2024-06-30T00:00:00Z","true",0,0,0,0
`},
			{"/figures/api/course-monthly-metrics/?format=csv", `course_id,month_for,active_users,course_enrollments,num_learners_completed,avg_days_to_complete,avg_progress
"course-v1:AlphaX+A101+2023","11/2023",3,3,1,12,0.34
"course-v1:AlphaX+A102+2023","11/2023",1,0,0,0,0
`},
			{"/figures/api/site-daily-metrics/?format=csv&date_before=2023-11-15", `id,site.id,site.domain,site.name,created,modified,date_for,cumulative_active_user_count,todays_active_user_count,total_user_count,course_count,total_enrollment_count,mau
2,1,"alpha.example.com","Alpha","2023-11-16T02:00:00Z","2023-11-16T02:00:00Z","2023-11-15",,,4,2,4,3
1,1,"alpha.example.com","Alpha","2023-11-16T02:00:00Z","2023-11-16T02:00:00Z","2023-10-31",5,1,3,2,3,2
`},
			{"/figures/api/site-mau-metrics/?format=csv", "mau,date_for,domain\n3,\"2023-11-16\",\"alpha.example.com\"\n3,\"2023-11-15\",\"alpha.example.com\"\n"},
			{"/figures/api/enrollment-metrics/completed_ids/?format=csv", "course_id,user_id\n\"course-v1:AlphaX+A101+2023\",10\n"},
		} {
			rec := e.do(t, e.tokAll, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("%s:\n got: %q\nwant: %q", tc.path, got, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", tc.path, ct)
			}
		}
		rec := e.do(t, e.tokAll, "/figures/api/user-index/?format=csv", nil)
		if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="user-index.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
	})
}

// loadLarge fills a store with one site of courses courses and learners
// learners, each enrolled (with progress data) in perLearner courses.
func loadLarge(t testing.TB, db *database.DB, courses, learners, perLearner int) {
	t.Helper()
	ctx := context.Background()
	now := db.Time(fixtureNow)
	exec(t, db, "INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (1, 'big.example.com', 'Big', '[\"BigX\"]', ?)", now)
	for c := range courses {
		id := fmt.Sprintf("course-v1:BigX+C%03d+2024", c)
		exec(t, db, "INSERT INTO figures_course (course_id, display_name, org, number, start_date, end_date, self_paced, first_enrollment, modified) VALUES (?, ?, 'BigX', ?, NULL, NULL, ?, NULL, ?)",
			id, fmt.Sprintf("Course %d", c), fmt.Sprintf("C%03d", c), false, now)
		exec(t, db, "INSERT INTO figures_sitecourse (site_id, course_id) VALUES (1, ?)", id)
	}
	const batch = 400
	insert := func(head string, ncols int, rows [][]any) {
		for i := 0; i < len(rows); i += batch {
			end := min(i+batch, len(rows))
			var args []any
			ph := make([]string, 0, end-i)
			for _, r := range rows[i:end] {
				ph = append(ph, "("+database.Placeholders(ncols)+")")
				args = append(args, r...)
			}
			if _, err := db.Exec(ctx, head+" VALUES "+strings.Join(ph, ", "), args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	var ls, ces, eds [][]any
	id := 0
	for u := range learners {
		uid := 1000 + u
		ls = append(ls, []any{uid, fmt.Sprintf("user%06d", u), fmt.Sprintf("user%06d@example.com", u), fmt.Sprintf("Learner %06d", (u*7919)%learners),
			true, false, false, db.Time(fixtureNow.AddDate(0, 0, -u%400)), "US", "", nil, "", "", true})
		for k := range perLearner {
			id++
			cid := fmt.Sprintf("course-v1:BigX+C%03d+2024", (u+k*7)%courses)
			ces = append(ces, []any{id, uid, cid, db.Time(fixtureNow.AddDate(0, 0, -k)), true, "audit", false})
			eds = append(eds, []any{id, now, now, 1, uid, cid, day("2023-11-16"), day("2023-11-01"), true, false, 0.5, 10.0, 5.0, 2, 4})
		}
	}
	insert(`INSERT INTO figures_learner (user_id, username, email, fullname, is_active, is_staff, is_superuser, date_joined, country, gender, year_of_birth, level_of_education, language, has_profile)`, 14, ls)
	insert(`INSERT INTO figures_courseenrollment (id, user_id, course_id, created, is_active, mode, is_course_staff)`, 7, ces)
	insert(`INSERT INTO figures_enrollmentdata (id, created, modified, site_id, user_id, course_id, date_for, date_enrolled, is_enrolled, is_completed,
progress_percent, points_possible, points_earned, sections_worked, sections_possible)`, 15, eds)
}

// probeWriter is a ResponseWriter that watches a CSV export leave: how
// many rows the server had read from the database when the first bytes
// were written, the largest single write, and what was written. The
// server writes from its sender goroutine while the handler reads rows,
// so the row count is atomic.
type probeWriter struct {
	header       http.Header
	code         int
	rowsRead     *atomic.Int64
	rowsAtFirst  int64
	writes       int
	maxWrite     int
	bytes        int
	newlines     int
	firstRecords bytes.Buffer
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(c int)   { p.code = c }
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.writes == 0 {
		p.rowsAtFirst = p.rowsRead.Load()
	}
	p.writes++
	p.bytes += len(b)
	p.maxWrite = max(p.maxWrite, len(b))
	p.newlines += bytes.Count(b, []byte("\n"))
	if p.firstRecords.Len() < 300 {
		p.firstRecords.Write(b[:min(len(b), 300)])
	}
	return len(b), nil
}

// TestCSVStreams exports 30,000 records and checks that the export is
// streamed: the first bytes leave long before the last row is read,
// writes are small, and the live heap (sampled on the reading goroutine,
// after a collection, every 500 rows) does not grow with the export.
func TestCSVStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("large fixture")
	}
	db := dbtest.SQLite(t, "big.db")
	if err := store.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	const learners, per = 10000, 3
	loadLarge(t, db, 20, learners, per)
	e := newEnvOver(t, db)
	var rows atomic.Int64
	var peakHeap uint64
	e.srv.rowHook = func() {
		if rows.Add(1)%500 == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
		}
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	w := &probeWriter{header: http.Header{}, rowsRead: &rows}
	req := httptest.NewRequest(http.MethodGet, "/figures/api/learner-metrics/?format=csv&ordering=profile__name", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokAll)
	e.srv.ServeHTTP(w, req)

	if w.code != 0 && w.code != http.StatusOK {
		t.Fatalf("status %d", w.code)
	}
	if n := rows.Load(); n != learners*per || w.newlines != learners*per+1 {
		t.Fatalf("read %d rows, wrote %d lines; want %d and %d", n, w.newlines, learners*per, learners*per+1)
	}
	if !strings.HasPrefix(w.firstRecords.String(), "id,username,email,fullname,is_active,date_joined,enrollmentdata_id,course_id,") ||
		!strings.Contains(w.firstRecords.String(), `,"Learner 000000",`) {
		t.Errorf("export starts %q", w.firstRecords.String())
	}
	if w.rowsAtFirst > learners*per/10 {
		t.Errorf("first bytes written after %d of %d rows were read: the export is not streamed", w.rowsAtFirst, learners*per)
	}
	if w.maxWrite > 8<<10 {
		t.Errorf("a single write of %d bytes: the export is buffered", w.maxWrite)
	}
	growth := int64(peakHeap) - int64(base)
	if w.bytes < 3<<20 || growth > int64(w.bytes)/3 {
		t.Errorf("exported %d bytes with the live heap growing by %d bytes: memory follows the export", w.bytes, growth)
	}
	t.Logf("exported %d bytes in %d writes; first bytes after %d rows; live heap growth %d bytes", w.bytes, w.writes, w.rowsAtFirst, growth)
}

// newEnvOver is an env over an already filled store, with a global token.
func newEnvOver(t testing.TB, db *database.DB) *env {
	t.Helper()
	e := &env{db: db, st: store.New(db)}
	var err error
	if e.tokAll, _, err = e.st.CreateAPIToken(context.Background(), "ops", nil, fixtureNow); err != nil {
		t.Fatal(err)
	}
	return e.withConfig(t, func(*Config) {})
}
