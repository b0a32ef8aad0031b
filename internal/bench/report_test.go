package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/synth"
)

// sampleReport is a report with made-up figures, shaped like a run's.
func sampleReport() *Report {
	res := func(wall time.Duration, stmts, rows int64, updated int, peak int64, stages map[string]Counters) Result {
		return Result{Counters: Counters{Wall: wall, Statements: stmts, RowsRead: rows, ServerRowsRead: rows}, Stages: stages,
			Examined: updated, Updated: updated, PeakRSS: peak}
	}
	ms := func(key string, spec Spec, r Result) *Measurement {
		return &Measurement{Key: key, Spec: spec, Runs: []Result{r}}
	}
	stages := map[string]Counters{"activity": {Wall: 500 * time.Millisecond, Statements: 2, RowsRead: 90000},
		"enrollments": {Wall: time.Second, Statements: 400, RowsRead: 40000}}
	legacy := res(9*time.Second, 2200, 600000, 20, 200e6, map[string]Counters{
		"legacy-list": {Wall: time.Second, Statements: 200, RowsRead: 440000}, "legacy-sample": {Wall: 8 * time.Second, Statements: 2000, RowsRead: 160000}})
	legacy.Population = 440000
	busy := map[string]time.Duration{"LMS reads": 600 * time.Millisecond, "computation": 10 * time.Millisecond, "store writes": 700 * time.Millisecond}
	next := res(1500*time.Millisecond, 500, 200000, 4000, 45e6, stages)
	next.Busy = busy
	base := map[string]*Measurement{
		KeyFloor:       ms(KeyFloor, Spec{Kind: KindFloor}, res(time.Second, 400, 130000, 4000, 25e6, nil)),
		KeyNext:        ms(KeyNext, Spec{}, next),
		KeyIncremental: ms(KeyIncremental, Spec{}, res(2500*time.Millisecond, 510, 190000, 4010, 45e6, stages)),
		KeyLegacy:      ms(KeyLegacy, Spec{LegacySample: 2000}, legacy),
		KeyNextRun:     ms(KeyNextRun, Spec{}, res(9*time.Second, 670, 1.3e6, 4000, 290e6, stages)),
		KeyIncrementalIdle: ms(KeyIncrementalIdle, Spec{}, func() Result {
			r := res(40*time.Millisecond, 13, 1000, 0, 30e6, nil)
			r.Process = 300 * time.Millisecond
			return r
		}()),
	}
	scaled := map[string]*Measurement{
		KeyFloor:       ms(KeyFloor, Spec{Kind: KindFloor}, res(time.Second, 400, 130000, 4000, 25e6, nil)),
		KeyNext:        ms(KeyNext, Spec{}, res(1550*time.Millisecond, 500, 200000, 4000, 45e6, stages)),
		KeyIncremental: ms(KeyIncremental, Spec{}, res(3*time.Second, 510, 190000, 4010, 45e6, stages)),
	}
	return &Report{
		Command: "figures bench --lms mysql://root@127.0.0.1:3306/figures_large --out docs/PERFORMANCE.md",
		Started: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 27, 10, 20, 0, 0, time.UTC),
		Machine: Machine{CPU: "Test CPU", Cores: 2, MemTotal: 24 << 30, Kernel: "Linux 6", Go: "go1.26", Server: "10.11.19-MariaDB", BufferPool: 128 << 20},
		Date:    calendar.MustParse("2025-03-31"), Reps: 3, LegacySample: 2000, WorkDir: "/tmp/figures-bench",
		Datasets: []DatasetInfo{
			{Label: LabelBase, Name: "large", URL: "mysql://root@127.0.0.1:3306/figures_large",
				Record: synth.Record{Scale: synth.Large, Seed: 1, EndDate: "2025-03-31", Days: 365, HistoryFactor: 1,
					Counts: map[string]int64{"courseware_studentmodule": 10903626}},
				Sizes: []TableSize{{Table: "courseware_studentmodule", Rows: 10722298, DataBytes: 2475 << 20, IndexBytes: 4197 << 20},
					{Table: "figures_synth", Rows: 1}, {Table: "unrecorded", Rows: 12}}},
			{Label: LabelScaled, Name: "large, history ×2", Record: synth.Record{Scale: synth.Large, HistoryFactor: 2}},
		},
		Phases: []*Phase{{BufferPool: 128 << 20, Measurements: map[string]map[string]*Measurement{LabelBase: base, LabelScaled: scaled}}},
		Micro: []MicroResult{{Name: "progress, persisted grades, 20×10 course", NsPerOp: 175, PerSecond: 5.7e6, Unit: "enrollments"},
			{Name: "progress, studentmodule grades, 20×10 course", NsPerOp: 12000, PerSecond: 83000, Unit: "enrollments"},
			{Name: "store writes (SQLite), 200-enrollment batches", NsPerOp: 3.2e6, PerSecond: 62500, Unit: "enrollments"}},
	}
}

func TestRender(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().Render(&b, ""); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{
		"figures bench --lms mysql://root@127.0.0.1:3306/figures_large --out docs/PERFORMANCE.md",
		"Test CPU, 2 cores", "10.11.19-MariaDB", "InnoDB buffer pool 128 MiB",
		"| courseware_studentmodule | 10,903,626 | 2.4 GiB | 4.1 GiB |", // exact count from the record
		"| unrecorded | ≈12 |", // InnoDB's estimate
		"## Results with a 128 MiB buffer pool",
		"| floor | 1.00 | 1 | 400 | 130,000 | 25 MB | 4,000 | 4,000 | 1.00 | 1.00 |",
		"| next | 1.50 | 1.50 | 500 | 200,000 | 45 MB |",
		// 9 s + 8 s × (440,000 / 2,000 − 1)
		"| legacy* | 1761 | 1,761 |",
		"extrapolated from a sample of 2,000 of 440,000 enrollments",
		"| next, large | 0.500 / 2 / 90,000 | 1.00 / 400 / 40,000 | — | — | 0.600 | 0.010 | 0.700 |",
		"| ≥ 100,000 enrollments/s per core: progress, studentmodule grades, 20×10 course | 83,000 enrollments/s | no |",
		"| next for one day ≤ 2× the floor (buffer pool 128 MiB) | 1.50× (1.50 s vs 1.00 s) | yes |",
		"| incremental for one day ≤ 2× the floor (buffer pool 128 MiB) | 2.50× (2.50 s vs 1.00 s) | no |",
		"| history ×2 changes next by ≤ 10% (buffer pool 128 MiB) | +3% (1.50 s → 1.55 s) | yes |",
		"| history ×2 changes incremental by ≤ 10% (buffer pool 128 MiB) | +20% (2.50 s → 3.00 s) | no |",
		"| peak memory < 500 MB, one-day next run (buffer pool 128 MiB) | 290 MB | yes |",
		"| incremental with nothing changed < 1 s (the whole command) (buffer pool 128 MiB) | 0.300 s (the run itself 0.040 s) | yes |",
		"| incremental, nothing changed | 0.040 | 0.300 | 13 |",
		handBegin, "## Explanation", handEnd,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(doc, "| figures_synth |") {
		t.Error("the generator's own table is listed")
	}
	// Measurements not taken are left out or marked, never invented.
	if !strings.Contains(doc, "| next ≥ 100× faster than legacy (buffer pool 128 MiB) | 1,174× (legacy 1761 s extrapolated, next 1.50 s) | yes |") {
		t.Errorf("legacy/next target:\n%s", doc)
	}
}

func TestTargetsWithoutMeasurements(t *testing.T) {
	r := &Report{Phases: []*Phase{{BufferPool: 1 << 30, Measurements: map[string]map[string]*Measurement{}}}}
	for _, tg := range r.Targets() {
		if tg.Known || tg.Met {
			t.Errorf("target %q judged without a measurement: %+v", tg.Name, tg)
		}
	}
}

// WriteFile keeps the hand-written section of the report it replaces.
func TestWriteFileKeepsHandWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "PERFORMANCE.md")
	r := sampleReport()
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if HandWritten(string(b)) != defaultHand {
		t.Errorf("a new report's hand-written section: %q", HandWritten(string(b)))
	}
	hand := "## Explanation\n\nThe modified scan dominates.\n\n| a | b |\n"
	edited := strings.Replace(string(b), defaultHand, hand, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Command = "figures bench --reps 5"
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if got := HandWritten(string(b)); got != hand {
		t.Errorf("hand-written section after a rerun: %q, want %q", got, hand)
	}
	if !strings.Contains(string(b), "figures bench --reps 5") {
		t.Error("the generated part was not rewritten")
	}
	if HandWritten("no markers") != "" || HandWritten(handBegin+" but no end") != "" {
		t.Error("a section without both markers was found")
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q", in, got)
		}
	}
	for in, want := range map[time.Duration]string{42 * time.Millisecond: "0.042", 2100 * time.Millisecond: "2.10",
		15 * time.Second: "15.0", 1607 * time.Second: "1607"} {
		if got := secs(in); got != want {
			t.Errorf("secs(%v) = %q", in, got)
		}
	}
	for in, want := range map[int64]string{128 << 20: "128 MiB", 8 << 30: "8 GiB", 3 << 29: "1.5 GiB", 512: "512 B"} {
		if got := bytesText(in); got != want {
			t.Errorf("bytesText(%d) = %q", in, got)
		}
	}
	if count(-1) != "n/a" || fx(1.874) != "1.87" || fx(727.4) != "727" {
		t.Error("count or fx")
	}
}
