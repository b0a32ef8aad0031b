// Package bench measures the per-enrollment workflows against the floor —
// the reads no workflow for one day can avoid — on a large synthetic LMS in
// MariaDB, and writes the figures to docs/PERFORMANCE.md (`figures bench`).
//
// One benchmark run:
//
//  1. makes sure the LMS database holds the synthetic dataset (seeding it
//     when it holds none, as recorded in its figures_synth table), and a
//     second one with the same daily activity and twice the history;
//  2. builds, per dataset, a scratch SQLite store template in the state a
//     daily run starts from (outlines, mirrored directory, every
//     enrollment's latest snapshot);
//  3. measures, each in a fresh child process (so one measurement's peak
//     memory is its own) on a fresh copy of the template: the floor, the
//     legacy, next and incremental workflows alone, then whole runs, and
//     an incremental run with nothing changed; a first round of all of
//     them warms the caches, then Options.Reps rounds run each once again,
//     and the report gives medians;
//  4. measures the hot paths in process (progress computation, batched
//     store writes) with testing.Benchmark;
//  5. renders the report, keeping the hand-written section of an existing
//     one.
//
// Where counting is needed, the child limits its LMS connection pool to one
// connection, so that the server's session counters (Questions,
// Handler_read_*) are exactly the measured statements'.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/synth"
)

// Measurement keys.
const (
	KeyFloor           = "floor"
	KeyLegacy          = "legacy"
	KeyNext            = "next"
	KeyIncremental     = "incremental"
	KeyLegacyRun       = "legacy-run"
	KeyNextRun         = "next-run"
	KeyIncrementalRun  = "incremental-run"
	KeyIncrementalIdle = "incremental-idle"
)

// lag is the incremental runs' distance behind the clock (the pipeline's
// default): a run "at D+1 00:00 + lag" processes [watermark, D+1 00:00).
const (
	lag     = time.Minute
	lagText = "one minute"
)

// Options configure a benchmark run.
type Options struct {
	// LMS is the MariaDB database holding (or to hold) the dataset.
	LMS string
	// ScalingLMS holds the dataset with the history multiplied by
	// HistoryFactor; default: LMS's database name with "_h2" appended.
	ScalingLMS string
	// Scaling measures the doubled-history dataset too.
	Scaling       bool
	HistoryFactor float64
	// Scale, Seed and EndDate are used when the dataset must be seeded.
	Scale   synth.Scale
	Seed    uint64
	EndDate calendar.Date
	// OLXDir holds the dataset's course exports (the seed's --olx-dir);
	// the doubled-history dataset's are in OLXDir + "-h2".
	OLXDir     string
	SharedData string
	// Date is the day measured; zero means the dataset's end date.
	Date calendar.Date
	// WorkDir holds the scratch stores (SQLite) and their templates.
	WorkDir string
	// Fresh rebuilds the store templates even when cached ones match.
	Fresh bool
	// Reps is the number of measured rounds after the warm-up round.
	Reps int
	// LegacySample is the size of the legacy sample.
	LegacySample int
	// BufferPool, when positive and different from the server's, adds a
	// second pass of every measurement with the InnoDB buffer pool at this
	// size; the original size is restored afterwards.
	BufferPool int64
	// ProfileDir, when set, receives a CPU profile of each measurement's
	// last repetition.
	ProfileDir string
	// ChildCommand re-executes this program as a measurement child: it
	// must run RunChild on its standard input and output.
	ChildCommand []string
	// ChildEnv is added to the child's environment.
	ChildEnv []string
	// OpenSeedDB opens (creating it if needed) a database the dataset is
	// generated in.
	OpenSeedDB func(ctx context.Context, url string) (*database.DB, error)
	// Command is the command line that reproduces the run, for the report.
	Command string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Progress, when set, is told how far long steps (seeding, template
	// stores) have come.
	Progress func(stage string, done, total int)
}

func (o *Options) defaults() error {
	if o.LMS == "" {
		return errors.New("bench: an LMS database URL is required")
	}
	loc, err := database.ParseURL(o.LMS)
	if err != nil {
		return err
	}
	if loc.Dialect != database.MySQL {
		return fmt.Errorf("bench: %s: the benchmark measures MariaDB/MySQL (mysql://...)", loc)
	}
	if o.Scale == "" {
		o.Scale = synth.Large
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.EndDate.IsZero() {
		o.EndDate = DefaultEndDate
	}
	if o.HistoryFactor == 0 {
		o.HistoryFactor = 2
	}
	if o.Scaling && o.ScalingLMS == "" {
		if o.ScalingLMS, err = withDatabaseSuffix(o.LMS, "_h2"); err != nil {
			return err
		}
	}
	if o.OLXDir == "" {
		return errors.New("bench: the dataset's course export folder (--olx-dir) is required")
	}
	if o.WorkDir == "" {
		o.WorkDir = filepath.Join(os.TempDir(), "figures-bench")
	}
	if o.Reps <= 0 {
		o.Reps = DefaultReps
	}
	if o.LegacySample <= 0 {
		o.LegacySample = DefaultLegacySample
	}
	if len(o.ChildCommand) == 0 {
		return errors.New("bench: no child command to run measurements with")
	}
	if o.OpenSeedDB == nil {
		o.OpenSeedDB = func(ctx context.Context, u string) (*database.DB, error) {
			return database.Open(ctx, u, database.Options{})
		}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// DefaultEndDate is the end date a seeded dataset gets: fixed, so that
// reruns measure the same rows.
var DefaultEndDate = calendar.MustParse("2025-03-31")

// DefaultLegacySample is the legacy sample's size.
const DefaultLegacySample = 2000

// DefaultReps is the number of measured rounds.
const DefaultReps = 5

func (o *Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "bench: "+format+"\n", args...)
}

// quietLog is the pipeline's logger while building templates: warnings
// and errors only, to the benchmark's log.
func (o *Options) quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (o *Options) progress(stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

func (o *Options) seedProgress(label string) func(string, int64, int64) {
	return func(stage string, done, total int64) { o.progress(label+": seed "+stage, int(done), int(total)) }
}

func (o *Options) stageProgress(prefix string) func(string, int, int) {
	return func(stage string, done, total int) { o.progress(prefix+" "+stage, done, total) }
}

// withDatabaseSuffix returns a MySQL URL naming the database name+suffix.
func withDatabaseSuffix(raw, suffix string) (string, error) {
	loc, err := database.ParseURL(raw)
	if err != nil {
		return "", err
	}
	if loc.Name == "" {
		return "", fmt.Errorf("bench: %s names no database", loc)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	u.Path = "/" + loc.Name + suffix
	return u.String(), nil
}

// Phase is every measurement at one buffer pool size.
type Phase struct {
	BufferPool int64
	// Measurements by dataset label, then key.
	Measurements map[string]map[string]*Measurement
}

// Get returns a measurement, or nil.
func (p *Phase) Get(dataset, key string) *Measurement {
	if p == nil {
		return nil
	}
	return p.Measurements[dataset][key]
}

// Dataset labels: the dataset measured, and the one with the history
// multiplied (Options.HistoryFactor).
const (
	LabelBase   = "base"
	LabelScaled = "scaled"
)

// Run performs a benchmark run (see the package documentation).
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Command: opts.Command, Started: time.Now().UTC(), Reps: opts.Reps, LegacySample: opts.LegacySample,
		WorkDir: opts.WorkDir}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: work directory: %w", err)
	}
	base, err := ensureDataset(ctx, &opts, LabelBase, opts.LMS, synth.Options{Scale: opts.Scale, Seed: opts.Seed,
		EndDate: opts.EndDate, OLXDir: opts.OLXDir, SharedData: opts.SharedData}, false)
	if err != nil {
		return nil, err
	}
	end, err := base.endDate()
	if err != nil {
		return nil, fmt.Errorf("bench: dataset end date: %w", err)
	}
	d := opts.Date
	if d.IsZero() {
		d = end
	}
	rep.Date = d
	datasets := []*dataset{base}
	if opts.Scaling {
		want := synth.Options{Scale: base.rec.Scale, Seed: base.rec.Seed, EndDate: end, Days: base.rec.Days,
			HistoryFactor: opts.HistoryFactor, OLXDir: opts.OLXDir + "-h2", SharedData: opts.SharedData}
		scaled, err := ensureDataset(ctx, &opts, LabelScaled, opts.ScalingLMS, want, true)
		if err != nil {
			return nil, err
		}
		datasets = append(datasets, scaled)
	}

	admin, err := database.Open(ctx, opts.LMS, database.Options{})
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if rep.Machine, err = readMachine(ctx, admin); err != nil {
		return nil, err
	}
	for _, ds := range datasets {
		info := DatasetInfo{Label: ds.label, Name: ds.name(), URL: maskedURL(ds.url), Record: *ds.rec, SeededIn: ds.seeded}
		loc, _ := database.ParseURL(ds.url)
		if info.Sizes, err = tableSizes(ctx, admin.SQL(), loc.Name); err != nil {
			return nil, err
		}
		rep.Datasets = append(rep.Datasets, info)
	}

	templates := map[string]string{}
	for _, ds := range datasets {
		if templates[ds.label], err = ds.template(ctx, &opts, opts.WorkDir, d, opts.Fresh); err != nil {
			return nil, err
		}
	}

	opts.logf("hot paths in process (progress computation, store writes)")
	microDir, err := os.MkdirTemp(opts.WorkDir, "micro-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	rep.Micro, err = runMicro(ctx, microDir)
	os.RemoveAll(microDir)
	if err != nil {
		return nil, err
	}

	pools := []int64{rep.Machine.BufferPool}
	if opts.BufferPool > 0 && opts.BufferPool != rep.Machine.BufferPool {
		pools = append(pools, opts.BufferPool)
	}
	original := rep.Machine.BufferPool
	resized := false
	defer func() {
		if !resized {
			return
		}
		// Put the server back as it was, whatever happened.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
		defer cancel()
		if err := setBufferPool(rctx, admin.SQL(), original); err != nil {
			opts.logf("could not restore innodb_buffer_pool_size to %d: %v — restore it by hand: SET GLOBAL innodb_buffer_pool_size = %d", original, err, original)
		} else {
			opts.logf("innodb_buffer_pool_size restored to %s", bytesText(original))
		}
	}()
	b := &benchRunner{opts: &opts, day: d, templates: templates}
	for _, pool := range pools {
		cur, err := bufferPool(ctx, admin.SQL())
		if err != nil {
			return nil, err
		}
		if cur != pool {
			opts.logf("setting innodb_buffer_pool_size to %s for this pass (it was %s; restored at the end)", bytesText(pool), bytesText(cur))
			resized = true
			if err := setBufferPool(ctx, admin.SQL(), pool); err != nil {
				return nil, err
			}
		}
		ph := &Phase{BufferPool: pool, Measurements: map[string]map[string]*Measurement{}}
		type job struct {
			ds *dataset
			m  *Measurement
		}
		var jobs []job
		for _, ds := range datasets {
			ph.Measurements[ds.label] = map[string]*Measurement{}
			for _, key := range b.keys(ds) {
				spec, err := specFor(key, ds.url, b.day, opts.LegacySample)
				if err != nil {
					return nil, err
				}
				m := &Measurement{Key: key, Dataset: ds.label, Spec: spec}
				ph.Measurements[ds.label][key] = m
				jobs = append(jobs, job{ds, m})
			}
		}
		// Rounds, each measurement once per round in the same order (the
		// first round warms and is not counted): what is compared — the
		// floor and the workflows, a dataset and its doubled history — is
		// measured minutes apart, so a slow spell of a shared machine
		// weighs on both sides of a ratio alike.
		for round := 0; round <= opts.Reps; round++ {
			for _, j := range jobs {
				if err := b.measure(ctx, j.ds, j.m, round, pool); err != nil {
					return nil, err
				}
			}
		}
		rep.Phases = append(rep.Phases, ph)
	}
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// benchRunner runs the measurements of a benchmark run.
type benchRunner struct {
	opts      *Options
	day       calendar.Date
	templates map[string]string
	seq       int
}

// keys lists what is measured on a dataset: everything on the base
// dataset, the workflows alone on the doubled history.
func (b *benchRunner) keys(ds *dataset) []string {
	if ds.label != LabelBase {
		return []string{KeyFloor, KeyLegacy, KeyNext, KeyIncremental}
	}
	return []string{KeyFloor, KeyLegacy, KeyNext, KeyIncremental, KeyLegacyRun, KeyNextRun, KeyIncrementalRun, KeyIncrementalIdle}
}

// spec returns what a measurement does on a dataset for day d.
func specFor(key, lmsURL string, d calendar.Date, legacySample int) (Spec, error) {
	dayStart, dayEnd := d.Start(), d.End()
	now := dayEnd.Add(lag)
	idleNow := dayEnd.Add(lag + 5*time.Minute)
	s := Spec{Kind: KindRun, LMS: lmsURL, Date: d.String()}
	switch key {
	case KeyFloor:
		s.Kind = KindFloor
	case KeyLegacy, KeyLegacyRun:
		s.Workflow, s.LegacySample = "legacy", legacySample
	case KeyNext, KeyNextRun:
		s.Workflow = "next"
	case KeyIncremental, KeyIncrementalRun:
		// A run after a watermark at D's start, at D+1 00:00 + lag.
		s.Workflow, s.Watermark, s.Now = "incremental", &dayStart, &now
	case KeyIncrementalIdle:
		// The run after that one, five minutes later: nothing changed.
		s.Workflow, s.Watermark, s.Now = "incremental", &dayEnd, &idleNow
	default:
		return s, fmt.Errorf("bench: unknown measurement %q", key)
	}
	s.EnrollmentsOnly = key == KeyLegacy || key == KeyNext || key == KeyIncremental
	return s, nil
}

// measure runs round round of a measurement (round 0 warms and is not
// counted) in a child process, on a fresh copy of the dataset's template
// store.
func (b *benchRunner) measure(ctx context.Context, ds *dataset, m *Measurement, round int, pool int64) error {
	sp := m.Spec
	b.seq++
	var files []string
	if sp.Kind == KindRun {
		path := filepath.Join(b.opts.WorkDir, fmt.Sprintf("run-%d-%d.db", os.Getpid(), b.seq))
		files = []string{path, path + "-wal", path + "-shm"}
		if err := copyFile(b.templates[ds.label], path); err != nil {
			return fmt.Errorf("bench: scratch store: %w", err)
		}
		sp.Store = "sqlite:///" + path
	}
	if round == b.opts.Reps && b.opts.ProfileDir != "" {
		sp.CPUProfile = filepath.Join(b.opts.ProfileDir, fmt.Sprintf("%s-%s-pool%s.cpu.pprof", sanitize(ds.label), m.Key, sanitize(bytesText(pool))))
	}
	res, err := b.child(ctx, sp)
	for _, f := range files {
		os.Remove(f)
	}
	if err != nil {
		return fmt.Errorf("bench: %s on %s: %w", m.Key, ds.name(), err)
	}
	what := "warm-up"
	if round > 0 {
		what = fmt.Sprintf("rep %d/%d", round, b.opts.Reps)
		m.Runs = append(m.Runs, *res)
	}
	b.opts.logf("%-18s %-18s pool %-8s %-9s %8.3f s %7d statements %10d rows read %5d updated %6.0f MB",
		m.Key, ds.name(), bytesText(pool), what, res.Wall.Seconds(), res.Statements, res.RowsRead, res.Updated, float64(res.PeakRSS)/(1<<20))
	return nil
}

// child runs one measurement in a fresh process.
func (b *benchRunner) child(ctx context.Context, spec Spec) (*Result, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 6*time.Hour)
	defer cancel()
	cmd := exec.CommandContext(cctx, b.opts.ChildCommand[0], b.opts.ChildCommand[1:]...)
	cmd.Env = append(os.Environ(), b.opts.ChildEnv...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("measurement process: %w: %s", err, tail(errOut.String(), 2000))
	}
	process := time.Since(began)
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("measurement process: result: %w: %s", err, tail(out.String(), 500))
	}
	res.Process = process
	if res.PeakRSS == 0 {
		// The kernel's account of the child, when it could not read its own.
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.PeakRSS = ru.Maxrss * 1024
		}
	}
	return &res, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func maskedURL(raw string) string {
	loc, err := database.ParseURL(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return loc.String()
}

// bytesText writes a size in binary units: 128 MiB, 8 GiB, 1.5 GiB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<30))) + " GiB"
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return fmt.Sprintf("%d B", n)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
