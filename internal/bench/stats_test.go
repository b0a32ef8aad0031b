package bench

import (
	"testing"
	"time"
)

func TestExtrapolate(t *testing.T) {
	total := Counters{Wall: 12 * time.Second, Statements: 2200, RowsRead: 600000, ServerRowsRead: -1}
	sample := Counters{Wall: 10 * time.Second, Statements: 2000, RowsRead: 160000, ServerRowsRead: 5}
	// 2,000 of 442,000: the sample's part counts 221 times.
	got := Extrapolate(total, sample, 2000, 442000)
	want := Counters{Wall: 12*time.Second + 2200*time.Second, Statements: 2200 + 2000*220, RowsRead: 600000 + 160000*220, ServerRowsRead: -1}
	if got != want {
		t.Errorf("extrapolated %+v, want %+v", got, want)
	}
	// A sample as large as its population is the whole.
	if got := Extrapolate(total, sample, 9, 9); got != total {
		t.Errorf("sample = population: %+v", got)
	}
	if got := Extrapolate(total, sample, 0, 9); got != total {
		t.Errorf("empty sample: %+v", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{9, 1, 5}, 5}, {[]int64{4, 1, 3, 2}, 2}, {[]int64{-1, -1}, -1}} {
		if got := medianInt(tc.in); got != tc.want {
			t.Errorf("median %v = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	run := func(wall time.Duration, stmts int64, peak int64) Result {
		return Result{Counters: Counters{Wall: wall, Statements: stmts, RowsRead: 10, ServerRowsRead: -1},
			Stages: map[string]Counters{"enrollments": {Wall: wall / 2, Statements: stmts}}, Examined: 4, Updated: 4, PeakRSS: peak}
	}
	m := &Measurement{Key: KeyNext, Runs: []Result{run(3*time.Second, 10, 100), run(time.Second, 12, 300), run(2*time.Second, 11, 200)}}
	s, ok := m.Summarize()
	if !ok || s.Wall != 2*time.Second || s.Statements != 11 || s.PeakRSS != 300 || s.Reps != 3 || s.Sampled {
		t.Errorf("summary %+v", s)
	}
	if s.Stages["enrollments"].Wall != time.Second {
		t.Errorf("stage median %v", s.Stages["enrollments"])
	}
	if _, ok := (&Measurement{}).Summarize(); ok {
		t.Error("a measurement without runs summarised")
	}

	// A legacy sample is extrapolated from its sample stage.
	lg := &Measurement{Key: KeyLegacy, Spec: Spec{LegacySample: 100}, Runs: []Result{{
		Counters: Counters{Wall: 5 * time.Second, Statements: 300, RowsRead: 1000, ServerRowsRead: -1},
		Stages: map[string]Counters{
			"legacy-list":   {Wall: time.Second, Statements: 200, RowsRead: 500},
			"legacy-sample": {Wall: 4 * time.Second, Statements: 100, RowsRead: 500},
		},
		Examined: 100, Updated: 3, Population: 1000,
	}}}
	s, ok = lg.Summarize()
	if !ok || !s.Sampled || s.SampleSize != 100 || s.Population != 1000 {
		t.Fatalf("legacy summary %+v", s)
	}
	if s.Wall != 41*time.Second || s.Statements != 1200 || s.RowsRead != 5500 || s.Examined != 1000 || s.Updated != 30 {
		t.Errorf("legacy extrapolation %+v", s)
	}
	if s.Sample.Wall != 5*time.Second {
		t.Errorf("the sample's own figures: %+v", s.Sample)
	}
}
