package pipeline

import (
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/progress/progresstest"
)

// BenchmarkSignatureProgress measures the enrollment stage's per-learner
// work on a course whose learners see different structures: the learner's
// signature from their LMS facts (staff, track, cohort, experiment group),
// the cached calculator of that signature, the progress computation and
// the estimate marks, for the 20 × 10 course of BenchmarkProgress with a
// verified-only subsection, a content-group subsection, an experiment in a
// third and a subsection released later, over 10,000 enrollments; one op
// is one enrollment.
func BenchmarkSignatureProgress(b *testing.B) {
	o := progresstest.Outline(20, 10)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	later := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Structure, o.Start, o.Cohorted = course.StructureVersion, &start, true
	o.Partitions = []course.Partition{
		{ID: 10, Scheme: "cohort", Active: true, Groups: []int{1, 2}},
		{ID: 20, Scheme: "random", Active: true, Groups: []int{0, 1}},
	}
	subs := o.Chapters[0].Subsections
	subs[3].Access.Groups = []course.Restriction{{Partition: course.EnrollmentTrackPartition, Groups: []int{2}}}
	subs[7].Access.Groups = []course.Restriction{{Partition: 10, Groups: []int{1}}}
	for i := range subs[11].Blocks {
		subs[11].Blocks[i].Access.Groups = []course.Restriction{{Partition: 20, Groups: []int{i % 2}}}
	}
	subs[19].Access.Start = &later
	for i := range subs {
		for j := range subs[i].Blocks {
			subs[i].Blocks[j].Access = mergeAccess(subs[i].Access, subs[i].Blocks[j].Access)
		}
	}
	ls := progresstest.Learners(o, 10000)
	cg := &lms.CourseGroups{Modes: []string{"audit", "verified"}, Cohorts: map[int]lms.Cohort{}, Random: []int{3, 4}}
	for id, g := range map[int]int{1: 1, 2: 2, 3: 1, 4: 2} {
		cg.Cohorts[id] = lms.Cohort{ID: id, Random: id > 2, Partition: 10, Group: g, Mapped: true}
	}
	f := courseFacts{
		groups:  map[string]*lms.CourseGroups{o.CourseID: cg},
		users:   map[int]*lms.UserAccess{},
		cohorts: map[lms.Pair]int{},
		tags:    map[lms.Pair]map[int]string{},
	}
	enrollments := make([]lms.Enrollment, len(ls))
	for i := range ls {
		f.users[i] = &lms.UserAccess{IsStaff: i%500 == 0, Email: "u@example.com"}
		enrollments[i] = lms.Enrollment{UserID: i, CourseID: o.CourseID, IsActive: true, Mode: []string{"audit", "verified"}[i%2]}
		if i%5 != 0 {
			f.cohorts[lms.Pair{CourseID: o.CourseID, UserID: i}] = 1 + i%2
		}
		if i%7 != 0 {
			f.tags[lms.Pair{CourseID: o.CourseID, UserID: i}] = map[int]string{20: []string{"0", "1"}[i%2]}
		}
	}
	asOf := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	rn := &runner{}
	for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
		b.Run(string(src), func(b *testing.B) {
			v := newCourseView(o, asOf)
			estimated := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(ls)
				calc, reasons := rn.learnerCalculator(v, f, enrollments[k], true, asOf)
				if estimateText(reasons, calc.Compute(src, &ls[k])) != "" {
					estimated++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
			if b.N >= 1000 && (len(v.calcs) < 5 || estimated == 0) {
				b.Fatalf("%d structures, %d estimates: the benchmark does not exercise signatures", len(v.calcs), estimated)
			}
		})
	}
}

// mergeAccess intersects a block's own restrictions with its
// subsection's, as the importer merges them (no partition twice here).
func mergeAccess(parent, own course.Access) course.Access {
	out := parent
	out.Groups = append(append([]course.Restriction(nil), parent.Groups...), own.Groups...)
	return out
}
