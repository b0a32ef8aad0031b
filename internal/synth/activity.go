package synth

import (
	"math"

	"github.com/figures-analytics/figures/internal/progress"
)

// rowState is one learner's StudentModule row while their history is
// simulated.
type rowState struct {
	created, modified int64
	// firstAttempt is when a score was first recorded (0: never).
	firstAttempt int64
	grade        float64
	hasScore     bool
	attempts     int
	aux          uint64
	seen         bool
}

// sim simulates one enrollment's activity in one course.
type sim struct {
	r *rng
	c *courseModel
	// st is the enrollment's structure (which blocks it may open, and
	// when), sig its signature.
	st      *structure
	sig     string
	state   []rowState
	touched []int32
	t       int64 // the simulated clock, microseconds
	dayEnd  int64 // the last microsecond of the current session's day
	// overrun is set when the clock reached dayEnd: the session ends
	// there, cut by midnight.
	overrun bool
	ability float64
	answerP float64
}

// Engagement profiles: how much of the course a learner works through.
const (
	engageNone = iota
	engageLight
	engageMedium
	engageHeavy
)

var engageWeights = []float64{0.12, 0.4, 0.32, 0.16}

// session is one day's visit.
type session struct {
	day int64
	// pin forces the session's shape on a sentinel's end date.
	pin uint8
}

// schedule draws the days an enrollment is active: the first soon after
// enrolling, the next ones a few days apart, none after lastDay.
func (s *sim) schedule(e *enrollment, lastDay, endDay int64) (sessions []session, units [2]int) {
	r := s.r
	profile := r.weighted(engageWeights)
	if !e.enrolled {
		profile = engageLight // staff looking around in their course
	}
	if e.sentinel != sentinelNone && profile == engageNone {
		profile = engageMedium
	}
	var n int
	var gap float64
	switch profile {
	case engageNone:
		return nil, units
	case engageLight:
		n, gap, units = 1, 0, [2]int{1, 4}
	case engageMedium:
		n, gap, units = r.between(2, 7), 5, [2]int{2, 6}
	default:
		n, gap, units = r.between(6, 22), 3, [2]int{3, 8}
	}
	day := dayOf(e.created)
	if !r.chance(0.6) {
		day += 1 + int64(r.geometric(2))
	}
	for i := 0; i < n && day <= lastDay; i++ {
		sessions = append(sessions, session{day: day})
		day += 1 + int64(r.geometric(gap))
	}
	if e.sentinel != sentinelNone {
		// Keep the sentinel's drawn history before the last two days,
		// then pin the day before the end date and the end date itself.
		kept := sessions[:0]
		for _, se := range sessions {
			if se.day < endDay-1 {
				kept = append(kept, se)
			}
		}
		sessions = append(kept, session{day: endDay - 1}, session{day: endDay, pin: e.sentinel})
	}
	return sessions, units
}

// run simulates the enrollment and leaves its rows in s.state/s.touched.
func (s *sim) run(e *enrollment, lastDay, endDay int64) {
	for _, m := range s.touched {
		s.state[m] = rowState{}
	}
	s.touched = s.touched[:0]
	r := s.r
	sessions, unitsPer := s.schedule(e, lastDay, endDay)
	s.ability = 0.3 + 0.65*r.Float64()
	s.answerP = 0.65 + 0.3*r.Float64()
	pointer := 0
	units := s.c.units
	selected := false
	for _, se := range sessions {
		s.dayEnd = dayLast(se.day)
		start := dayStart(se.day) + sessionOffset(r)
		if r.chance(0.01) {
			start = dayStart(se.day) // a session at exactly midnight
		}
		switch se.pin {
		case sentinelMidnight:
			// One touch at exactly 00:00:00.000000 of the end date: a
			// re-attempt of an answered problem when there is one.
			s.t = dayStart(se.day)
			s.pinnedMidnight()
			continue
		case sentinelLast:
			start = s.dayEnd - int64(r.between(60, 240))*1_000_000
		}
		if se.day == dayOf(e.created) {
			start = max(start, e.created+int64(r.between(5, 600))*1_000_000)
		}
		if start > s.dayEnd {
			continue
		}
		s.t, s.overrun = start, false
		if !selected {
			s.selectLibraries()
			selected = true
		}
		n := r.between(unitsPer[0], unitsPer[1])
		for k := 0; k < n && !s.overrun; k++ {
			if pointer > 0 && (pointer >= len(units) || r.chance(0.12)) {
				if pointer >= len(units) && !r.chance(0.5) {
					break
				}
				s.visit(&units[r.IntN(pointer)], true)
				continue
			}
			if pointer >= len(units) {
				break
			}
			s.visit(&units[pointer], false)
			pointer++
		}
		if se.pin == sentinelLast {
			// The last change of the day lands at 23:59:59.999999: an
			// answer when there is a problem to re-attempt.
			s.t = s.dayEnd
			s.lastChange()
		}
	}
}

// sessionOffset draws when in the day a session starts, busier in the
// afternoon and evening (UTC).
func sessionOffset(r *rng) int64 {
	hour := r.weighted([]float64{2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 8, 8, 7, 6, 4, 3})
	return int64(hour)*3600*1_000_000 + r.Int64N(3600*1_000_000)
}

// advance moves the clock by lo..hi seconds, never past the day's last
// microsecond (a session running into midnight is cut there).
func (s *sim) advance(lo, hi int) {
	s.t += int64(s.r.between(lo, hi))*1_000_000 + s.r.Int64N(1_000_000)
	if s.t >= s.dayEnd {
		s.t = s.dayEnd
		s.overrun = true
	}
}

// touch records a change of module m's row at the current time.
func (s *sim) touch(m int32, aux uint64) *rowState {
	st := &s.state[m]
	if !st.seen {
		st.seen = true
		st.created = s.t
		st.aux = aux
		s.touched = append(s.touched, m)
	} else if aux != 0 {
		st.aux = aux
	}
	st.modified = s.t
	return st
}

// pinnedMidnight changes exactly one row at the current instant.
func (s *sim) pinnedMidnight() { s.lastChange() }

// lastChange re-attempts the most recently touched answered problem at the
// current instant, or touches the course row when there is none.
func (s *sim) lastChange() {
	for i := len(s.touched) - 1; i >= 0; i-- {
		m := s.touched[i]
		if s.c.modules[m].kind == kindProblem && s.state[m].hasScore {
			s.attemptNow(m)
			return
		}
	}
	s.touch(0, 1)
}

// visit opens a unit: the course, chapter and subsection rows record the
// position, then each stateful block of the unit is viewed, and problems
// answered. A revisit re-attempts problems not yet solved.
func (s *sim) visit(u *unit, revisit bool) {
	c := s.c
	if !s.st.sees(c, u.acc, s.t) {
		return
	}
	s.touch(0, uint64(u.chapterPos))
	s.advance(1, 5)
	s.touch(u.chapter, uint64(u.seqPos))
	s.touch(u.seq, uint64(u.position))
	s.advance(2, 20)
	for _, m := range u.items {
		if s.overrun {
			return
		}
		mod := &c.modules[m]
		if !s.st.sees(c, mod.acc, s.t) {
			continue
		}
		switch mod.kind {
		case kindVideo:
			if !revisit && s.r.chance(0.75) {
				s.touch(m, uint64(s.r.between(5, 900)))
				s.advance(30, 600)
			}
		case kindProblem:
			s.problem(m, revisit)
		case kindUnscored:
			if !revisit {
				s.touch(m, s.r.Uint64()|1)
				s.advance(60, 900)
			}
		case kindLibrary:
			st := &s.state[m]
			if !st.seen {
				s.touch(m, s.selection(mod))
			}
			for i, ch := range mod.children {
				if st.aux&(1<<uint(i)) != 0 && s.st.sees(c, c.modules[ch].acc, s.t) {
					s.problem(ch, revisit)
				}
			}
		}
	}
}

// selectLibraries records the learner's selection of every library block
// of the course, as the platform does the first time it builds the
// learner's structure (their first page of the course): its
// ContentLibraryTransformer selects and saves the children of every item
// bank, released, hidden or not, in one request.
func (s *sim) selectLibraries() {
	for m := range s.c.modules {
		if mod := &s.c.modules[m]; mod.kind == kindLibrary && !s.state[m].seen {
			s.touch(int32(m), s.selection(mod))
		}
	}
}

// selection draws a library's max_count children as a bit mask.
func (s *sim) selection(lib *module) uint64 {
	n := len(lib.children)
	want := n
	if lib.maxCount >= 0 && lib.maxCount < n {
		want = lib.maxCount
	}
	var mask uint64
	for picked := 0; picked < want; {
		i := s.r.IntN(n)
		if mask&(1<<uint(i)) == 0 {
			mask |= 1 << uint(i)
			picked++
		}
	}
	return mask
}

// problem views a problem (the row records its seed) and maybe answers
// it; a revisit re-attempts an imperfect answer.
func (s *sim) problem(m int32, revisit bool) {
	st := &s.state[m]
	if !st.seen {
		s.touch(m, uint64(s.r.between(1, 1000)))
		s.advance(5, 60)
	}
	switch {
	case !revisit && !st.hasScore && s.r.chance(s.answerP):
		s.attempt(m)
	case revisit && (!st.hasScore || st.grade < s.c.modules[m].rawMax) && st.attempts < 3 && s.r.chance(0.6):
		s.attempt(m)
	}
}

// attempt submits an answer: the row gets a grade between 0 and the
// problem's raw maximum.
func (s *sim) attempt(m int32) {
	s.advance(20, 300)
	s.attemptNow(m)
}

// attemptNow records an answer at the current instant.
func (s *sim) attemptNow(m int32) {
	st := s.touch(m, 0)
	max := s.c.modules[m].rawMax
	g := 0.0
	if max > 0 {
		if s.r.chance(s.ability) {
			g = max
		} else {
			g = math.Floor(s.r.Float64() * (max + 1))
			g = math.Min(g, max)
		}
	}
	if !st.hasScore || g > st.grade {
		st.grade = g
	}
	if !st.hasScore {
		st.firstAttempt = s.t
	}
	st.hasScore = true
	st.attempts++
}

// learner returns the simulated rows as the progress package sees them.
func (s *sim) learner() *progress.Learner {
	l := &progress.Learner{}
	for _, m := range s.touched {
		mod := &s.c.modules[m]
		st := &s.state[m]
		switch mod.kind {
		case kindProblem:
			if st.hasScore {
				l.Scores = append(l.Scores, progress.Score{ModuleID: mod.key, Grade: st.grade,
					MaxGrade: mod.rawMax, HasGrade: true, HasMax: true})
			}
		case kindLibrary:
			if l.Selections == nil {
				l.Selections = map[string][]string{}
			}
			var sel []string
			for i, ch := range mod.children {
				if st.aux&(1<<uint(i)) != 0 {
					sel = append(sel, s.c.modules[ch].key)
				}
			}
			l.Selections[mod.key] = sel
		}
	}
	return l
}
