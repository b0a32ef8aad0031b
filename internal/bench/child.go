package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/store"
)

// Measurement kinds.
const (
	// KindFloor is the floor: the day's unavoidable reads, done plainly.
	KindFloor = "floor"
	// KindRun is a pipeline run.
	KindRun = "run"
)

// Spec says what one measurement does. The parent sends it as JSON to a
// fresh child process (RunChild), so that each measurement's peak memory is
// its own.
type Spec struct {
	Kind string `json:"kind"`
	// LMS is the LMS database URL.
	LMS string `json:"lms"`
	// Store is the scratch store's URL (KindRun).
	Store string `json:"store,omitempty"`
	// Date is the day measured, YYYY-MM-DD.
	Date     string `json:"date"`
	Workflow string `json:"workflow,omitempty"`
	// EnrollmentsOnly runs the workflow alone (pipeline.Config.EnrollmentsOnly).
	EnrollmentsOnly bool `json:"enrollments_only,omitempty"`
	// LegacySample limits legacy to a sample (pipeline.Config.LegacySample).
	LegacySample int `json:"legacy_sample,omitempty"`
	// Watermark, when set, is written as both incremental watermarks
	// before the run, outside the measurement.
	Watermark *time.Time `json:"watermark,omitempty"`
	// Now, when set, is the run's clock (incremental runs end at Now − lag).
	Now *time.Time `json:"now,omitempty"`
	// CPUProfile, when set, is where a pprof CPU profile of the measured
	// part is written.
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// Counters are what a measured interval cost.
type Counters struct {
	// Wall is the elapsed time.
	Wall time.Duration `json:"wall_ns"`
	// Statements are the statements the LMS session received (its
	// Questions counter, less the benchmark's own probes); on a database
	// without session counters, the statements the reader counted.
	Statements int64 `json:"statements"`
	// RowsRead is the sum of the session's Handler_read_* row counters;
	// -1 when the LMS has no session counters.
	RowsRead int64 `json:"rows_read"`
	// ServerRowsRead is MariaDB's Rows_read (-1 when absent), a
	// cross-check of RowsRead.
	ServerRowsRead int64 `json:"server_rows_read"`
}

// Add returns the sum of two intervals' counters (unknown stays unknown).
func (c Counters) Add(o Counters) Counters {
	add := func(a, b int64) int64 {
		if a < 0 || b < 0 {
			return -1
		}
		return a + b
	}
	return Counters{Wall: c.Wall + o.Wall, Statements: c.Statements + o.Statements,
		RowsRead: add(c.RowsRead, o.RowsRead), ServerRowsRead: add(c.ServerRowsRead, o.ServerRowsRead)}
}

// Result is one measurement's outcome, as the child reports it.
type Result struct {
	Counters
	// Stages are the pipeline stages' own counters (KindRun).
	Stages map[string]Counters `json:"stages,omitempty"`
	// Busy is the time the enrollment stage spent per kind of work
	// (pipeline.Report.Busy); the kinds overlap.
	Busy map[string]time.Duration `json:"busy_ns,omitempty"`
	// Examined and Updated are the enrollments the workflow examined and
	// recomputed; for the floor, both are the (course, learner) pairs whose
	// grades it read.
	Examined int `json:"examined"`
	Updated  int `json:"updated"`
	// Population is the legacy sample's population (0 without a sample).
	Population int `json:"population,omitempty"`
	Errors     int `json:"errors"`
	// PeakRSS is the child's peak resident set (VmHWM), in bytes.
	PeakRSS int64 `json:"peak_rss"`
	// Process is the child process's whole life as its parent saw it:
	// start-up, opening both databases, the run, and exit.
	Process time.Duration `json:"process_ns"`
}

// RunChild reads a Spec as JSON from in, performs the measurement and
// writes its Result as JSON to out. It is what the hidden child command of
// `figures bench` runs.
func RunChild(ctx context.Context, in io.Reader, out io.Writer) error {
	var spec Spec
	if err := json.NewDecoder(in).Decode(&spec); err != nil {
		return fmt.Errorf("bench child: read spec: %w", err)
	}
	res, err := measure(ctx, spec)
	if err != nil {
		return err
	}
	if res.PeakRSS, err = peakRSS(); err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(res)
}

func measure(ctx context.Context, spec Spec) (*Result, error) {
	d, err := calendar.Parse(spec.Date)
	if err != nil {
		return nil, fmt.Errorf("bench child: date: %w", err)
	}
	r, err := lms.Open(ctx, spec.LMS)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m, err := newMeter(ctx, r)
	if err != nil {
		return nil, err
	}
	switch spec.Kind {
	case KindFloor:
		return withProfile(spec.CPUProfile, func() (*Result, error) { return measureFloor(ctx, m, r, d) })
	case KindRun:
		return measureRun(ctx, m, r, spec, d)
	}
	return nil, fmt.Errorf("bench child: unknown kind %q", spec.Kind)
}

func measureRun(ctx context.Context, m *meter, r *lms.Reader, spec Spec, d calendar.Date) (*Result, error) {
	wf, err := pipeline.ParseWorkflow(spec.Workflow)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, spec.Store)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if spec.Watermark != nil {
		if err := st.SetWatermarks(ctx, map[string]time.Time{pipeline.WatermarkStudentModule: *spec.Watermark,
			pipeline.WatermarkGrades: *spec.Watermark}); err != nil {
			return nil, err
		}
	}
	res := &Result{Stages: map[string]Counters{}}
	begun := map[string]point{}
	var hookErr error
	cfg := pipeline.Config{Workflow: wf, Date: d, EnrollmentsOnly: spec.EnrollmentsOnly, LegacySample: spec.LegacySample,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnStage: func(stage string, done bool) {
			p, err := m.mark(ctx)
			if err != nil {
				hookErr = err
				return
			}
			if !done {
				begun[stage] = p
				return
			}
			res.Stages[stage] = res.Stages[stage].Add(m.between(begun[stage], p))
		}}
	if spec.Now != nil {
		now := *spec.Now
		cfg.Now = func() time.Time { return now }
	}
	return withProfile(spec.CPUProfile, func() (*Result, error) {
		start, err := m.mark(ctx)
		if err != nil {
			return nil, err
		}
		rep, err := pipeline.Run(ctx, r, st, cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: %s run: %w", wf, err)
		}
		// Closing the store is part of the run: SQLite checkpoints its
		// write-ahead log then, work a run must not leave uncounted.
		closed = true
		if err := st.Close(); err != nil {
			return nil, fmt.Errorf("bench: close the store: %w", err)
		}
		end, err := m.mark(ctx)
		if err != nil {
			return nil, err
		}
		if hookErr != nil {
			return nil, hookErr
		}
		if err := m.sameSession(ctx); err != nil {
			return nil, err
		}
		res.Counters = m.between(start, end)
		res.Examined, res.Updated, res.Errors = rep.EnrollmentsExamined, rep.EnrollmentsUpdated, rep.Errors
		res.Population = rep.LegacyPopulation
		res.Busy = rep.Busy
		return res, nil
	})
}

func withProfile(path string, fn func() (*Result, error)) (*Result, error) {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: CPU profile: %w", err)
	}
	res, err := fn()
	pprof.StopCPUProfile()
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("bench: CPU profile: %w", cerr)
	}
	return res, err
}

// meter reads the LMS session's counters at points of a measurement.
type meter struct {
	// db is the LMS pool, limited to one connection so that the session
	// counters are exactly the measured statements'; nil when the LMS has
	// no session counters (SQLite).
	db      *sql.DB
	reader  *lms.Reader
	session int64
	// sent counts the statements the meter itself sent to the session.
	sent int64
}

// point is the state of the counters at one moment.
type point struct {
	at      time.Time
	status  Status
	stmts   int64
	adjustQ int64
}

func newMeter(ctx context.Context, r *lms.Reader) (*meter, error) {
	m := &meter{reader: r}
	if r.DB().Dialect() != database.MySQL {
		return m, nil
	}
	m.db = r.DB().SQL()
	// One connection: every statement of the run, and every probe, goes
	// through the same server session.
	m.db.SetMaxOpenConns(1)
	m.db.SetMaxIdleConns(1)
	m.db.SetConnMaxLifetime(0)
	id, err := sessionID(ctx, m.db)
	if err != nil {
		return nil, err
	}
	m.sent++
	m.session = id
	return m, nil
}

func (m *meter) mark(ctx context.Context) (point, error) {
	p := point{stmts: m.reader.Statements()}
	if m.db != nil {
		s, err := readStatus(ctx, m.db)
		if err != nil {
			return p, err
		}
		m.sent++
		p.status = s
		// Questions already counts this probe and every earlier one.
		p.adjustQ = s["Questions"] - m.sent
	}
	p.at = time.Now()
	return p, nil
}

func (m *meter) between(a, b point) Counters {
	c := Counters{Wall: b.at.Sub(a.at), Statements: b.stmts - a.stmts, RowsRead: -1, ServerRowsRead: -1}
	if a.status != nil && b.status != nil {
		d := b.status.Sub(a.status)
		c.RowsRead = d.RowsRead()
		if _, ok := d["Questions"]; ok {
			c.Statements = b.adjustQ - a.adjustQ
		}
		if v, ok := d["Rows_read"]; ok {
			c.ServerRowsRead = v
		}
	}
	return c
}

// sameSession fails when the pool reconnected during the measurement: the
// session counters would then describe only part of it.
func (m *meter) sameSession(ctx context.Context) error {
	if m.db == nil {
		return nil
	}
	id, err := sessionID(ctx, m.db)
	if err != nil {
		return err
	}
	m.sent++
	if id != m.session {
		return fmt.Errorf("bench: the LMS connection was replaced during the measurement (session %d, now %d): counters incomplete", m.session, id)
	}
	return nil
}

// peakRSS reads this process's peak resident set size (VmHWM) from
// /proc/self/status.
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak memory: %w", err)
	}
	defer f.Close()
	return parseVmHWM(f)
}

// parseVmHWM finds the VmHWM line ("VmHWM:   123456 kB") of a
// /proc/PID/status file and returns it in bytes.
func parseVmHWM(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("peak memory: unexpected VmHWM line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak memory: VmHWM %q: %w", f[0], err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("peak memory: %w", err)
	}
	return 0, fmt.Errorf("peak memory: no VmHWM line in /proc/self/status")
}
