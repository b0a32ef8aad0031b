// Package progresstest builds the synthetic course and learners that the
// progress benchmarks measure, so that the Go benchmarks and the report of
// "figures bench" time exactly the same work.
package progresstest

import (
	"fmt"

	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/progress"
)

// CourseID is the course key of the outline Outline builds.
const CourseID = "course-v1:Bench+C+R"

// Outline builds a course of subs graded subsections of problems problems
// each, with raw points cycling 1, 2, 3 and a weight of 2 on every fourth
// problem, so that both the raw and the weighted paths of the formula run.
func Outline(subs, problems int) *course.Outline {
	weight := 2.0
	o := &course.Outline{CourseID: CourseID}
	ch := course.Chapter{UsageKey: "block-v1:Bench+C+R+type@chapter+block@ch"}
	for s := 0; s < subs; s++ {
		sub := course.Subsection{UsageKey: fmt.Sprintf("block-v1:Bench+C+R+type@sequential+block@s%d", s), Graded: true}
		for p := 0; p < problems; p++ {
			b := course.Block{UsageKey: fmt.Sprintf("block-v1:Bench+C+R+type@problem+block@p%d_%d", s, p), Type: "problem", RawPossible: float64(1 + p%3)}
			if p%4 == 0 {
				b.Weight = &weight
			}
			sub.Blocks = append(sub.Blocks, b)
		}
		ch.Subsections = append(ch.Subsections, sub)
	}
	o.Chapters = []course.Chapter{ch}
	o.ComputeVersion()
	return o
}

// Learners builds n learners who worked through part of the course o, with
// both persisted subsection grades and StudentModule scores: learner i
// skips every subsection s with (i+s)%3 == 0 and answers every other
// problem in the rest, so learners differ and some subsections earn 0.
func Learners(o *course.Outline, n int) []progress.Learner {
	subs := o.Subsections()
	out := make([]progress.Learner, n)
	for i := range out {
		l := &out[i]
		l.HasCourseGrade = true
		for si, s := range subs {
			if (i+si)%3 == 0 {
				continue
			}
			var e, p float64
			for bi, b := range s.Blocks {
				if (i+si+bi)%2 == 0 {
					g := float64((i + bi) % 3)
					l.Scores = append(l.Scores, progress.Score{ModuleID: b.UsageKey, Grade: g, HasGrade: true, MaxGrade: b.RawPossible, HasMax: true})
					e += g
				}
				p += b.Possible()
			}
			l.Subsections = append(l.Subsections, progress.SubsectionGrade{UsageKey: s.UsageKey, Earned: e, Possible: p})
		}
	}
	return out
}
