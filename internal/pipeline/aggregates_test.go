package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/store"
)

func ip(v int) *int         { return &v }
func fp(v float64) *float64 { return &v }

func courseDaily(t *testing.T, st *store.Store, d calendar.Date) map[string]store.CourseDaily {
	t.Helper()
	rows, err := st.CourseDailyOn(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.CourseDaily{}
	for _, r := range rows {
		out[r.CourseID+"@"+string(rune('0'+r.SiteID))] = r
	}
	return out
}

func eqInt(a, b *int) bool       { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqFloat(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func show(p any) any {
	switch v := p.(type) {
	case *int:
		if v != nil {
			return *v
		}
	case *float64:
		if v != nil {
			return *v
		}
	}
	return "NULL"
}

func TestCourseDailyMetrics(t *testing.T) { dbtest.EachBackend(t, testCourseDailyMetrics) }

func testCourseDailyMetrics(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	f.run(t, pipeline.Config{Workflow: pipeline.Next})
	got := courseDaily(t, f.store, day)
	want := []store.CourseDaily{
		// Enrollments: u1–u5 (u6 is staff, u7 unenrolled). Active: u1 at
		// 00:00:00, u2 at 23:59:59.999999, u6, u7 and u8 (no enrollment
		// filter); u3's 00:00:00 of the next day is not the day. Average
		// progress over the six enrollment data rows: (0.5+0.5)/6 = 0.1666…
		// rounded to 0.17.
		// Completions: u1 and u3 downloadable before the day ended (u2's
		// notpassing and u4's next-day certificate do not count); days to
		// complete (45 + 50) / 2 = 47.5, rounded half to even: 48.
		{SiteID: 1, CourseID: c1, DateFor: day, EnrollmentCount: 5, ActiveLearnersToday: 5,
			AverageProgress: fp(0.17), AverageDaysToComplete: ip(48), NumLearnersCompleted: 2},
		{SiteID: 1, CourseID: c2, DateFor: day, EnrollmentCount: 1, ActiveLearnersToday: 1, AverageProgress: fp(1)},
		// No enrollments: zero counts and NULL, not 0, for the averages.
		{SiteID: 1, CourseID: c3, DateFor: day},
		// No outline: its progress failed, its daily row did not.
		{SiteID: 1, CourseID: c4, DateFor: day, EnrollmentCount: 1, ActiveLearnersToday: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d course daily rows, want %d: %+v", len(got), len(want), got)
	}
	for _, w := range want {
		g, ok := got[w.CourseID+"@1"]
		if !ok {
			t.Errorf("%s: no row", w.CourseID)
			continue
		}
		if g.EnrollmentCount != w.EnrollmentCount || g.ActiveLearnersToday != w.ActiveLearnersToday ||
			g.NumLearnersCompleted != w.NumLearnersCompleted || !eqFloat(g.AverageProgress, w.AverageProgress) ||
			!eqInt(g.AverageDaysToComplete, w.AverageDaysToComplete) {
			t.Errorf("%s: got enrollments %d active %d completed %d progress %v days %v; want %d %d %d %v %v", w.CourseID,
				g.EnrollmentCount, g.ActiveLearnersToday, g.NumLearnersCompleted, show(g.AverageProgress), show(g.AverageDaysToComplete),
				w.EnrollmentCount, w.ActiveLearnersToday, w.NumLearnersCompleted, show(w.AverageProgress), show(w.AverageDaysToComplete))
		}
	}
}

func TestSiteDailyMetrics(t *testing.T) { dbtest.EachBackend(t, testSiteDailyMetrics) }

func testSiteDailyMetrics(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	f.run(t, pipeline.Config{Workflow: pipeline.Next})
	sd, err := f.store.SiteDailyOn(context.Background(), 1, day)
	if err != nil || sd == nil {
		t.Fatalf("site daily row: %v %v", sd, err)
	}
	// Users: all 8 joined before. Courses with a first enrollment: c1, c2,
	// c4. Active on the day across courses: u1, u2, u6, u7, u8. Enrollments:
	// 5 + 1 + 0 + 1.
	want := store.SiteDaily{SiteID: 1, DateFor: day, CumulativeActiveUserCount: ip(5), TodaysActiveUserCount: ip(5),
		TotalUserCount: 8, CourseCount: 3, TotalEnrollmentCount: 7, MAU: ip(5)}
	if sd.TotalUserCount != want.TotalUserCount || sd.CourseCount != want.CourseCount ||
		sd.TotalEnrollmentCount != want.TotalEnrollmentCount || !eqInt(sd.MAU, want.MAU) ||
		!eqInt(sd.TodaysActiveUserCount, want.TodaysActiveUserCount) || !eqInt(sd.CumulativeActiveUserCount, want.CumulativeActiveUserCount) {
		t.Errorf("got users %d courses %d enrollments %d mau %v today %v cumulative %v; want 8 3 7 5 5 5",
			sd.TotalUserCount, sd.CourseCount, sd.TotalEnrollmentCount, show(sd.MAU), show(sd.TodaysActiveUserCount), show(sd.CumulativeActiveUserCount))
	}
}

// A learner in two sites counts in each; a course no filter names belongs
// to no site and is reported.
func TestMultiSite(t *testing.T) { dbtest.EachBackend(t, testMultiSite) }

func testMultiSite(t *testing.T, b dbtest.Backend) {
	const (
		ca = "course-v1:OrgA+X+R"
		cb = "course-v1:OrgB+Y+R"
		cz = "course-v1:OrgZ+Z+R"
	)
	l := lmstest.NewOf(t, b.LMS)
	l.Site(1, "a.example.com", "OrgA")
	l.Site(2, "b.example.com", []string{"OrgB", "OrgC"})
	l.Course(ca, "OrgA", "A")
	l.Course(cb, "OrgB", "B")
	l.Course(cz, "OrgZ", "Z")
	l.User(1, "both", joined, "Both")
	l.User(2, "onlyb", joined, "")
	for _, c := range []string{ca, cb} {
		l.Enroll(1, c, enrolled, true)
		l.Module(1, c, key(c, "problem", "p"), 1.0, 1.0, At("2026-11-20 10:00:00"), At("2026-11-20 10:00:00"))
	}
	l.Enroll(2, cb, enrolled, true)
	f := newFixture(t, l, b)
	ctx := context.Background()
	for _, c := range []string{ca, cb} {
		o := outlines()[2]
		o.CourseID = c
		o.Chapters[0].Subsections[0].Blocks[0].UsageKey = key(c, "problem", "p")
		if _, err := f.store.SaveOutline(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	rep := f.run(t, pipeline.Config{})
	if len(rep.Unassigned) != 1 || rep.Unassigned[0] != cz {
		t.Errorf("unassigned: %v, want [%s]", rep.Unassigned, cz)
	}
	got := edRows(t, f.store)
	want := []edRow{
		{1, 1, ca, "2026-11-20", true, true, 1, 1, 1, 1, 1},
		{2, 1, cb, "2026-11-20", true, true, 1, 1, 1, 1, 1},
	}
	if len(got) != 2 || got[0].site != 1 || got[1].site != 2 || got[0].course != ca || got[1].course != cb {
		t.Fatalf("enrollment data: got %+v, want %+v", got, want)
	}
	for site, wantUsers := range map[int]int{1: 1, 2: 2} {
		sd, err := f.store.SiteDailyOn(ctx, site, day)
		if err != nil || sd == nil {
			t.Fatalf("site %d: %v %v", site, sd, err)
		}
		if sd.TotalUserCount != wantUsers || *sd.TodaysActiveUserCount != 1 || sd.CourseCount != 1 || *sd.MAU != 1 {
			t.Errorf("site %d: users %d active %d courses %d mau %d; want %d 1 1 1", site, sd.TotalUserCount,
				*sd.TodaysActiveUserCount, sd.CourseCount, *sd.MAU, wantUsers)
		}
	}
}

// Month-to-date counts restart with the month; a month's row counts the
// whole month.
func TestMonthBoundary(t *testing.T) { dbtest.EachBackend(t, testMonthBoundary) }

func testMonthBoundary(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	a := key(c2, "problem", "c")
	// u5 (not active on the 20th) joins c2 and is active at the last
	// instant of November; u3 at the first instant of December.
	f.lms.Enroll(5, c2, enrolled, true)
	f.lms.Enroll(3, c2, enrolled, true)
	f.lms.Module(5, c2, a, 1.0, 1.0, At("2026-11-30 23:59:59.999999"), At("2026-11-30 23:59:59.999999"))
	f.lms.Module(3, c2, a, 1.0, 1.0, At("2026-12-01 00:00:00"), At("2026-12-01 00:00:00"))
	later := func() time.Time { return At("2026-12-05 00:00:00") }
	for _, d := range []string{"2026-11-20", "2026-11-30", "2026-12-01"} {
		f.run(t, pipeline.Config{Date: calendar.MustParse(d), Now: later})
	}
	ctx := context.Background()
	for _, tc := range []struct {
		d   string
		mau int
	}{{"2026-11-20", 5}, {"2026-11-30", 6}, {"2026-12-01", 1}} {
		sd, err := f.store.SiteDailyOn(ctx, 1, calendar.MustParse(tc.d))
		if err != nil || sd == nil {
			t.Fatalf("%s: %v %v", tc.d, sd, err)
		}
		if *sd.MAU != tc.mau {
			t.Errorf("%s: mau %d, want %d", tc.d, *sd.MAU, tc.mau)
		}
	}
	var nov, dec int
	f.store.DB().QueryRow(ctx, `SELECT active_user_count FROM figures_sitemonthlymetrics WHERE month_for = '2026-11-01'`).Scan(&nov)
	f.store.DB().QueryRow(ctx, `SELECT active_user_count FROM figures_sitemonthlymetrics WHERE month_for = '2026-12-01'`).Scan(&dec)
	if nov != 6 || dec != 1 {
		t.Errorf("site monthly: November %d December %d, want 6 and 1", nov, dec)
	}
	var cum int
	f.store.DB().QueryRow(ctx, `SELECT cumulative_active_user_count FROM figures_sitedailymetrics WHERE date_for = '2026-12-01'`).Scan(&cum)
	if cum != 5+1+1 {
		t.Errorf("cumulative active users on December 1st: %d, want 7 (a running sum of daily counts)", cum)
	}
}

func TestResolveDate(t *testing.T) {
	n := At("2026-11-21 02:00:00")
	for _, tc := range []struct{ in, want string }{{"", "2026-11-20"}, {"2026-11-21", "2026-11-20"}, {"2026-11-01", "2026-11-01"}} {
		var d calendar.Date
		if tc.in != "" {
			d = calendar.MustParse(tc.in)
		}
		got, err := pipeline.ResolveDate(d, n)
		if err != nil || got.String() != tc.want {
			t.Errorf("ResolveDate(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := pipeline.ResolveDate(calendar.MustParse("2026-11-22"), n); err == nil {
		t.Error("a future date must be refused")
	}
}
