package bench

import (
	"math"
	"sort"
	"time"
)

// Measurement is one workflow (or the floor) measured on one dataset at
// one buffer pool size: the results of its repetitions after the warm-up.
type Measurement struct {
	// Key identifies it (see the measurement keys in bench.go).
	Key     string
	Dataset string
	Spec    Spec
	Runs    []Result
}

// Summary is a measurement's representative figures: the median of each
// counter over the repetitions, the highest peak memory, and for a legacy
// sample the extrapolation to every enrollment.
type Summary struct {
	Counters
	Stages   map[string]Counters
	Busy     map[string]time.Duration
	Examined int
	Updated  int
	Errors   int
	PeakRSS  int64
	// Process is the median of the child processes' whole lives.
	Process time.Duration
	// Reps is the number of repetitions summarised.
	Reps int
	// Sampled is set for a legacy sample extrapolated to its population:
	// Counters, Examined and Updated are then the extrapolation, and
	// Sample the measured sample's own medians.
	Sampled    bool
	Sample     Counters
	SampleSize int
	Population int
}

// Summarize returns the measurement's summary; ok is false when it has no
// repetitions.
func (m *Measurement) Summarize() (Summary, bool) {
	if m == nil || len(m.Runs) == 0 {
		return Summary{}, false
	}
	s := Summary{Reps: len(m.Runs), Stages: map[string]Counters{}}
	cs := make([]Counters, len(m.Runs))
	var ex, up, er, pr []int64
	for i, r := range m.Runs {
		cs[i] = r.Counters
		pr = append(pr, int64(r.Process))
		ex = append(ex, int64(r.Examined))
		up = append(up, int64(r.Updated))
		er = append(er, int64(r.Errors))
		s.PeakRSS = max(s.PeakRSS, r.PeakRSS)
	}
	s.Counters = medianCounters(cs)
	s.Examined, s.Updated, s.Errors = int(medianInt(ex)), int(medianInt(up)), int(medianInt(er))
	s.Process = time.Duration(medianInt(pr))
	stages := map[string][]Counters{}
	for _, r := range m.Runs {
		for k, c := range r.Stages {
			stages[k] = append(stages[k], c)
		}
	}
	for k, v := range stages {
		s.Stages[k] = medianCounters(v)
	}
	busy := map[string][]int64{}
	for _, r := range m.Runs {
		for k, d := range r.Busy {
			busy[k] = append(busy[k], int64(d))
		}
	}
	if len(busy) > 0 {
		s.Busy = map[string]time.Duration{}
		for k, v := range busy {
			s.Busy[k] = time.Duration(medianInt(v))
		}
	}
	if pop := m.Runs[0].Population; m.Spec.LegacySample > 0 && pop > 0 {
		n := min(m.Spec.LegacySample, pop)
		sample, ok := s.Stages["legacy-sample"]
		if ok && n > 0 {
			s.Sampled, s.Sample, s.SampleSize, s.Population = true, s.Counters, n, pop
			s.Counters = Extrapolate(s.Counters, sample, n, pop)
			s.Updated = int(math.Round(float64(s.Updated) * float64(pop) / float64(n)))
			s.Examined = int(math.Round(float64(s.Examined) * float64(pop) / float64(n)))
		}
	}
	return s, true
}

// Extrapolate scales a sampled legacy run to its whole population: the
// run's total, with its per-enrollment part (the sample stage, n of the
// population's enrollments) counted population/n times instead of once.
// The rest — listing every course's enrollments, the directory and the
// aggregates of a whole run — is paid once either way. Unknown counters
// (-1) stay unknown.
func Extrapolate(total, sample Counters, n, population int) Counters {
	if n <= 0 || population <= n {
		return total
	}
	extra := float64(population)/float64(n) - 1
	scale := func(t, s int64) int64 {
		if t < 0 || s < 0 {
			return -1
		}
		return t + int64(math.Round(float64(s)*extra))
	}
	return Counters{
		Wall:           total.Wall + time.Duration(math.Round(float64(sample.Wall)*extra)),
		Statements:     scale(total.Statements, sample.Statements),
		RowsRead:       scale(total.RowsRead, sample.RowsRead),
		ServerRowsRead: scale(total.ServerRowsRead, sample.ServerRowsRead),
	}
}

func medianCounters(cs []Counters) Counters {
	var w, st, rr, sr []int64
	for _, c := range cs {
		w = append(w, int64(c.Wall))
		st = append(st, c.Statements)
		rr = append(rr, c.RowsRead)
		sr = append(sr, c.ServerRowsRead)
	}
	return Counters{Wall: time.Duration(medianInt(w)), Statements: medianInt(st), RowsRead: medianInt(rr), ServerRowsRead: medianInt(sr)}
}

// medianInt returns the median (the mean of the middle two for an even
// count; 0 for none).
func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// ratio is a / b, or NaN when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}
