package bench

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/synth"
)

// Report is everything a benchmark run measured.
type Report struct {
	Command           string
	Started, Finished time.Time
	Machine           Machine
	Date              calendar.Date
	Reps              int
	LegacySample      int
	WorkDir           string
	Datasets          []DatasetInfo
	Phases            []*Phase
	Micro             []MicroResult
}

// DatasetInfo describes a measured dataset.
type DatasetInfo struct {
	// Label is LabelBase or LabelScaled; Name describes it ("large",
	// "large, history ×2").
	Label  string
	Name   string
	URL    string
	Record synth.Record
	Sizes  []TableSize
	// SeededIn is how long seeding it took in this run (0: it was there).
	SeededIn time.Duration
}

// The markers around the hand-written section of PERFORMANCE.md. Render
// writes the section between them back unchanged.
const (
	handBegin = "<!-- figures bench: hand-written section below; `figures bench --out` keeps it as it is -->"
	handEnd   = "<!-- figures bench: end of the hand-written section -->"
)

// defaultHand is the hand-written section of a new report.
const defaultHand = `## Explanation

(Written by hand: what dominates each workflow's cost and why, from the
profiles and stage timings above. ` + "`figures bench --out`" + ` keeps this section.)
`

// HandWritten returns the hand-written section of an existing report (the
// text between the markers), or "" when it has none.
func HandWritten(doc string) string {
	i := strings.Index(doc, handBegin)
	if i < 0 {
		return ""
	}
	rest := doc[i+len(handBegin):]
	j := strings.Index(rest, handEnd)
	if j < 0 {
		return ""
	}
	return strings.Trim(rest[:j], "\n") + "\n"
}

// WriteFile renders the report to path, keeping the hand-written section
// of the file already there.
func (r *Report) WriteFile(path string) error {
	hand := ""
	if b, err := os.ReadFile(path); err == nil {
		hand = HandWritten(string(b))
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("bench: %w", err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, hand); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// Target is one of the performance targets, as measured.
type Target struct {
	Name     string
	Measured string
	// Met is the verdict; Known is false when a figure is missing.
	Met, Known bool
}

// Verdict names the target's state with the caller's words: met when it
// was met, missed when it was not, unknown when it was not measured.
func (t Target) Verdict(met, missed, unknown string) string {
	switch {
	case !t.Known:
		return unknown
	case t.Met:
		return met
	}
	return missed
}

// historyText is "history ×F" for the scaled dataset's factor F.
func (r *Report) historyText() string {
	for _, ds := range r.Datasets {
		if ds.Label == LabelScaled {
			return fmt.Sprintf("history ×%g", factorOf(ds.Record.HistoryFactor))
		}
	}
	return "history ×2"
}

// datasetName is the name of the dataset with a label.
func (r *Report) datasetName(label string) string {
	for _, ds := range r.Datasets {
		if ds.Label == label {
			return ds.Name
		}
	}
	return label
}

func summary(ph *Phase, dataset, key string) (Summary, bool) {
	return ph.Get(dataset, key).Summarize()
}

// Targets evaluates the targets on every buffer pool size measured.
func (r *Report) Targets() []Target {
	var out []Target
	for _, ph := range r.Phases {
		pool := " (buffer pool " + bytesText(ph.BufferPool) + ")"
		floor, fok := summary(ph, LabelBase, KeyFloor)
		for _, wf := range []string{KeyNext, KeyIncremental} {
			s, ok := summary(ph, LabelBase, wf)
			t := Target{Name: wf + " for one day ≤ 2× the floor" + pool, Known: ok && fok}
			if t.Known {
				x := ratio(s.Wall.Seconds(), floor.Wall.Seconds())
				t.Met = x <= 2
				t.Measured = fmt.Sprintf("%s× (%s s vs %s s)", fx(x), secs(s.Wall), secs(floor.Wall))
			}
			out = append(out, t)
		}
		next, nok := summary(ph, LabelBase, KeyNext)
		legacy, lok := summary(ph, LabelBase, KeyLegacy)
		t := Target{Name: "next ≥ 100× faster than legacy" + pool, Known: nok && lok}
		if t.Known {
			x := ratio(legacy.Wall.Seconds(), next.Wall.Seconds())
			t.Met = x >= 100
			t.Measured = fmt.Sprintf("%s× (legacy %s s extrapolated, next %s s)", fx(x), secs(legacy.Wall), secs(next.Wall))
			if nr, ok1 := summary(ph, LabelBase, KeyNextRun); ok1 {
				if lr, ok2 := summary(ph, LabelBase, KeyLegacyRun); ok2 {
					t.Measured += fmt.Sprintf("; whole runs %s×", fx(ratio(lr.Wall.Seconds(), nr.Wall.Seconds())))
				}
			}
		}
		out = append(out, t)
		for _, wf := range []string{KeyNext, KeyIncremental} {
			a, aok := summary(ph, LabelBase, wf)
			b, bok := summary(ph, LabelScaled, wf)
			t := Target{Name: r.historyText() + " changes " + wf + " by ≤ 10%" + pool, Known: aok && bok}
			if t.Known {
				x := ratio(b.Wall.Seconds(), a.Wall.Seconds())
				t.Met = math.Abs(x-1) <= 0.10
				t.Measured = fmt.Sprintf("%+.0f%% (%s s → %s s)", (x-1)*100, secs(a.Wall), secs(b.Wall))
			}
			out = append(out, t)
		}
		var peak int64
		known := false
		for _, k := range []string{KeyNext, KeyNextRun} {
			if s, ok := summary(ph, LabelBase, k); ok {
				peak, known = max(peak, s.PeakRSS), true
			}
		}
		t = Target{Name: "peak memory < 500 MB, one-day next run" + pool, Known: known}
		if known {
			t.Met = peak < 500e6
			t.Measured = fmt.Sprintf("%.0f MB", float64(peak)/1e6)
		}
		out = append(out, t)
		idle, iok := summary(ph, LabelBase, KeyIncrementalIdle)
		t = Target{Name: "incremental with nothing changed < 1 s (the whole command)" + pool, Known: iok}
		if iok {
			// Judged on the whole process, start-up and opening both
			// databases included: what an operator's cron job waits for.
			t.Met = idle.Process < time.Second
			t.Measured = fmt.Sprintf("%s s (the run itself %s s)", secs(idle.Process), secs(idle.Wall))
		}
		out = append(out, t)
	}
	for _, m := range r.Micro {
		if !strings.HasPrefix(m.Name, "progress") {
			continue
		}
		out = append(out, Target{Name: "≥ 100,000 enrollments/s per core: " + m.Name, Known: m.PerSecond > 0,
			Met: m.PerSecond >= 100000, Measured: fmt.Sprintf("%s enrollments/s", thousands(int64(m.PerSecond)))})
	}
	return out
}

// Render writes the report as Markdown, with hand as its hand-written
// section ("" gives a placeholder).
func (r *Report) Render(w io.Writer, hand string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Performance\n\n")
	p("<!-- Written by `figures bench --out`: every figure below comes from the run that wrote it. Only the hand-written section is kept on a rerun. -->\n\n")
	p("Measured by `figures bench` on %s UTC (%s) for the day **%s**. Reproduce with:\n\n", r.Started.Format("2006-01-02 15:04"),
		durText(r.Finished.Sub(r.Started)), r.Date)
	p("```\n%s\n```\n\n", r.Command)

	p("## Machine\n\n")
	m := r.Machine
	p("- CPU: %s, %d cores (shared by the LMS server and figures)\n", orUnknown(m.CPU), m.Cores)
	p("- RAM: %s; %s; %s\n", bytesText(m.MemTotal), orUnknown(m.Kernel), m.Go)
	p("- LMS server: %s on the same machine, InnoDB buffer pool %s", m.Server, bytesText(m.BufferPool))
	if len(r.Phases) > 1 {
		var others []string
		for _, ph := range r.Phases[1:] {
			others = append(others, bytesText(ph.BufferPool))
		}
		p(" as found; measured again with %s (SET GLOBAL innodb_buffer_pool_size, restored afterwards)", strings.Join(others, ", "))
	}
	p("\n- Store: SQLite (modernc.org/sqlite, WAL, synchronous=NORMAL) in a temporary directory (%s); every measurement gets a fresh copy of a template store\n\n", r.WorkDir)

	p("## Datasets\n\n")
	for _, ds := range r.Datasets {
		rec := ds.Record
		p("**%s** — `%s`: synthetic LMS, scale %s, seed %d, %d days ending %s, history factor %g", ds.Name, ds.URL, rec.Scale, rec.Seed,
			rec.Days, rec.EndDate, rec.HistoryFactor)
		if ds.SeededIn > 0 {
			p(" (seeded by this run in %s)", durText(ds.SeededIn))
		}
		p(".\n\n| table | rows | data | indexes |\n|---|--:|--:|--:|\n")
		for _, t := range ds.Sizes {
			if t.Table == "figures_synth" {
				continue // the generator's own record
			}
			rows, exact := rec.Counts[t.Table]
			rowsText := thousands(rows)
			if !exact {
				rowsText = "≈" + thousands(t.Rows)
			}
			p("| %s | %s | %s | %s |\n", t.Table, rowsText, bytesText(t.DataBytes), bytesText(t.IndexBytes))
		}
		p("\nRow counts are exact (recorded when the dataset was generated; ≈: InnoDB's estimate); sizes are information_schema's.\n\n")
	}

	for _, ph := range r.Phases {
		r.renderPhase(&b, ph)
	}

	p("## Targets\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		verdict := t.Verdict("yes", "no", "n/a")
		measured := t.Measured
		if !t.Known {
			measured = "not measured"
		}
		p("| %s | %s | %s |\n", t.Name, measured, verdict)
	}
	p("\n")

	p("## Hot paths (in process, one goroutine, so per core)\n\n| benchmark | ns/op | per second per core | allocs/op |\n|---|--:|--:|--:|\n")
	for _, mr := range r.Micro {
		p("| %s | %s | %s %s | %d |\n", mr.Name, thousands(int64(math.Round(mr.NsPerOp))), thousands(int64(mr.PerSecond)), mr.Unit, mr.AllocsPerOp)
	}
	p("\nThe same paths as Go benchmarks (`benchstat`-comparable):\n\n```\ngo test -run '^$' -bench . -count 10 ./internal/progress/ ./internal/store/\n```\n\n")

	p("## Method\n\n")
	p("- **Warm**: a first round runs every measurement once, unmeasured; then %d rounds run each once more, in the same order, so that what a ratio compares "+
		"(the floor and a workflow, a dataset and its doubled history) is measured minutes apart. The tables give the medians over the rounds (peak memory: the highest). "+
		"With a buffer pool smaller than the StudentModule table, \"warm\" means the pages are in the OS page cache, not in the pool.\n", r.Reps)
	p("- Each run is a fresh child process (`figures bench-child`) on a fresh copy of the template store, so peak memory (VmHWM) is that run's alone.\n")
	p("- **Statements** are the LMS session's `Questions` counter; **rows read** the sum of its `Handler_read_*` row counters " +
		"(key, next, prev, first, last, rnd, rnd_next): the child limits its LMS pool to one connection, so the session counters are exactly the run's statements. " +
		"(MariaDB 10.11 has no `Innodb_rows_read`; its `Rows_read` is recorded as a cross-check.)\n")
	p("- **The floor** is the day's unavoidable reads, done plainly: `SELECT DISTINCT course_id, student_id` over a range of the `modified` index and one of the `created` index for [D, D+1), " +
		"then, per course, the existence of the course grade and the subsection grades with their overrides for those learners in batches of 199 (fewer than 200, see DESIGN.md §9). No computation, no writes.\n")
	p("- **The workflows alone** (`pipeline.Config.EnrollmentsOnly`) are the selection plus the recomputation and its store writes — what differs between workflows; " +
		"**whole runs** add the directory mirror (a full pass over users, enrollments and certificates) and the day's aggregates.\n")
	p("- **Starting state**: the template store holds the outlines, the mirrored directory, the previous day's run, and every enrollment's latest progress snapshot " +
		"dated with the day of its newest change before D — what a daily run of any workflow leaves behind — so legacy recomputes only what changed, as it would every day.\n")
	p("- **Incremental** runs start from watermarks at D 00:00 and run at D+1 00:00 plus the pipeline's lag (%s), so they process exactly day D; "+
		"\"nothing changed\" is the next run, five minutes later.\n", lagText)
	p("- **Legacy** is timed on a deterministic random sample of %s enrollments (`pipeline.Config.LegacySample`, benchmark only): it lists every course's enrollments as the full sweep does, "+
		"then examines the sampled ones as the full sweep examines each. The full sweep would take hours, so its totals are extrapolated: the sampled run's, with its per-enrollment stage "+
		"counted population ÷ sample size times instead of once (listing, directory and aggregates are paid once either way). Enrollments examined and updated are scaled the same way.\n\n", thousands(int64(r.LegacySample)))

	if hand == "" {
		hand = defaultHand
	}
	p("%s\n%s%s\n", handBegin, hand, handEnd)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) renderPhase(b *strings.Builder, ph *Phase) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Results with a %s buffer pool\n\n", bytesText(ph.BufferPool))
	floor, fok := summary(ph, LabelBase, KeyFloor)
	p("### One day, the workflows alone\n\n")
	p("| | wall (s) | × floor | SQL statements | rows read | peak memory | enrollments examined | enrollments updated | %s: wall (s) | ratio |\n", r.historyText())
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range []struct{ key, label string }{
		{KeyFloor, "floor"}, {KeyNext, "next"}, {KeyIncremental, "incremental (watermark at D 00:00)"}, {KeyLegacy, "legacy*"},
	} {
		s, ok := summary(ph, LabelBase, k.key)
		if !ok {
			continue
		}
		x := "1"
		if k.key != KeyFloor {
			x = "—"
			if fok {
				x = fx(ratio(s.Wall.Seconds(), floor.Wall.Seconds()))
			}
		}
		h2, hok := summary(ph, LabelScaled, k.key)
		h2Wall, h2x := "—", "—"
		if hok {
			h2Wall = secs(h2.Wall)
			h2x = fmt.Sprintf("%.2f", ratio(h2.Wall.Seconds(), s.Wall.Seconds()))
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.label, secs(s.Wall), x, count(s.Statements), count(s.RowsRead),
			mb(s.PeakRSS), thousands(int64(s.Examined)), thousands(int64(s.Updated)), h2Wall, h2x)
	}
	if lg, ok := summary(ph, LabelBase, KeyLegacy); ok && lg.Sampled {
		p("\n\\* legacy: extrapolated from a sample of %s of %s enrollments (the sample's own run: %s s, %s statements, %s rows read).",
			thousands(int64(lg.SampleSize)), thousands(int64(lg.Population)), secs(lg.Sample.Wall), count(lg.Sample.Statements), count(lg.Sample.RowsRead))
		if h2, ok := summary(ph, LabelScaled, KeyLegacy); ok && h2.Sampled {
			p(" With the %s: %s of %s enrollments.", r.historyText(), thousands(int64(h2.SampleSize)), thousands(int64(h2.Population)))
		}
		p("\n")
	}
	p("\n")

	p("Stages of the workflows alone (wall s / statements / rows read), and what the enrollment stage was busy with (s; reads and writes overlap):\n\n")
	p("| | activity | enrollments | legacy: list | legacy: sample | LMS reads | computation | store writes |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range []string{KeyNext, KeyIncremental, KeyLegacy} {
		for _, ds := range []string{LabelBase, LabelScaled} {
			s, ok := summary(ph, ds, k)
			if !ok {
				continue
			}
			p("| %s, %s | %s | %s | %s | %s | %s | %s | %s |\n", k, r.datasetName(ds), stageText(s, "activity"), stageText(s, "enrollments"),
				stageText(s, "legacy-list"), stageText(s, "legacy-sample"), busyText(s, pipeline.BusyLMSReads),
				busyText(s, pipeline.BusyComputation), busyText(s, pipeline.BusyStoreWrites))
		}
	}
	p("\n")

	p("### Whole runs (directory mirror and aggregates included)\n\n")
	p("| | wall (s) | whole command (s) | SQL statements | rows read | peak memory | enrollments updated | scope | directory | activity | enrollments | aggregates |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range []struct{ key, label string }{
		{KeyNextRun, "next"}, {KeyIncrementalRun, "incremental (watermark at D 00:00)"}, {KeyLegacyRun, "legacy*"},
		{KeyIncrementalIdle, "incremental, nothing changed"},
	} {
		s, ok := summary(ph, LabelBase, k.key)
		if !ok {
			continue
		}
		command := "—"
		if !s.Sampled {
			command = secs(s.Process)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.label, secs(s.Wall), command, count(s.Statements), count(s.RowsRead), mb(s.PeakRSS),
			thousands(int64(s.Updated)), stageWall(s, "scope"), stageWall(s, "directory"), stageWall(s, "activity"), stageWall(s, "enrollments"), stageWall(s, "aggregates"))
	}
	p("\n\"wall\" is the run (pipeline.Run and closing the store); \"whole command\" the measurement process from start to exit, start-up and opening both databases included. Stage columns are wall seconds.\n\n")
}

func stageText(s Summary, stage string) string {
	c, ok := s.Stages[stage]
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%s / %s / %s", secs(c.Wall), count(c.Statements), count(c.RowsRead))
}

func busyText(s Summary, kind string) string {
	d, ok := s.Busy[kind]
	if !ok {
		return "—"
	}
	return secs(d)
}

func stageWall(s Summary, stage string) string {
	c, ok := s.Stages[stage]
	if !ok {
		return "—"
	}
	return secs(c.Wall)
}

// secs formats a duration in seconds with three significant figures at
// least (and millisecond resolution).
func secs(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 100:
		return strconv.FormatFloat(s, 'f', 0, 64)
	case s >= 10:
		return strconv.FormatFloat(s, 'f', 1, 64)
	case s >= 1:
		return strconv.FormatFloat(s, 'f', 2, 64)
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// fx formats a ratio.
func fx(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case x >= 100:
		return thousands(int64(math.Round(x)))
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// count formats a counter, "n/a" when unknown.
func count(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return thousands(n)
}

func mb(n int64) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

// thousands writes n with comma thousands separators.
func thousands(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	parts = append([]string{s}, parts...)
	out := strings.Join(parts, ",")
	if neg {
		return "-" + out
	}
	return out
}

func durText(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
