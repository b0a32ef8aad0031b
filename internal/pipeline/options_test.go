package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
)

// EnrollmentsOnly runs the workflow alone: the same enrollment rows as a
// whole run, but no directory, no daily metrics, and (incremental) the
// watermarks left where they were.
func TestEnrollmentsOnly(t *testing.T) { dbtest.EachBackend(t, testEnrollmentsOnly) }

func testEnrollmentsOnly(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	for _, wf := range []pipeline.Workflow{pipeline.Next, pipeline.Legacy, pipeline.Incremental} {
		t.Run(string(wf), func(t *testing.T) {
			whole := standalone(t, b)
			alone := newFixture(t, whole.lms, whole.backend)
			mark := At("2026-11-20 00:00:00")
			for _, f := range []*fixture{whole, alone} {
				if err := f.store.SetWatermarks(ctx, map[string]time.Time{pipeline.WatermarkStudentModule: mark, pipeline.WatermarkGrades: mark}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := pipeline.Config{Workflow: wf, Grades: progress.StudentModule}
			wrep := whole.run(t, cfg)
			cfg.EnrollmentsOnly = true
			arep := alone.run(t, cfg)
			if got, want := edRows(t, alone.store), edRows(t, whole.store); len(got) != len(want) || len(got) == 0 {
				t.Fatalf("enrollment rows alone %v, whole run %v", got, want)
			} else {
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("row %d alone %+v, whole run %+v", i, got[i], want[i])
					}
				}
			}
			if arep.EnrollmentsUpdated != wrep.EnrollmentsUpdated || len(arep.Days) != 0 {
				t.Errorf("alone: %d updated, days %v; whole run %d updated", arep.EnrollmentsUpdated, arep.Days, wrep.EnrollmentsUpdated)
			}
			for _, stage := range []string{"directory", "aggregates"} {
				if _, ok := arep.Stages[stage]; ok {
					t.Errorf("alone ran the %s stage", stage)
				}
			}
			if cd, err := alone.store.CourseDailyOn(ctx, day); err != nil || len(cd) != 0 {
				t.Errorf("alone wrote course daily rows %v (%v)", cd, err)
			}
			if got, err := alone.store.Watermark(ctx, pipeline.WatermarkStudentModule); err != nil || !got.Equal(mark) {
				t.Errorf("watermark after a run alone: %v (%v), want %v", got, err, mark)
			}
		})
	}
}

// A legacy run limited to a sample examines exactly that many enrollments,
// the same ones every time, reports the population, and gives the sampled
// enrollments the values the full sweep gives them.
func TestLegacySample(t *testing.T) { dbtest.EachBackend(t, testLegacySample) }

func testLegacySample(t *testing.T, b dbtest.Backend) {
	full := standalone(t, b)
	frep := full.run(t, pipeline.Config{Workflow: pipeline.Legacy, Grades: progress.StudentModule})
	fullRows := map[edKey]edRow{}
	for _, r := range edRows(t, full.store) {
		fullRows[edKey{r.user, r.course}] = r
	}
	var first []pipeline.Touched
	for i := 0; i < 2; i++ {
		f := newFixture(t, full.lms, full.backend)
		var stages []string
		rep := f.run(t, pipeline.Config{Workflow: pipeline.Legacy, Grades: progress.StudentModule, LegacySample: 3,
			OnStage: func(stage string, done bool) {
				if done {
					stages = append(stages, stage+" done")
				} else {
					stages = append(stages, stage)
				}
			}})
		// c1 has 7 enrollments, c2 and c4 one each: 9 in all. c4 has no
		// outline: if sampled, it fails as in the full sweep.
		if rep.LegacyPopulation != 9 {
			t.Errorf("population %d, want 9", rep.LegacyPopulation)
		}
		if rep.EnrollmentsExamined+rep.Errors != 3 {
			t.Errorf("examined %d with %d errors, want 3 in all", rep.EnrollmentsExamined, rep.Errors)
		}
		if i == 0 {
			first = rep.Touched
		} else if len(rep.Touched) != len(first) {
			t.Errorf("second sample touched %v, first %v", rep.Touched, first)
		} else {
			for k := range first {
				if first[k].Pair != rep.Touched[k].Pair {
					t.Errorf("second sample touched %v, first %v", rep.Touched, first)
				}
			}
		}
		for _, r := range edRows(t, f.store) {
			if r != fullRows[edKey{r.user, r.course}] {
				t.Errorf("sampled %+v, full sweep %+v", r, fullRows[edKey{r.user, r.course}])
			}
		}
		want := []string{"scope", "scope done", "directory", "directory done", "activity", "activity done", "enrollments",
			"legacy-list", "legacy-list done", "legacy-sample", "legacy-sample done", "enrollments done", "aggregates", "aggregates done"}
		if len(stages) != len(want) {
			t.Fatalf("stages %v, want %v", stages, want)
		}
		for k := range want {
			if stages[k] != want[k] {
				t.Errorf("stages %v, want %v", stages, want)
				break
			}
		}
	}
	if frep.LegacyPopulation != 0 {
		t.Errorf("a full sweep reports a population of %d", frep.LegacyPopulation)
	}
}

type edKey struct {
	user   int
	course string
}

// An incremental run whose window spans whole days writes those days'
// active learners exactly as next's runs for each day do.
func TestIncrementalDaysFromWindow(t *testing.T) {
	dbtest.EachBackend(t, testIncrementalDaysFromWindow)
}

func testIncrementalDaysFromWindow(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	f := standalone(t, b)
	f.lms.Module(2, c2, key(c2, "problem", "c"), 1.0, 1.0, At("2026-11-21 10:00:00"), At("2026-11-21 10:00:00"))
	f.lms.Enroll(2, c2, enrolled, true)
	later := func() time.Time { return At("2026-11-22 06:00:00") }
	next := newFixture(t, f.lms, f.backend)
	for _, d := range []string{"2026-11-20", "2026-11-21"} {
		next.run(t, pipeline.Config{Workflow: pipeline.Next, Date: calendar.MustParse(d), Now: later})
	}
	// One window from the 19th at noon: the 19th is only partly in it (its
	// activity is read separately), the 20th and 21st wholly.
	mark := At("2026-11-19 12:00:00")
	if err := f.store.SetWatermarks(ctx, map[string]time.Time{pipeline.WatermarkStudentModule: mark, pipeline.WatermarkGrades: mark}); err != nil {
		t.Fatal(err)
	}
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Incremental, Now: later, Lag: time.Second})
	if len(rep.Days) != 3 {
		t.Fatalf("days %v, want the 19th to the 21st", rep.Days)
	}
	for _, d := range []string{"2026-11-20", "2026-11-21"} {
		want, err := next.store.CourseDailyOn(ctx, calendar.MustParse(d))
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.store.CourseDailyOn(ctx, calendar.MustParse(d))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d course rows, next wrote %d", d, len(got), len(want))
		}
		for i := range got {
			if got[i].CourseID != want[i].CourseID || got[i].ActiveLearnersToday != want[i].ActiveLearnersToday {
				t.Errorf("%s: %s active %d, next's run for the day says %d", d, got[i].CourseID, got[i].ActiveLearnersToday, want[i].ActiveLearnersToday)
			}
		}
	}
	got, err := f.store.CourseDailyOn(ctx, calendar.MustParse("2026-11-19"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		// u4's row was modified at 10:05 on the 19th: before the window,
		// inside the day.
		if r.CourseID == c1 && r.ActiveLearnersToday != 1 {
			t.Errorf("19th: %s active %d, want 1 (u4, modified before the window but on the day)", r.CourseID, r.ActiveLearnersToday)
		}
	}
}

// The enrollment stage writes many courses' batches in one transaction;
// when that fails it writes them one by one, so only the failing course is
// recorded as failed and the others' rows are written.
func TestGroupedWriteIsolatesFailures(t *testing.T) {
	dbtest.EachBackend(t, testGroupedWriteIsolatesFailures)
}

func testGroupedWriteIsolatesFailures(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	f := standalone(t, b)
	failInsertsOf(t, f.store.DB(), "figures_learnercoursegrademetrics", c2)
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.StudentModule, EnrollmentsOnly: true})
	// c4 has no outline: it fails as always.
	if rep.Errors != 2 {
		t.Errorf("%d errors, want 2 (c2's write, c4's outline)", rep.Errors)
	}
	var c1Rows, c2Rows int
	for _, r := range edRows(t, f.store) {
		switch r.course {
		case c1:
			c1Rows++
		case c2:
			c2Rows++
		}
	}
	if c1Rows == 0 || c2Rows != 0 {
		t.Errorf("rows written: c1 %d, c2 %d; want c1's and none of c2's", c1Rows, c2Rows)
	}
	for _, tc := range rep.Touched {
		if tc.CourseID == c2 {
			t.Errorf("c2's enrollment %d reported updated", tc.UserID)
		}
	}
	runs, err := f.store.Runs(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	errs, err := f.store.ErrorsOfRun(ctx, runs[0].ID)
	failed := map[string]bool{}
	for _, e := range errs {
		failed[e.CourseID] = true
	}
	if err != nil || len(errs) != 2 || !failed[c2] || !failed[c4] {
		t.Errorf("pipeline errors %+v, %v; want one for c2 and one for c4", errs, err)
	}
}

// failInsertsOf makes every insert of course's rows into table fail, with a
// trigger in the store's dialect, dropped when the test ends (the store's
// database may be reused).
func failInsertsOf(t *testing.T, db *database.DB, table, course string) {
	t.Helper()
	var stmts []string
	drop := []string{"DROP TRIGGER fail_course"}
	switch db.Dialect() {
	case database.SQLite:
		stmts = []string{`CREATE TRIGGER fail_course BEFORE INSERT ON ` + table + ` WHEN NEW.course_id = '` + course +
			`' BEGIN SELECT RAISE(ABORT, 'cannot be written'); END`}
	case database.MySQL:
		stmts = []string{`CREATE TRIGGER fail_course BEFORE INSERT ON ` + table + ` FOR EACH ROW BEGIN IF NEW.course_id = '` + course +
			`' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'cannot be written'; END IF; END`}
	case database.Postgres:
		stmts = []string{`CREATE FUNCTION fail_course() RETURNS trigger AS $$ BEGIN IF NEW.course_id = '` + course +
			`' THEN RAISE EXCEPTION 'cannot be written'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER fail_course BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION fail_course()`}
		drop = []string{"DROP TRIGGER fail_course ON " + table, "DROP FUNCTION fail_course"}
	}
	for _, q := range stmts {
		if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, q := range drop {
			if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
				t.Error(err)
			}
		}
	})
}
