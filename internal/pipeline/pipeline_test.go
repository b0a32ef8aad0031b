package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

const (
	c1 = "course-v1:Org+C1+R"
	c2 = "course-v1:Org+C2+R"
	c3 = "course-v1:Org+C3+R" // no enrollments
	c4 = "course-v1:Org+C4+R" // no outline
)

func key(c, typ, id string) string {
	k, _ := course.ParseKey(c)
	return k.UsageKey(typ, id)
}

func wt(v float64) *float64 { return &v }

// outlines: c1 has s1 {a: 2 points} and s2 {b: weight 1, raw 3}; c2 has
// s3 {c: 1 point}; c3 has s4 {d: 1 point}.
func outlines() []*course.Outline {
	mk := func(c string, subs ...course.Subsection) *course.Outline {
		o := &course.Outline{CourseID: c, Chapters: []course.Chapter{{UsageKey: key(c, "chapter", "ch"), Subsections: subs}}}
		o.ComputeVersion()
		return o
	}
	sub := func(c, id string, blocks ...course.Block) course.Subsection {
		return course.Subsection{UsageKey: key(c, "sequential", id), Blocks: blocks}
	}
	return []*course.Outline{
		mk(c1, sub(c1, "s1", course.Block{UsageKey: key(c1, "problem", "a"), Type: "problem", RawPossible: 2}),
			sub(c1, "s2", course.Block{UsageKey: key(c1, "problem", "b"), Type: "problem", RawPossible: 3, Weight: wt(1)})),
		mk(c2, sub(c2, "s3", course.Block{UsageKey: key(c2, "problem", "c"), Type: "problem", RawPossible: 1})),
		mk(c3, sub(c3, "s4", course.Block{UsageKey: key(c3, "problem", "d"), Type: "problem", RawPossible: 1})),
	}
}

var (
	day      = calendar.MustParse("2026-11-20")
	now      = At("2026-11-21 02:00:00")
	joined   = At("2026-01-01 10:00:00")
	enrolled = At("2026-10-01 09:00:00")
)

type fixture struct {
	lms   *LMS
	store *store.Store
	// url is the LMS's URL.
	url string
	// backend says which databases the LMS and the store are in.
	backend dbtest.Backend
}

// standalone builds a one-site LMS:
//
//	u1  c1: a 2/2 modified at 00:00:00 on the day (persisted: s1 2/2, course grade)
//	u2  c1: a 1/2 modified at 23:59:59.999999 on the day (persisted: s1 1/2, no course grade)
//	u3  c1: a 2/2 created at 23:00 on the day, modified at 00:00:00 the next
//	    day (selected by next, not active on the day)
//	u4  c1: b 3/3 the day before (not active)
//	u5  c1: a created on the day, modified the next day (selected by next, not active)
//	u6  c1: course staff, enrolled and active on the day
//	u7  c1: unenrolled (is_active 0), active on the day
//	u8  c1: active on the day without an enrollment
//	u1  c2: c 1/1 on the day; u1 c4: active on the day (c4 has no outline)
//	c3: no enrollments
//	certificates in c1: u1 downloadable 45 days after enrolling, u3
//	downloadable on the day at 23:00 (50 days), u2 notpassing, u4
//	downloadable the next day
func standalone(t *testing.T, b dbtest.Backend) *fixture {
	l := lmstest.NewOf(t, b.LMS)
	l.Site(1, "lms.example.com", nil)
	for _, c := range []string{c1, c2, c3, c4} {
		l.Course(c, "Org", c)
	}
	for u := 1; u <= 8; u++ {
		l.User(u, "user"+string(rune('0'+u)), joined, "User "+string(rune('0'+u)))
	}
	for u := 1; u <= 7; u++ {
		l.Enroll(u, c1, enrolled, u != 7)
	}
	l.Enroll(1, c2, enrolled, true)
	l.Enroll(1, c4, enrolled, true)
	l.Role(6, "Org", c1, "staff")
	pa, pb := key(c1, "problem", "a"), key(c1, "problem", "b")
	l.Module(1, c1, pa, 2.0, 2.0, At("2026-11-19 08:00:00"), At("2026-11-20 00:00:00"))
	l.Module(2, c1, pa, 1.0, 2.0, At("2026-11-20 10:00:00"), At("2026-11-20 23:59:59.999999"))
	l.Module(3, c1, pa, 2.0, 2.0, At("2026-11-20 23:00:00"), At("2026-11-21 00:00:00"))
	l.Module(4, c1, pb, 3.0, 3.0, At("2026-11-19 10:00:00"), At("2026-11-19 10:05:00"))
	l.Module(5, c1, pa, nil, nil, At("2026-11-20 12:00:00"), At("2026-11-21 01:00:00"))
	l.Module(6, c1, pa, 0.0, 2.0, At("2026-11-20 12:00:00"), At("2026-11-20 12:00:00"))
	l.Module(7, c1, pb, 1.5, 3.0, At("2026-11-20 13:00:00"), At("2026-11-20 13:00:00"))
	l.Module(8, c1, pa, 1.0, 2.0, At("2026-11-20 14:00:00"), At("2026-11-20 14:00:00"))
	l.Module(1, c2, key(c2, "problem", "c"), 1.0, 1.0, At("2026-11-20 09:00:00"), At("2026-11-20 09:00:00"))
	l.Module(1, c4, key(c4, "problem", "x"), 1.0, 1.0, At("2026-11-20 09:00:00"), At("2026-11-20 09:00:00"))
	s1 := key(c1, "sequential", "s1")
	l.CourseGrade(1, c1, 0.5, At("2026-11-20 00:01:00"))
	l.SubsectionGrade(1, c1, s1, 2, 2, At("2026-11-20 00:01:00"))
	l.SubsectionGrade(2, c1, s1, 1, 2, At("2026-11-20 23:59:59"))
	l.CourseGrade(7, c1, 0.25, At("2026-11-20 13:01:00"))
	l.SubsectionGrade(7, c1, key(c1, "sequential", "s2"), 0.5, 1, At("2026-11-20 13:01:00"))
	l.CourseGrade(1, c2, 1, At("2026-11-20 09:01:00"))
	l.SubsectionGrade(1, c2, key(c2, "sequential", "s3"), 1, 1, At("2026-11-20 09:01:00"))
	l.Certificate(1, c1, "downloadable", At("2026-11-15 10:00:00"))
	l.Certificate(3, c1, "downloadable", At("2026-11-20 23:00:00"))
	l.Certificate(2, c1, "notpassing", At("2026-11-10 10:00:00"))
	l.Certificate(4, c1, "downloadable", At("2026-11-21 00:00:00"))
	return newFixture(t, l, b)
}

// newFixture returns a fixture reading l into a new store of b's kind
// holding outlines().
func newFixture(t *testing.T, l *LMS, b dbtest.Backend) *fixture {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.URL(t, b.Store))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, o := range outlines() {
		if _, err := st.SaveOutline(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{lms: l, store: st, url: l.URL, backend: b}
}

func (f *fixture) run(t *testing.T, cfg pipeline.Config) *pipeline.Report {
	t.Helper()
	ctx := context.Background()
	r, err := lms.Open(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	if cfg.Date.IsZero() && cfg.Workflow != pipeline.Incremental {
		cfg.Date = day
	}
	if cfg.Log == nil {
		cfg.Log = quiet
	}
	rep, err := pipeline.Run(ctx, r, f.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type edRow struct {
	site, user int
	course     string
	date       string
	enrolled   bool
	completed  bool
	pct        float64
	possible   float64
	earned     float64
	worked     int
	sections   int
}

func edRows(t *testing.T, st *store.Store) []edRow {
	t.Helper()
	eds, err := st.EnrollmentDataFor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []edRow
	for _, e := range eds {
		out = append(out, edRow{e.SiteID, e.UserID, e.CourseID, e.DateFor.String(), e.IsEnrolled, e.IsCompleted,
			e.ProgressPercent, e.PointsPossible, e.PointsEarned, e.SectionsWorked, e.SectionsPossible})
	}
	return out
}

func TestNextPersisted(t *testing.T) { dbtest.EachBackend(t, testNextPersisted) }

func testNextPersisted(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.Persisted})
	// c1: u1, u2, u3, u5, u6, u7 selected (u8 has no enrollment, u4 no
	// row created or modified on the day); c2: u1; c4: u1 fails for want
	// of an outline.
	want := []edRow{
		{1, 1, c1, "2026-11-20", true, false, 0.5, 3, 2, 1, 2},
		{1, 2, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2}, // no course grade: all zero
		{1, 3, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2},
		{1, 5, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2},
		{1, 6, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2},
		{1, 7, c1, "2026-11-20", false, false, 0.5, 3, 0.5, 1, 2},
		{1, 1, c2, "2026-11-20", true, true, 1, 1, 1, 1, 1},
	}
	got := edRows(t, f.store)
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if rep.EnrollmentsExamined != 8 || rep.EnrollmentsUpdated != 7 || rep.Errors != 1 {
		t.Errorf("report: examined %d updated %d errors %d, want 8 7 1", rep.EnrollmentsExamined, rep.EnrollmentsUpdated, rep.Errors)
	}
	errs, err := f.store.ErrorsOfRun(context.Background(), rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].CourseID != c4 || errs[0].ErrorType != store.ErrorCourse {
		t.Errorf("pipeline errors: %+v, want one COURSE error for %s", errs, c4)
	}
}

func TestNextStudentModule(t *testing.T) { dbtest.EachBackend(t, testNextStudentModule) }

func testNextStudentModule(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.StudentModule})
	want := []edRow{
		{1, 1, c1, "2026-11-20", true, false, 0.5, 3, 2, 1, 2},
		{1, 2, c1, "2026-11-20", true, false, 0.5, 3, 1, 1, 2},
		{1, 3, c1, "2026-11-20", true, false, 0.5, 3, 2, 1, 2},
		{1, 5, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2}, // viewed, not answered
		{1, 6, c1, "2026-11-20", true, false, 0, 3, 0, 0, 2}, // answered wrong
		{1, 7, c1, "2026-11-20", false, false, 0.5, 3, 0.5, 1, 2},
		{1, 1, c2, "2026-11-20", true, true, 1, 1, 1, 1, 1},
	}
	got := edRows(t, f.store)
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRerunIsIdempotent(t *testing.T) { dbtest.EachBackend(t, testRerunIsIdempotent) }

func testRerunIsIdempotent(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	cfg := pipeline.Config{Workflow: pipeline.Next}
	f.run(t, cfg)
	first := snapshot(t, f.store)
	f.run(t, cfg)
	if second := snapshot(t, f.store); second != first {
		t.Errorf("re-running the day changed the store:\nfirst  %s\nsecond %s", first, second)
	}
}

// snapshot renders every metric table without id, created, modified and
// collect_elapsed: what a re-run may change.
func snapshot(t *testing.T, st *store.Store) string {
	t.Helper()
	out := ""
	for _, q := range []string{
		`SELECT site_id, user_id, course_id, date_for, date_enrolled, is_enrolled, is_completed, progress_percent, points_possible, points_earned, sections_worked, sections_possible FROM figures_enrollmentdata ORDER BY 1, 2, 3`,
		`SELECT site_id, user_id, course_id, date_for, points_possible, points_earned, sections_worked, sections_possible FROM figures_learnercoursegrademetrics ORDER BY 1, 2, 3, 4`,
		`SELECT site_id, course_id, date_for, enrollment_count, active_learners_today, average_progress, average_days_to_complete, num_learners_completed FROM figures_coursedailymetrics ORDER BY 1, 2, 3`,
		`SELECT site_id, date_for, cumulative_active_user_count, todays_active_user_count, total_user_count, course_count, total_enrollment_count, mau FROM figures_sitedailymetrics ORDER BY 1, 2`,
		`SELECT site_id, course_id, user_id, month_for, first_active FROM figures_monthlyactiveenrollment ORDER BY 1, 2, 3, 4`,
		`SELECT site_id, month_for, active_user_count FROM figures_sitemonthlymetrics ORDER BY 1, 2`,
		`SELECT site_id, course_id, date_for, mau FROM figures_coursemaumetrics ORDER BY 1, 2, 3`,
		`SELECT site_id, date_for, mau FROM figures_sitemaumetrics ORDER BY 1, 2`,
	} {
		out += dbtest.Dump(t, st.DB(), q)
		out += "--\n"
	}
	return out
}
