// Package progress computes Figures' per-enrollment progress from a course
// outline and a learner's grade rows.
//
// Over the subsections of the learner's outline whose possible points are
// above 0: sections_possible counts them, sections_worked counts those with
// earned points above 0, points_possible sums their possible points and
// points_earned the earned points of the worked ones. progress_percent is
// worked / possible (0 when possible is 0); an enrollment is completed when
// worked > 0 and worked == possible.
//
// A subsection's earned and possible points come from one of two sources:
//
//   - Persisted (Open edX Olive and later) reproduces CourseGradeFactory().read():
//     without a grades_persistentcoursegrade row every subsection earns 0;
//     with one, a grades_persistentsubsectiongrade row (its override applied)
//     gives earned_all/possible_all; otherwise earned is 0 and possible comes
//     from the outline.
//   - StudentModule (older platforms with persistent grades off) sums the
//     subsection's scorable blocks from courseware_studentmodule grade and
//     max_grade with the outline's weights.
//
// Sums are always taken in outline order, so that the same rows give
// bit-identical results whatever order a query returned them in.
package progress

import (
	"fmt"
	"math"

	"github.com/figures-analytics/figures/internal/course"
)

// Source names where subsection grades come from.
type Source string

// The grade sources.
const (
	Persisted     Source = "persisted"
	StudentModule Source = "studentmodule"
)

// ParseSource validates a grades setting.
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case Persisted, StudentModule:
		return Source(s), nil
	case "":
		return Persisted, nil
	}
	return "", fmt.Errorf("unknown grades source %q: want persisted or studentmodule", s)
}

// SubsectionGrade is one grades_persistentsubsectiongrade row with its
// override (if any) already applied.
type SubsectionGrade struct {
	UsageKey string
	Earned   float64
	Possible float64
}

// Score is one courseware_studentmodule row's score.
type Score struct {
	ModuleID string
	Grade    float64
	MaxGrade float64
	// HasGrade is false when grade is NULL (viewed, not answered).
	HasGrade bool
	// HasMax is false when max_grade is NULL: the row carries no score.
	HasMax bool
}

// Learner is everything the formula needs about one enrollment.
type Learner struct {
	// HasCourseGrade says a grades_persistentcoursegrade row exists.
	HasCourseGrade bool
	// Subsections are the learner's persisted subsection grades.
	Subsections []SubsectionGrade
	// Scores are the learner's StudentModule scores in the course.
	Scores []Score
	// Selections maps a library_content usage key to the usage keys of the
	// children selected for the learner (from the block's StudentModule
	// state); a library without an entry shows its default selection.
	Selections map[string][]string
}

// Result is one enrollment's progress.
type Result struct {
	PointsPossible   float64
	PointsEarned     float64
	SectionsWorked   int
	SectionsPossible int
	// LibraryEstimate is set when a subsection's possible points came from
	// a library_content block whose selection for the learner the platform
	// would still draw at random (course.Library.Selection): the numbers
	// follow figures' fixed rule and are an estimate.
	LibraryEstimate bool
}

// ProgressPercent returns sections_worked / sections_possible, 0 when there
// is no subsection with points.
func (r Result) ProgressPercent() float64 {
	if r.SectionsPossible == 0 {
		return 0
	}
	return float64(r.SectionsWorked) / float64(r.SectionsPossible)
}

// Completed reports worked > 0 and worked == possible.
func (r Result) Completed() bool {
	return r.SectionsWorked > 0 && r.SectionsWorked == r.SectionsPossible
}

// Calculator computes progress for the enrollments of one course. It holds
// scratch space, so it is not safe for concurrent use: give each goroutine
// its own (New is cheap next to a batch of enrollments).
type Calculator struct {
	subs     []subsection
	subIndex map[string]int
	blocks   map[string]int // block usage key → global block index
	// scratch, indexed by global block index
	scored  []blockScore
	touched []int
	// scratch, indexed by subsection
	earned, possible []float64
	hasRow           []bool
}

type subsection struct {
	usageKey string
	src      *course.Subsection
	first    int // global index of the subsection's first block
	blocks   []course.Block
	defPoss  float64 // possible for a learner with default selections
	library  bool
}

type blockScore struct {
	earned, possible float64
	set              bool
}

// New prepares a calculator for one learner structure: an outline as
// course.Outline.ForLearner returns it. Grade rows of subsections and
// blocks outside it are ignored, as the platform ignores them.
func New(o *course.Outline) *Calculator {
	c := &Calculator{subIndex: map[string]int{}, blocks: map[string]int{}}
	n := 0
	for _, s := range o.Subsections() {
		sub := subsection{usageKey: s.UsageKey, src: s, first: n, blocks: s.Blocks, library: len(s.Libraries) > 0}
		for _, b := range s.VisibleBlocks(nil) {
			sub.defPoss += b.Possible()
		}
		for i, b := range s.Blocks {
			if _, dup := c.blocks[b.UsageKey]; !dup {
				c.blocks[b.UsageKey] = n + i
			}
		}
		n += len(s.Blocks)
		if _, dup := c.subIndex[s.UsageKey]; !dup {
			c.subIndex[s.UsageKey] = len(c.subs)
		}
		c.subs = append(c.subs, sub)
	}
	c.scored = make([]blockScore, n)
	c.earned = make([]float64, len(c.subs))
	c.possible = make([]float64, len(c.subs))
	c.hasRow = make([]bool, len(c.subs))
	return c
}

// Compute returns the learner's progress from the given source.
func (c *Calculator) Compute(src Source, l *Learner) Result {
	if src == StudentModule {
		return c.fromStudentModule(l)
	}
	return c.fromPersisted(l)
}

// outlinePossible is the subsection's possible points from the outline for
// this learner (their library selections applied), and whether the
// platform's library selection is determined.
func (c *Calculator) outlinePossible(i int, l *Learner) (float64, bool) {
	s := &c.subs[i]
	if !s.library {
		return s.defPoss, true
	}
	blocks, determined := s.src.SelectedBlocks(l.Selections)
	var p float64
	for _, b := range blocks {
		p += b.Possible()
	}
	return p, determined
}

func (c *Calculator) fromPersisted(l *Learner) Result {
	for i := range c.subs {
		c.hasRow[i] = false
	}
	if l.HasCourseGrade {
		for _, g := range l.Subsections {
			if i, ok := c.subIndex[g.UsageKey]; ok {
				c.hasRow[i] = true
				c.earned[i], c.possible[i] = g.Earned, g.Possible
			}
		}
	}
	estimate := false
	for i := range c.subs {
		if !c.hasRow[i] {
			var determined bool
			c.possible[i], determined = c.outlinePossible(i, l)
			c.earned[i] = 0
			estimate = estimate || !determined
		}
	}
	r := c.tally()
	r.LibraryEstimate = estimate
	return r
}

func (c *Calculator) fromStudentModule(l *Learner) Result {
	estimate := c.scoreSubsections(l)
	r := c.tally()
	r.LibraryEstimate = estimate
	return r
}

// SubsectionScores returns, for every subsection of the outline in course
// order, the earned and possible points the StudentModule source computes
// for the learner: what the platform would persist as the subsection's
// all_total. The synthetic LMS uses it to write persisted grades that agree
// with its StudentModule rows.
func (c *Calculator) SubsectionScores(l *Learner) []SubsectionGrade {
	c.scoreSubsections(l)
	out := make([]SubsectionGrade, len(c.subs))
	for i, s := range c.subs {
		out[i] = SubsectionGrade{UsageKey: s.usageKey, Earned: c.earned[i], Possible: c.possible[i]}
	}
	return out
}

// scoreSubsections computes every subsection's earned and possible points
// from StudentModule scores; it reports whether a library selection the
// points depend on is undetermined.
func (c *Calculator) scoreSubsections(l *Learner) bool {
	estimate := false
	for _, s := range l.Scores {
		gi, ok := c.blocks[s.ModuleID]
		if !ok || !s.HasMax {
			continue
		}
		c.scored[gi] = weighted(c.blockAt(gi), s)
		c.touched = append(c.touched, gi)
	}
	for i := range c.subs {
		s := &c.subs[i]
		blocks := s.blocks
		if s.library {
			var determined bool
			blocks, determined = s.src.SelectedBlocks(l.Selections)
			estimate = estimate || !determined
		}
		var e, p float64
		for _, b := range blocks {
			gi := c.blocks[b.UsageKey]
			if sc := c.scored[gi]; sc.set {
				e += sc.earned
				p += sc.possible
			} else {
				p += b.Possible()
			}
		}
		c.earned[i], c.possible[i] = e, p
	}
	for _, gi := range c.touched {
		c.scored[gi] = blockScore{}
	}
	c.touched = c.touched[:0]
	return estimate
}

func (c *Calculator) blockAt(gi int) course.Block {
	// Binary search over subsections by first index.
	lo, hi := 0, len(c.subs)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if c.subs[mid].first <= gi {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	s := c.subs[lo]
	return s.blocks[gi-s.first]
}

// weighted applies the block's weight to a StudentModule score, as the
// platform's weighted_score does for a row that carries a score: without a
// weight, or with a raw possible (max_grade) of 0, the raw (grade,
// max_grade) stands; otherwise possible becomes the weight and earned
// weight × grade / max_grade.
func weighted(b course.Block, s Score) blockScore {
	raw := 0.0
	if s.HasGrade {
		raw = s.Grade
	}
	if b.Weight == nil || s.MaxGrade <= 0 {
		return blockScore{earned: raw, possible: s.MaxGrade, set: true}
	}
	w := *b.Weight
	return blockScore{earned: w * raw / s.MaxGrade, possible: w, set: true}
}

func (c *Calculator) tally() Result {
	var r Result
	for i := range c.subs {
		p := c.possible[i]
		if !(p > 0) || math.IsNaN(p) {
			continue
		}
		r.SectionsPossible++
		r.PointsPossible += p
		if e := c.earned[i]; e > 0 {
			r.SectionsWorked++
			r.PointsEarned += e
		}
	}
	return r
}
