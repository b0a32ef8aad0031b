package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/progress/progresstest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

// MicroResult is one in-process benchmark of a hot path.
type MicroResult struct {
	Name string
	// NsPerOp is the time per operation; PerSecond the operations per
	// second on one core (the benchmark runs in one goroutine).
	NsPerOp     float64
	PerSecond   float64
	Unit        string
	AllocsPerOp int64
}

// The shapes the hot-path benchmarks use, as the Go benchmarks
// (BenchmarkProgress, BenchmarkSaveProgress) do.
const (
	microSubsections = 20
	microProblems    = 10
	microEnrollments = 10000
	microBatch       = 200
)

// runMicro measures the progress computation and the store's batched
// progress writes in this process with testing.Benchmark, so that the
// report's per-core figures come from the run that wrote it.
func runMicro(ctx context.Context, dir string) ([]MicroResult, error) {
	o := progresstest.Outline(microSubsections, microProblems)
	ls := progresstest.Learners(o, microEnrollments)
	var out []MicroResult
	for _, src := range []progress.Source{progress.Persisted, progress.StudentModule} {
		c := progress.New(o)
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.Compute(src, &ls[i%len(ls)])
			}
		})
		out = append(out, micro(fmt.Sprintf("progress, %s grades, %d×%d course", src, microSubsections, microProblems), r, 1, "enrollments"))
	}
	st, err := store.Open(ctx, "sqlite:///"+filepath.Join(dir, "micro-store.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var werr error
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N && werr == nil; i++ {
			ed, gm := storetest.ProgressBatch(i, microBatch, calendar.MustParse("2025-03-31"))
			werr = st.SaveProgress(ctx, ed, gm)
		}
	})
	if werr != nil {
		return nil, fmt.Errorf("bench: store writes: %w", werr)
	}
	out = append(out, micro(fmt.Sprintf("store writes (SQLite), %d-enrollment batches", microBatch), r, microBatch, "enrollments"))
	return out, nil
}

func micro(name string, r testing.BenchmarkResult, perOp int, unit string) MicroResult {
	ns := float64(r.NsPerOp())
	m := MicroResult{Name: name, NsPerOp: ns, Unit: unit, AllocsPerOp: r.AllocsPerOp()}
	if r.T > 0 {
		m.PerSecond = float64(r.N) * float64(perOp) / r.T.Seconds()
	}
	return m
}
