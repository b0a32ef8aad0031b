package progress_test

import (
	"testing"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/progress/progresstest"
)

func w(v float64) *float64 { return &v }

const (
	s1  = "block-v1:O+C+R+type@sequential+block@s1"
	s2  = "block-v1:O+C+R+type@sequential+block@s2"
	s3  = "block-v1:O+C+R+type@sequential+block@s3"
	s4  = "block-v1:O+C+R+type@sequential+block@s4"
	pA  = "block-v1:O+C+R+type@problem+block@a" // raw 2, no weight
	pB  = "block-v1:O+C+R+type@problem+block@b" // raw 3, weight 1
	pC  = "block-v1:O+C+R+type@problem+block@c" // raw 1, weight 0
	pD  = "block-v1:O+C+R+type@problem+block@d" // raw 4, no weight
	lib = "block-v1:O+C+R+type@library_content+block@lib"
	l1  = "block-v1:O+C+R+type@problem+block@l1" // raw 1
	l2  = "block-v1:O+C+R+type@problem+block@l2" // raw 2
	l3  = "block-v1:O+C+R+type@problem+block@l3" // raw 5
)

// outline: s1 {A (2 pts), B (weight 1)}, s2 {C (weight 0)}, s3 {D (4 pts)},
// s4 {library: max_count 1 of l1 (1), l2 (2), l3 (5)}.
func outline() *course.Outline {
	return &course.Outline{CourseID: "course-v1:O+C+R", Chapters: []course.Chapter{{
		UsageKey: "block-v1:O+C+R+type@chapter+block@ch",
		Subsections: []course.Subsection{
			{UsageKey: s1, Blocks: []course.Block{
				{UsageKey: pA, Type: "problem", RawPossible: 2},
				{UsageKey: pB, Type: "problem", RawPossible: 3, Weight: w(1)},
			}},
			{UsageKey: s2, Blocks: []course.Block{{UsageKey: pC, Type: "problem", RawPossible: 1, Weight: w(0)}}},
			{UsageKey: s3, Blocks: []course.Block{{UsageKey: pD, Type: "problem", RawPossible: 4}}},
			{UsageKey: s4,
				Blocks: []course.Block{
					{UsageKey: l1, Type: "problem", RawPossible: 1, Library: lib},
					{UsageKey: l2, Type: "problem", RawPossible: 2, Library: lib},
					{UsageKey: l3, Type: "problem", RawPossible: 5, Library: lib},
				},
				Libraries: []course.Library{{UsageKey: lib, MaxCount: 1, Children: []string{l1, l2, l3}}}},
		},
	}}}
}

func score(module string, grade, max any) progress.Score {
	s := progress.Score{ModuleID: module}
	if grade != nil {
		s.Grade, s.HasGrade = grade.(float64), true
	}
	if max != nil {
		s.MaxGrade, s.HasMax = max.(float64), true
	}
	return s
}

func TestStudentModule(t *testing.T) {
	// Outline possible: s1 = 2 + 1 = 3, s2 = 0 (weight 0: not counted),
	// s3 = 4, s4 = 1 (default selection l1). Three subsections with points.
	tests := []struct {
		name string
		l    progress.Learner
		want progress.Result
		pct  float64
		done bool
	}{
		{"no rows", progress.Learner{}, progress.Result{PointsPossible: 8, SectionsPossible: 3}, 0, false},
		{"viewed, not answered: grade and max_grade NULL", progress.Learner{Scores: []progress.Score{score(pA, nil, nil)}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3}, 0, false},
		{"answered wrong: grade 0", progress.Learner{Scores: []progress.Score{score(pA, 0.0, 2.0)}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3}, 0, false},
		{"grade NULL with max_grade: earned 0, possible from the row", progress.Learner{Scores: []progress.Score{score(pD, nil, 6.0)}},
			progress.Result{PointsPossible: 10, SectionsPossible: 3}, 0, false},
		{"unweighted: the row's max_grade wins over the outline", progress.Learner{Scores: []progress.Score{score(pA, 1.0, 5.0)}},
			progress.Result{PointsPossible: 11, PointsEarned: 1, SectionsWorked: 1, SectionsPossible: 3}, 1.0 / 3, false},
		{"weighted: weight × grade / max_grade", progress.Learner{Scores: []progress.Score{score(pB, 1.5, 3.0)}},
			progress.Result{PointsPossible: 8, PointsEarned: 0.5, SectionsWorked: 1, SectionsPossible: 3}, 1.0 / 3, false},
		// weighted_score: the weight applies only when raw possible > 0;
		// otherwise the raw (1, 0) stands.
		{"weighted with max_grade 0: the raw values stand", progress.Learner{Scores: []progress.Score{score(pB, 1.0, 0.0)}},
			progress.Result{PointsPossible: 7, PointsEarned: 1, SectionsWorked: 1, SectionsPossible: 3}, 1.0 / 3, false},
		{"weight 0 stays out even when answered", progress.Learner{Scores: []progress.Score{score(pC, 1.0, 1.0)}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3}, 0, false},
		{"unknown module ignored", progress.Learner{Scores: []progress.Score{score("block-v1:O+C+R+type@problem+block@zz", 1.0, 1.0)}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3}, 0, false},
		{"all worked: completed", progress.Learner{Scores: []progress.Score{score(pA, 2.0, 2.0), score(pD, 1.0, 4.0), score(l1, 1.0, 1.0)}},
			progress.Result{PointsPossible: 8, PointsEarned: 4, SectionsWorked: 3, SectionsPossible: 3}, 1, true},
		{"library selection: learner sees l3 only", progress.Learner{
			Scores:     []progress.Score{score(l1, 1.0, 1.0), score(l3, 5.0, 5.0)},
			Selections: map[string][]string{lib: {l3}}},
			progress.Result{PointsPossible: 12, PointsEarned: 5, SectionsWorked: 1, SectionsPossible: 3}, 1.0 / 3, false},
	}
	c := progress.New(outline())
	for _, tc := range tests {
		// s4's library (max_count 1 of children worth 1, 2 and 5) without
		// a recorded selection: the platform would draw one at random, so
		// the result is an estimate.
		tc.want.LibraryEstimate = tc.l.Selections == nil
		t.Run(tc.name, func(t *testing.T) {
			got := c.Compute(progress.StudentModule, &tc.l)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if got.ProgressPercent() != tc.pct || got.Completed() != tc.done {
				t.Errorf("percent %v completed %v, want %v %v", got.ProgressPercent(), got.Completed(), tc.pct, tc.done)
			}
		})
	}
}

func TestPersisted(t *testing.T) {
	// Where s4's possible points come from the outline without a recorded
	// library selection, the result is an estimate (see TestStudentModule).
	tests := []struct {
		name string
		l    progress.Learner
		want progress.Result
	}{
		{"no course grade: every subsection earns 0, possible from the outline",
			progress.Learner{Subsections: []progress.SubsectionGrade{{UsageKey: s1, Earned: 3, Possible: 3}}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3, LibraryEstimate: true}},
		{"course grade, one subsection row; others from the outline",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{{UsageKey: s1, Earned: 1.5, Possible: 3}}},
			progress.Result{PointsPossible: 8, PointsEarned: 1.5, SectionsWorked: 1, SectionsPossible: 3, LibraryEstimate: true}},
		{"a row's possible replaces the outline's (content changed since)",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{{UsageKey: s3, Earned: 2, Possible: 10}}},
			progress.Result{PointsPossible: 14, PointsEarned: 2, SectionsWorked: 1, SectionsPossible: 3, LibraryEstimate: true}},
		{"a row with possible 0 drops the subsection",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{{UsageKey: s3, Earned: 0, Possible: 0}}},
			progress.Result{PointsPossible: 4, SectionsPossible: 2, LibraryEstimate: true}},
		{"a row for a subsection not in the outline is ignored",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{{UsageKey: "block-v1:O+C+R+type@sequential+block@gone", Earned: 5, Possible: 5}}},
			progress.Result{PointsPossible: 8, SectionsPossible: 3, LibraryEstimate: true}},
		{"a recorded selection of a stale child and nothing else: filled by the rule, an estimate",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{{UsageKey: s1, Earned: 3, Possible: 3}, {UsageKey: s3, Earned: 4, Possible: 4}},
				Selections: map[string][]string{lib: {"block-v1:O+C+R+type@problem+block@removed"}}},
			progress.Result{PointsPossible: 8, PointsEarned: 7, SectionsWorked: 2, SectionsPossible: 3, LibraryEstimate: true}},
		{"all worked",
			progress.Learner{HasCourseGrade: true, Subsections: []progress.SubsectionGrade{
				{UsageKey: s1, Earned: 3, Possible: 3}, {UsageKey: s3, Earned: 0.5, Possible: 4}, {UsageKey: s4, Earned: 1, Possible: 1}}},
			progress.Result{PointsPossible: 8, PointsEarned: 4.5, SectionsWorked: 3, SectionsPossible: 3}},
		{"library selection changes a zero subsection's possible",
			progress.Learner{HasCourseGrade: true, Selections: map[string][]string{lib: {l2}}},
			progress.Result{PointsPossible: 9, SectionsPossible: 3}},
	}
	c := progress.New(outline())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Compute(progress.Persisted, &tc.l); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNoScorableContent(t *testing.T) {
	o := &course.Outline{CourseID: "course-v1:O+C+R", Chapters: []course.Chapter{{Subsections: []course.Subsection{{UsageKey: s1}}}}}
	c := progress.New(o)
	for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
		r := c.Compute(src, &progress.Learner{HasCourseGrade: true})
		if r != (progress.Result{}) || r.ProgressPercent() != 0 || r.Completed() {
			t.Errorf("%s: got %+v percent %v completed %v; want zeros, 0.0, not completed", src, r, r.ProgressPercent(), r.Completed())
		}
	}
}

// The persisted grades the platform writes are the StudentModule sums per
// subsection; from those, both sources must agree.
func TestSourcesAgree(t *testing.T) {
	c := progress.New(outline())
	learners := []progress.Learner{
		{Scores: []progress.Score{score(pA, 1.0, 2.0)}},
		{Scores: []progress.Score{score(pA, 2.0, 2.0), score(pB, 3.0, 3.0), score(pD, 4.0, 4.0), score(l1, 1.0, 1.0)}},
		{Scores: []progress.Score{score(pD, nil, 4.0), score(l2, 2.0, 2.0)}, Selections: map[string][]string{lib: {l2}}},
	}
	for i, l := range learners {
		sm := c.Compute(progress.StudentModule, &l)
		var persisted []progress.SubsectionGrade
		for _, g := range c.SubsectionScores(&l) {
			if g.Earned > 0 || len(l.Scores) > 0 {
				persisted = append(persisted, g)
			}
		}
		p := c.Compute(progress.Persisted, &progress.Learner{HasCourseGrade: true, Subsections: persisted, Selections: l.Selections})
		// The persisted rows settle the library's points, which the
		// StudentModule source draws from an undetermined selection.
		sm.LibraryEstimate = false
		if p != sm {
			t.Errorf("learner %d: persisted %+v, studentmodule %+v", i, p, sm)
		}
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]progress.Source{"": progress.Persisted, "persisted": progress.Persisted, "studentmodule": progress.StudentModule} {
		if got, err := progress.ParseSource(in); err != nil || got != want {
			t.Errorf("ParseSource(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := progress.ParseSource("csm"); err == nil {
		t.Error("want an error for an unknown source")
	}
}

// BenchmarkProgress measures progress computations for a course of 20
// subsections × 10 problems over 10,000 enrollments; one op is one
// enrollment.
func BenchmarkProgress(b *testing.B) {
	o := progresstest.Outline(20, 10)
	ls := progresstest.Learners(o, 10000)
	for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
		b.Run(string(src), func(b *testing.B) {
			c := progress.New(o)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Compute(src, &ls[i%len(ls)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
		})
	}
}

// BenchmarkOutlineLookup measures building a calculator (the outline's
// lookup tables) for the same course.
func BenchmarkOutlineLookup(b *testing.B) {
	o := progresstest.Outline(20, 10)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		progress.New(o)
	}
}
