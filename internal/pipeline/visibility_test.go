package pipeline_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/lms/lmstest"
	. "github.com/figures-analytics/figures/internal/lms/lmstest"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
)

// The courses of the visibility fixture: the OLX export
// internal/course/testdata/visibility imported under each key, V4 with its
// start moved after the run (2026-11-23) and V5 made self-paced.
const (
	v1 = "course-v1:VisX+V1+2026" // cohorted (settings row), one random cohort mapped to A
	v2 = "course-v1:VisX+V2+2026" // cohorted by its policy (no settings row), two random cohorts A and B
	v3 = "course-v1:VisX+V3+2026" // settings row: not cohorted
	v4 = "course-v1:VisX+V4+2026" // starts 2026-11-23
	v5 = "course-v1:VisX+V5+2026" // self-paced
)

// learnerOpts is how one enrollment of the fixture differs from the base
// one: audit, in a cohort without a content group, experiment group 0, the
// library showing lp1 and lp2, p_open answered 1/1 on the day, and a
// persisted course grade with s_open 1/1.
type learnerOpts struct {
	mode          string
	inactive      bool
	cohort        string // cohort name; "-" for no membership
	tag           string // experiment tag value; "-" for none
	library       string // selected ids, comma-separated; "-" for no state
	noCourseGrade bool
	extra         func(l *LMS, u int, c string, openRow int64)
}

// visibilityFixture builds the LMS of the §11 edge cases and a store
// holding the fixture's outlines. Cohort ids per course are returned by
// name.
func visibilityFixture(t *testing.T, b dbtest.Backend) *fixture {
	t.Helper()
	l := lmstest.NewOf(t, b.LMS)
	l.Site(1, "lms.example.com", nil)
	for _, c := range []string{v1, v2, v3, v4, v5} {
		l.Course(c, "VisX", c)
		l.CourseMode(c, "audit")
		l.CourseMode(c, "verified")
	}
	l.CohortSettings(v1, true)
	l.CohortSettings(v3, false)
	cohorts := map[string]map[string]int{v1: {}, v2: {}, v3: {}, v4: {}, v5: {}}
	for _, c := range []string{v1, v3, v4, v5} {
		cohorts[c]["A"] = l.Cohort(c, "A", "manual", 10, 1)
		cohorts[c]["B"] = l.Cohort(c, "B", "manual", 10, 2)
		cohorts[c]["NoMap"] = l.Cohort(c, "NoMap", "manual", 0, 0)
		cohorts[c]["Deleted"] = l.Cohort(c, "Deleted", "manual", 10, 9)
	}
	cohorts[v1]["Rand"] = l.Cohort(v1, "Rand", "random", 10, 1)
	cohorts[v2]["RandA"] = l.Cohort(v2, "RandA", "random", 10, 1)
	cohorts[v2]["RandB"] = l.Cohort(v2, "RandB", "random", 10, 2)
	users := map[int]bool{}
	enroll := func(u int, c string, o learnerOpts) {
		if !users[u] {
			users[u] = true
			l.User(u, "learner"+strconv.Itoa(u), joined, "Learner "+strconv.Itoa(u))
		}
		k, _ := course.ParseKey(c)
		l.Enroll(u, c, enrolled, !o.inactive)
		if o.mode != "" {
			l.Mode(u, c, o.mode)
		}
		switch o.cohort {
		case "":
			l.Member(u, c, cohorts[c]["NoMap"])
		case "-":
		default:
			l.Member(u, c, cohorts[c][o.cohort])
		}
		switch o.tag {
		case "":
			l.ExperimentGroup(u, c, 20, "0")
		case "-":
		default:
			l.ExperimentGroup(u, c, 20, o.tag)
		}
		lib := o.library
		if lib == "" {
			lib = "lp1,lp2"
		}
		if lib != "-" {
			state := `{"selected": [`
			for i, id := range splitComma(lib) {
				if i > 0 {
					state += ", "
				}
				state += `["problem", "` + id + `"]`
			}
			l.ModuleState(u, c, k.UsageKey("library_content", "lib2"), state+`]}`, At("2026-11-20 09:00:00"))
		}
		l.Module(u, c, k.UsageKey("problem", "p_open"), 1.0, 1.0, At("2026-11-20 10:00:00"), At("2026-11-20 10:00:00"))
		if !o.noCourseGrade {
			l.CourseGrade(u, c, 0.1, At("2026-11-20 10:01:00"))
		}
		row := l.SubsectionGrade(u, c, k.UsageKey("sequential", "s_open"), 1, 1, At("2026-11-20 10:01:00"))
		if o.extra != nil {
			o.extra(l, u, c, row)
		}
	}
	base := learnerOpts{}
	enroll(1, v1, base)
	enroll(2, v1, learnerOpts{mode: "verified"})
	enroll(3, v1, learnerOpts{mode: "verified", inactive: true})
	enroll(4, v1, learnerOpts{mode: "credit"})
	enroll(5, v1, learnerOpts{mode: "honor"})
	enroll(6, v1, learnerOpts{cohort: "A"})
	enroll(7, v1, learnerOpts{cohort: "B"})
	enroll(8, v1, learnerOpts{cohort: "Deleted"})
	enroll(9, v1, learnerOpts{cohort: "-"})
	enroll(10, v1, learnerOpts{cohort: "-"})
	l.PreRegister("learner10@example.com", v1, cohorts[v1]["B"])
	enroll(11, v1, learnerOpts{tag: "1"})
	enroll(12, v1, learnerOpts{tag: "-"})
	enroll(13, v1, learnerOpts{tag: "7"})
	enroll(14, v1, learnerOpts{library: "-"})
	enroll(15, v1, learnerOpts{library: "lp4,gone"})
	enroll(16, v1, learnerOpts{library: "lp5,lp3"})
	enroll(17, v1, base)
	l.Role(17, "VisX", v1, "beta_testers")
	enroll(18, v1, base)
	l.Role(18, "VisX", v1, "staff")
	enroll(19, v1, base)
	l.GlobalStaff(19)
	enroll(20, v1, base)
	l.Role(20, "VisX", "", "staff")
	enroll(21, v1, base)
	l.Role(21, "Other", "", "staff")
	enroll(22, v1, learnerOpts{extra: func(l *LMS, u int, c string, _ int64) {
		k, _ := course.ParseKey(c)
		l.SubsectionGrade(u, c, k.UsageKey("sequential", "s_cohortA"), 1, 1, At("2026-11-20 10:02:00"))
		l.Module(u, c, k.UsageKey("problem", "p_cohort"), 1.0, 1.0, At("2026-11-20 10:02:00"), At("2026-11-20 10:02:00"))
	}})
	enroll(23, v1, learnerOpts{extra: func(l *LMS, u int, c string, _ int64) {
		k, _ := course.ParseKey(c)
		l.SubsectionGrade(u, c, k.UsageKey("sequential", "s_mixed"), 0, 0, At("2026-11-20 10:02:00"))
	}})
	enroll(24, v1, learnerOpts{extra: func(l *LMS, _ int, _ string, openRow int64) {
		l.Override(openRow, 0.0, nil, At("2026-11-20 11:00:00"))
	}})
	enroll(25, v1, learnerOpts{noCourseGrade: true})
	enroll(1, v2, learnerOpts{cohort: "-"})
	enroll(2, v2, learnerOpts{cohort: "-"})
	l.PreRegister("learner2@example.com", v2, cohorts[v2]["RandB"])
	enroll(6, v3, learnerOpts{cohort: "A"})
	enroll(1, v4, base)
	enroll(17, v4, base)
	l.Role(17, "VisX", v4, "beta_testers")
	enroll(1, v5, base)

	f := newFixture(t, l, b)
	ctx := context.Background()
	for _, c := range []string{v1, v2, v3, v4, v5} {
		o, err := course.ImportOLX("../course/testdata/visibility", course.ImportOptions{CourseID: c})
		if err != nil {
			t.Fatal(err)
		}
		switch c {
		case v4:
			start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			o.Start = &start
		case v5:
			o.SelfPaced = true
		}
		o.ComputeVersion()
		if _, err := f.store.SaveOutline(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// visRow is one enrollment's stored progress.
type visRow struct {
	sections, worked int
	possible, earned float64
	estimate         string
}

func visRows(t *testing.T, st *store.Store) map[string]visRow {
	t.Helper()
	eds, err := st.EnrollmentDataFor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]visRow{}
	for _, e := range eds {
		out[fmt.Sprintf("%s u%d", e.CourseID, e.UserID)] = visRow{e.SectionsPossible, e.SectionsWorked, e.PointsPossible, e.PointsEarned, e.Estimate}
	}
	return out
}

// TestVisibilityEdgeCases runs the next workflow over the edge cases of
// course-visibility.md §11 that apply, with both grade sources, on every
// backend (an SQLite LMS, a MariaDB LMS, stores on all three databases),
// and checks every enrollment's exact values. In V1 a learner
// who sees the base structure gets 7 subsections with points (s_open 1,
// s_mixed 1, s_ignored 1, s_exp 2, s_lib 3, s_liball 2, s_ee 1: 11
// points) and works s_open (1 point).
func TestVisibilityEdgeCases(t *testing.T) {
	dbtest.EachBackend(t, func(t *testing.T, b dbtest.Backend) {
		for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
			t.Run(string(src), func(t *testing.T) { testVisibilityEdgeCases(t, b, src) })
		}
	})
}

func testVisibilityEdgeCases(t *testing.T, b dbtest.Backend, src progress.Source) {
	f := visibilityFixture(t, b)
	rep := f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: src})
	base := visRow{7, 1, 11, 1, ""}
	plus := func(r visRow, sections int, points float64) visRow {
		r.sections += sections
		r.possible += points
		return r
	}
	est := func(r visRow, why string) visRow { r.estimate = why; return r }
	staff := visRow{14, 1, 25, 1, ""} // every subsection but s_weight0, every branch
	persisted := src == progress.Persisted
	pick := func(p, sm visRow) visRow {
		if persisted {
			return p
		}
		return sm
	}
	want := map[string]visRow{
		v1 + " u1":  base,
		v1 + " u2":  plus(base, 1, 1),                           // §11.7 verified: s_track's unit
		v1 + " u3":  base,                                       // §11.7 verified, enrollment inactive: no track
		v1 + " u4":  plus(base, 1, 1),                           // §11.7 credit: the course's verified mode
		v1 + " u5":  base,                                       // §11.7 honor without an honor mode: audit
		v1 + " u6":  plus(base, 1, 1),                           // §11.8 cohort mapped to A: s_cohortA
		v1 + " u7":  base,                                       // §11.8 B; §11.9 s_nested's unit (A inside B) hidden
		v1 + " u8":  base,                                       // §11.8 cohort mapped to a deleted group
		v1 + " u9":  plus(base, 1, 1),                           // §11.11 no cohort, exactly one random cohort (A)
		v1 + " u10": base,                                       // §11.11 pre-registered to B
		v1 + " u11": plus(base, 0, 1),                           // §11.12 experiment group 1: p_g1 (2) instead of p_g0 (1)
		v1 + " u12": est(base, lms.EstimateExperiment),          // §11.12 no group recorded: group 0 by rule
		v1 + " u13": est(base, lms.EstimateExperiment),          // §11.12 a deleted group recorded
		v1 + " u14": est(base, lms.EstimateLibrary),             // §11.14 no selection: lp1 and lp2 by rule
		v1 + " u15": est(plus(base, 0, 2), lms.EstimateLibrary), // §11.14 lp4 and a stale child: lp4 and lp1
		v1 + " u16": plus(base, 0, 5),                           // §11.14 lp5 and lp3
		v1 + " u17": plus(base, 1, 1),                           // §11.1 beta tester: s_beta 3 days early
		v1 + " u18": staff,                                      // §11.21 course staff
		v1 + " u19": staff,                                      // §11.21 global staff
		v1 + " u20": staff,                                      // org staff
		v1 + " u21": base,                                       // staff of another org
		v1 + " u22": base,                                       // §11.17 a row (and a score) for s_cohortA, not theirs
		v1 + " u23": pick(visRow{6, 1, 10, 1, ""}, base),        // §11.18 a row with possible 0 for s_mixed
		v1 + " u24": pick(visRow{7, 0, 11, 0, ""}, base),        // §11.19 s_open overridden to earned 0
		v1 + " u25": pick(visRow{7, 0, 11, 0, ""}, base),        // §11.16 no course grade: all zeros
		v2 + " u1":  est(plus(base, 1, 1), lms.EstimateCohort),  // §11.11 two random cohorts: the lowest id (A) by rule
		v2 + " u2":  base,                                       // §11.11 pre-registered to the random cohort B
		v3 + " u6":  base,                                       // §11.8 course not cohorted: no content group
		v4 + " u1":  {0, 0, 0, 0, ""},                           // §11.1 before the course start
		v4 + " u17": plus(base, 1, 1),                           // §11.1 beta tester, start − 3 days passed
		v5 + " u1":  plus(base, 3, 8),                           // §11.5 self-paced: only the course start applies
	}
	got := visRows(t, f.store)
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: no row", k)
		} else if g != w {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	if rep.Estimated != 5 || rep.Errors != 0 {
		t.Errorf("report: %d estimates, %d errors; want 5 and 0", rep.Estimated, rep.Errors)
	}
	// The grade metrics carry the same marks.
	gms, err := f.store.GradeMetricsOn(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, g := range gms {
		if g.Estimate != "" {
			marked++
		}
	}
	if marked != 5 {
		t.Errorf("%d grade-metrics rows marked as estimates, want 5", marked)
	}
}

// TestVisibilityCompare runs compare on the edge cases: legacy, reading
// each enrollment on its own, must agree with next on every value and
// every estimate mark.
func TestVisibilityCompare(t *testing.T) {
	for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
		t.Run(string(src), func(t *testing.T) {
			f := visibilityFixture(t, dbtest.Backends()[0])
			ctx := context.Background()
			r, err := lms.Open(ctx, f.url)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmp, err := pipeline.Compare(ctx, r, f.store, pipeline.Config{Grades: src, Log: quiet,
				Now: func() time.Time { return now }}, day, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Identical() || cmp.Compared != 31 {
				t.Errorf("compared %d, differences: %+v", cmp.Compared, cmp.Differences)
			}
			if cmp.Legacy.Estimated != 5 || cmp.Next.Estimated != 5 {
				t.Errorf("estimates: legacy %d, next %d; want 5", cmp.Legacy.Estimated, cmp.Next.Estimated)
			}
		})
	}
}

// A distributed run of the edge cases writes what the run in one process
// wrote: the workers judge every learner's structure at the run's time
// (Task.AsOf), and their estimates are counted in the run's report.
func TestVisibilityDistributed(t *testing.T) {
	f := visibilityFixture(t, dbtest.Backends()[0])
	local := f.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.Persisted})
	want := visRows(t, f.store)
	g := visibilityFixture(t, dbtest.Backends()[0])
	workers := &inProcess{url: g.url, st: g.store}
	dist := g.run(t, pipeline.Config{Workflow: pipeline.Next, Grades: progress.Persisted, Distributor: workers, TaskSize: 4})
	got := visRows(t, g.store)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: distributed %+v, in one process %+v", k, got[k], w)
		}
	}
	if dist.Estimated != local.Estimated || dist.Estimated != 5 {
		t.Errorf("estimates: distributed %d, in one process %d; want 5", dist.Estimated, local.Estimated)
	}
	for _, task := range workers.tasks {
		if !task.AsOf.Equal(now) {
			t.Errorf("task as of %s, want the run's %s", task.AsOf, now)
		}
	}
}
