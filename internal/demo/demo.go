// Package demo builds the demo installation `figures demo` serves: a
// synthetic LMS in SQLite, its course outlines imported into a store, and
// the pipeline run over every day of its history, as a real install would
// have run it day after day.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/course"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/pipeline"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/synth"
)

// Options say what to build.
type Options struct {
	// Dir holds the demo's databases and OLX exports.
	Dir string
	// Seed selects the synthetic dataset (default 1).
	Seed uint64
	// EndDate is the last day of the history (default yesterday, UTC).
	EndDate calendar.Date
	// Days is the history length (default: the small scale's, 60 days); the
	// pipeline runs each day.
	Days int
	// SharedData is the folder with the real course exports (default:
	// found next to the repository).
	SharedData string
	// Progress is told how far each stage has come.
	Progress func(stage string, done, total int)
	// Log receives the pipeline's logs (default: discarded).
	Log *slog.Logger
}

// Result describes a built demo.
type Result struct {
	LMSURL, StoreURL string
	Synth            synth.Summary
	// Runs are the pipeline runs, one per day.
	Runs []*pipeline.Report
	// Courses summarise each course on the last day.
	Courses []CourseSummary
	Elapsed time.Duration
}

// CourseSummary is one line of the demo's summary table.
type CourseSummary struct {
	SiteID          int
	CourseID        string
	Enrollments     int
	ActiveLastDay   int
	AverageProgress *float64
	Completions     int
}

// Build (re)builds the demo in opts.Dir: any earlier demo databases there
// are replaced.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.EndDate.IsZero() {
		opts.EndDate = calendar.Yesterday()
	}
	if opts.SharedData == "" {
		opts.SharedData = synth.FindSharedData()
	}
	if opts.Progress == nil {
		opts.Progress = func(string, int, int) {}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	lmsPath, storePath := filepath.Join(dir, "lms.db"), filepath.Join(dir, "figures.db")
	for _, p := range []string{lmsPath, storePath} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(p + suffix); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("demo: replace %s: %w", p, err)
			}
		}
	}
	res := &Result{LMSURL: "sqlite:///" + lmsPath, StoreURL: "sqlite:///" + storePath}

	db, err := database.Open(ctx, res.LMSURL, database.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	res.Synth, err = synth.Generate(ctx, db, synth.Options{Scale: synth.Small, Seed: opts.Seed, EndDate: opts.EndDate,
		Days: opts.Days, OLXDir: filepath.Join(dir, "olx"), SharedData: opts.SharedData,
		Progress: func(stage string, done, total int64) { opts.Progress("seed "+stage, int(done), int(total)) }})
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("demo: seed: %w", err)
	}

	st, err := store.Open(ctx, res.StoreURL)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer st.Close()
	for i, c := range res.Synth.Courses {
		o, err := course.ImportOLX(c.OLX, course.ImportOptions{CourseID: c.ID})
		if err != nil {
			return nil, fmt.Errorf("demo: import %s: %w", c.ID, err)
		}
		if _, err := st.SaveOutline(ctx, o); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		opts.Progress("import outlines", i+1, len(res.Synth.Courses))
	}

	r, err := lms.Open(ctx, res.LMSURL)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer r.Close()
	days := calendar.Range(opts.EndDate.AddDays(1-res.Synth.Days), opts.EndDate)
	now := opts.EndDate.End().Add(time.Hour)
	for i, d := range days {
		rep, err := pipeline.Run(ctx, r, st, pipeline.Config{Workflow: pipeline.Next, Date: d, Log: opts.Log,
			Now: func() time.Time { return now }})
		if err != nil {
			return nil, fmt.Errorf("demo: run %s: %w", d, err)
		}
		res.Runs = append(res.Runs, rep)
		opts.Progress("pipeline", i+1, len(days))
	}
	rows, err := st.CourseDailyOn(ctx, opts.EndDate)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, c := range rows {
		res.Courses = append(res.Courses, CourseSummary{SiteID: c.SiteID, CourseID: c.CourseID, Enrollments: c.EnrollmentCount,
			ActiveLastDay: c.ActiveLearnersToday, AverageProgress: c.AverageProgress, Completions: c.NumLearnersCompleted})
	}
	sort.Slice(res.Courses, func(i, j int) bool {
		a, b := res.Courses[i], res.Courses[j]
		if a.SiteID != b.SiteID {
			return a.SiteID < b.SiteID
		}
		return a.CourseID < b.CourseID
	})
	res.Elapsed = time.Since(start)
	return res, nil
}

// PrintSummary writes the demo's summary table.
func (r *Result) PrintSummary(w io.Writer) {
	errs := 0
	for _, run := range r.Runs {
		errs += run.Errors
	}
	fmt.Fprintf(w, "synthetic LMS: %d courses, %d enrollments, %d StudentModule rows, %d days of history ending %s\n",
		len(r.Synth.Courses), r.Synth.Enrollments, r.Synth.Rows("courseware_studentmodule"), r.Synth.Days, r.Synth.EndDate)
	for _, n := range r.Synth.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "pipeline: %d daily runs (next workflow), %d errors\n\n", len(r.Runs), errs)
	fmt.Fprintf(w, "%-5s %-42s %12s %14s %17s %12s\n", "site", "course", "enrollments", "active (last)", "average progress", "completions")
	for _, c := range r.Courses {
		avg := "—"
		if c.AverageProgress != nil {
			avg = fmt.Sprintf("%.2f", *c.AverageProgress)
		}
		fmt.Fprintf(w, "%-5d %-42s %12d %14d %17s %12d\n", c.SiteID, c.CourseID, c.Enrollments, c.ActiveLastDay, avg, c.Completions)
	}
	fmt.Fprintf(w, "\nbuilt in %.1f s\n", r.Elapsed.Seconds())
}
