package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
)

// Legacy examines every enrollment and recomputes those whose newest
// StudentModule day is after their latest snapshot — which includes u3
// (next day) and u4 (the day before), not only the day's activity.
func TestLegacy(t *testing.T) { dbtest.EachBackend(t, testLegacy) }

func testLegacy(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Legacy, Grades: progress.StudentModule})
	// c1 has 7 enrollments, c2 one: 8 examined, all with rows, all
	// recomputed; c4 fails before its enrollments (no outline).
	if rep.EnrollmentsExamined != 8 || rep.EnrollmentsUpdated != 8 || rep.Errors != 1 {
		t.Errorf("examined %d updated %d errors %d, want 8, 8 and 1", rep.EnrollmentsExamined, rep.EnrollmentsUpdated, rep.Errors)
	}
	reasons := map[int]string{}
	for _, tc := range rep.Touched {
		if tc.CourseID == c1 {
			reasons[tc.UserID] = tc.Reason
		}
	}
	if !strings.Contains(reasons[4], "2026-11-19") || !strings.Contains(reasons[3], "2026-11-21") {
		t.Errorf("reasons: %v", reasons)
	}
	// A second legacy run for the same day finds every snapshot current
	// except those whose newest activity is after the day.
	rep = f.run(t, pipeline.Config{Workflow: pipeline.Legacy, Grades: progress.StudentModule})
	var again []int
	for _, tc := range rep.Touched {
		again = append(again, tc.UserID)
	}
	if len(again) != 2 || again[0] != 3 || again[1] != 5 {
		t.Errorf("second run recomputed users %v, want [3 5] (activity on the next day)", again)
	}
}

// compare finds legacy and next identical on every enrollment next
// updates, and lists what only legacy touched.
func TestCompare(t *testing.T) {
	dbtest.EachBackend(t, func(t *testing.T, b dbtest.Backend) {
		f := standalone(t, b)
		for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
			t.Run(string(src), func(t *testing.T) { testCompare(t, f, src) })
		}
	})
}

func testCompare(t *testing.T, f *fixture, src progress.Source) {
	ctx := context.Background()
	r, err := lms.Open(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before := snapshot(t, f.store)
	cmp, err := pipeline.Compare(ctx, r, f.store, pipeline.Config{Grades: src, Log: quiet,
		Now: func() time.Time { return now }}, day, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Identical() {
		t.Errorf("differences: %+v", cmp.Differences)
	}
	if cmp.Compared != 7 {
		t.Errorf("compared %d rows, want 7", cmp.Compared)
	}
	if len(cmp.LegacyOnly) != 1 || cmp.LegacyOnly[0].UserID != 4 {
		t.Errorf("legacy only: %+v, want u4", cmp.LegacyOnly)
	}
	if cmp.Legacy.LMSStatements <= cmp.Next.LMSStatements {
		t.Errorf("legacy sent %d statements, next %d: legacy should send more", cmp.Legacy.LMSStatements, cmp.Next.LMSStatements)
	}
	if after := snapshot(t, f.store); after != before {
		t.Error("compare wrote to the store")
	}
	var b strings.Builder
	cmp.Print(&b)
	if !strings.Contains(b.String(), "identical: 7 enrollment rows") {
		t.Errorf("output:\n%s", b.String())
	}
}

// A skipped day: next for the 21st alone misses the 20th's activity;
// incremental from a watermark before the 20th catches both days up.
func TestIncrementalCatchesUp(t *testing.T) { dbtest.EachBackend(t, testIncrementalCatchesUp) }

func testIncrementalCatchesUp(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	f.lms.Module(2, c2, key(c2, "problem", "c"), 1.0, 1.0, At("2026-11-21 10:00:00"), At("2026-11-21 10:00:00"))
	f.lms.Enroll(2, c2, enrolled, true)
	later := func() time.Time { return At("2026-11-22 06:00:00") }

	next := newFixture(t, f.lms, f.backend)
	next.run(t, pipeline.Config{Workflow: pipeline.Next, Date: calendar.MustParse("2026-11-21"), Now: later})
	nextRows := edRows(t, next.store)

	// The incremental store starts with a watermark at the start of the
	// 20th, as if its last run had ended there; the 20th was never run.
	if err := f.store.SetWatermarks(context.Background(), map[string]time.Time{
		pipeline.WatermarkStudentModule: At("2026-11-20 00:00:00"),
		pipeline.WatermarkGrades:        At("2026-11-20 00:00:00"),
	}); err != nil {
		t.Fatal(err)
	}
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Incremental, Now: later, Lag: time.Second})
	incRows := edRows(t, f.store)
	has := func(rows []edRow, user int, course, date string) bool {
		for _, r := range rows {
			if r.user == user && r.course == course && r.date == date {
				return true
			}
		}
		return false
	}
	// u1's activity of the 20th in c1: next for the 21st misses it.
	if has(nextRows, 1, c1, "2026-11-20") || has(nextRows, 1, c1, "2026-11-21") {
		t.Errorf("next for the 21st should not see the 20th: %+v", nextRows)
	}
	for _, w := range []struct {
		user           int
		course, labelD string
	}{{1, c1, "2026-11-20"}, {2, c1, "2026-11-20"}, {3, c1, "2026-11-21"}, {5, c1, "2026-11-21"}, {2, c2, "2026-11-21"}} {
		if !has(incRows, w.user, w.course, w.labelD) {
			t.Errorf("incremental: no row for user %d in %s labelled %s: %+v", w.user, w.course, w.labelD, incRows)
		}
	}
	if len(rep.Days) != 2 || rep.Days[0].String() != "2026-11-20" || rep.Days[1].String() != "2026-11-21" {
		t.Errorf("daily metrics written for %v, want the 20th and the 21st", rep.Days)
	}
	mark, err := f.store.Watermark(context.Background(), pipeline.WatermarkStudentModule)
	if err != nil || !mark.Equal(At("2026-11-22 05:59:59")) {
		t.Errorf("watermark %v %v", mark, err)
	}
	// Nothing changed since: the next run recomputes nothing.
	rep = f.run(t, pipeline.Config{Workflow: pipeline.Incremental, Now: later, Lag: time.Second})
	if rep.EnrollmentsUpdated != 0 || len(rep.Days) != 0 {
		t.Errorf("a run with nothing changed updated %d enrollments and %d days", rep.EnrollmentsUpdated, len(rep.Days))
	}
}

// A regrade (a persisted grade changed without StudentModule activity) is
// seen by incremental.
func TestIncrementalSeesRegrades(t *testing.T) { dbtest.EachBackend(t, testIncrementalSeesRegrades) }

func testIncrementalSeesRegrades(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	f.lms.CourseGrade(4, c1, 1, At("2026-11-21 12:00:00"))
	id := f.lms.SubsectionGrade(4, c1, key(c1, "sequential", "s2"), 1, 1, At("2026-11-21 12:00:00"))
	f.lms.Override(id, 0.25, nil, At("2026-11-21 12:30:00"))
	if err := f.store.SetWatermarks(context.Background(), map[string]time.Time{
		pipeline.WatermarkStudentModule: At("2026-11-21 11:00:00"),
		pipeline.WatermarkGrades:        At("2026-11-21 11:00:00"),
	}); err != nil {
		t.Fatal(err)
	}
	f.run(t, pipeline.Config{Workflow: pipeline.Incremental, Now: func() time.Time { return At("2026-11-21 13:00:00") }, Lag: time.Nanosecond})
	for _, r := range edRows(t, f.store) {
		if r.user == 4 && r.course == c1 {
			if r.earned != 0.25 || r.worked != 1 || r.date != "2026-11-21" {
				t.Errorf("u4 after the regrade and override: %+v, want earned 0.25", r)
			}
			return
		}
	}
	t.Error("u4's regrade was not processed")
}

// A backfill fills the counts of past days, leaves progress NULL, and
// continues after the last finished day when re-run.
func TestBackfill(t *testing.T) { dbtest.EachBackend(t, testBackfill) }

func testBackfill(t *testing.T, b dbtest.Backend) {
	f := standalone(t, b)
	ctx := context.Background()
	r, err := lms.Open(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := pipeline.Config{Log: quiet, Now: func() time.Time { return now }}
	from, to := calendar.MustParse("2026-11-18"), calendar.MustParse("2026-11-20")
	rep, err := pipeline.Backfill(ctx, r, f.store, cfg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 3 {
		t.Fatalf("days %v", rep.Days)
	}
	cd := courseDaily(t, f.store, day)
	if c := cd[c1+"@1"]; c.AverageProgress != nil || c.ActiveLearnersToday != 5 || c.EnrollmentCount != 5 {
		t.Errorf("c1 on the 20th: %+v, want NULL progress, 5 active, 5 enrolled", c)
	}
	if c := courseDaily(t, f.store, calendar.MustParse("2026-11-19"))[c1+"@1"]; c.ActiveLearnersToday != 1 {
		t.Errorf("c1 on the 19th: %d active, want 1 (u4)", c.ActiveLearnersToday)
	}
	// Re-running the same backfill resumes after the 20th: nothing to do.
	rep, err = pipeline.Backfill(ctx, r, f.store, cfg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 0 || rep.Resumed.String() != "2026-11-21" {
		t.Errorf("resumed backfill: days %v resumed %s", rep.Days, rep.Resumed)
	}
	if _, err := pipeline.Backfill(ctx, r, f.store, cfg, to, from); err == nil {
		t.Error("a reversed range must be refused")
	}
}
