// Package pipeline turns LMS activity into figures' metrics: per-enrollment
// progress (the legacy, next and incremental workflows), the daily course and
// site metrics, monthly and MAU metrics, backfills, and the comparison of the
// legacy and next workflows.
//
// A run for day D (a UTC day, [D 00:00, D+1 00:00)) goes through stages:
//
//  1. scope: the LMS's sites and courses, courses assigned to sites by their
//     sites' course_org_filter, narrowed to the --site/--course filters;
//  2. directory: learners, enrollments and certificates mirrored into the
//     store (what the API shows and the daily counts are taken from);
//  3. enrollments: the workflow recomputes progress for the enrollments it
//     selects and writes figures_enrollmentdata and
//     figures_learnercoursegrademetrics;
//  4. aggregates: figures_coursedailymetrics, figures_sitedailymetrics,
//     figures_monthlyactiveenrollment and the monthly/MAU tables for D.
//
// Failures are isolated: a failing enrollment batch or course is recorded in
// figures_pipelineerror and logged, and the other courses, and the course's
// own daily row, still complete.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/database"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/progress"
	"github.com/figures-analytics/figures/internal/store"
)

// Workflow names a per-enrollment workflow.
type Workflow string

// The workflows.
const (
	// Next recomputes the enrollments with StudentModule rows created or
	// modified on the day ("Enrollment Data Next").
	Next Workflow = "next"
	// Legacy reproduces the original's sweep over every enrollment, with
	// one StudentModule query per enrollment.
	Legacy Workflow = "legacy"
	// Incremental recomputes everything changed since the last run's
	// watermark, StudentModule and persisted grades alike.
	Incremental Workflow = "incremental"
)

// ParseWorkflow validates a workflow setting.
func ParseWorkflow(s string) (Workflow, error) {
	switch Workflow(s) {
	case Next, Legacy, Incremental:
		return Workflow(s), nil
	case "":
		return Next, nil
	}
	return "", fmt.Errorf("unknown workflow %q: want next, legacy or incremental", s)
}

// Config says what a run does.
type Config struct {
	Workflow Workflow
	Grades   progress.Source
	// Date is the day to process; zero means yesterday (UTC).
	Date calendar.Date
	// Courses and Sites narrow the run; empty means all.
	Courses []string
	Sites   []int
	// DefaultSite is the django_site that owns every course of a
	// standalone install (no course_org_filter anywhere).
	DefaultSite int
	// Completion are the certificate statuses that count as completions.
	Completion []string
	// Lag is how far behind the LMS clock an incremental run stops, so rows
	// committed late with an earlier timestamp are still seen next time.
	Lag time.Duration
	// Now returns the current time; nil means time.Now, and for an
	// incremental run's upper bound the LMS server's clock.
	Now func() time.Time
	// RestartBackfill makes a backfill start at its first day even if an
	// earlier backfill of the same range got further.
	RestartBackfill bool
	// Progress, when set, is told how far each stage has come.
	Progress func(stage string, done, total int)
	// Log receives structured logs; nil means slog.Default().
	Log *slog.Logger
	// EnrollmentsOnly runs the workflow alone: the selection of the
	// enrollments and their recomputation, without the directory sync and
	// the daily metrics; an incremental run then leaves its watermarks
	// where they were, so no day's metrics are skipped for good. compare
	// runs its workflows this way, and so does the benchmark, which
	// measures the workflows apart from the directory mirror.
	EnrollmentsOnly bool
	// LegacySample, when positive, limits the legacy workflow to a
	// deterministic random sample of that many of the scope's enrollments
	// (Report.LegacyPopulation says how many it was drawn from). It exists
	// for the benchmark, which times the legacy sweep on a sample where
	// the full sweep would take hours and extrapolates; a production run
	// never sets it, as the other enrollments' snapshots are left as they
	// were.
	LegacySample int
	// OnStage, when set, is called in the run's goroutine as each stage
	// begins (done false) and ends (done true), so a caller can read its
	// own counters at stage boundaries (the benchmark reads the LMS
	// session's status counters there).
	OnStage func(stage string, done bool)
	// Distributor, when set, runs the enrollment stage on workers (see
	// Task): the run itself reads the scope, mirrors the directory, reads
	// the day's activity, splits the enrollments it selects into tasks of
	// TaskSize, waits for the workers, then writes the aggregates. Nil runs
	// everything in this process.
	Distributor Distributor
	// TaskSize is the most enrollments a distributed task holds (0:
	// DefaultTaskSize); legacy tasks are one course each.
	TaskSize int
	// AsOf is the time at which learners' structures are judged (which
	// content is released); zero means the LMS clock when the enrollment
	// stage starts (Now when Now is set). compare and distributed tasks
	// pass one time to every workflow and worker.
	AsOf time.Time

	lmsClock bool
}

// DefaultCompletion are the certificate statuses counted as completions by
// default: a certificate the learner can download.
var DefaultCompletion = []string{"downloadable"}

func (c *Config) setDefaults() {
	if c.Workflow == "" {
		c.Workflow = Next
	}
	if c.Grades == "" {
		c.Grades = progress.Persisted
	}
	if c.DefaultSite == 0 {
		c.DefaultSite = 1
	}
	if c.Completion == nil {
		c.Completion = DefaultCompletion
	}
	if c.Now == nil {
		c.Now = time.Now
		c.lmsClock = true
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Progress == nil {
		c.Progress = func(string, int, int) {}
	}
	if c.Lag == 0 {
		c.Lag = time.Minute
	}
}

// ResolveDate applies the original's date rule: no date means yesterday
// (UTC); today also means yesterday, as the day is not over; a future date
// is an error.
func ResolveDate(d calendar.Date, now time.Time) (calendar.Date, error) {
	today := calendar.Of(now)
	switch {
	case d.IsZero(), d == today:
		return today.AddDays(-1), nil
	case d.After(today):
		return calendar.Date{}, fmt.Errorf("date %s is in the future (today is %s UTC)", d, today)
	}
	return d, nil
}

// Report summarises a run.
type Report struct {
	RunID               int
	Workflow            Workflow
	Date                calendar.Date
	Sites               int
	Courses             int
	EnrollmentsExamined int
	EnrollmentsUpdated  int
	Errors              int
	LMSStatements       int64
	Elapsed             time.Duration
	// Stages holds each stage's wall time.
	Stages map[string]time.Duration
	// Touched lists the enrollments the workflow recomputed, with why.
	Touched []Touched
	// Days are the days whose daily metrics the run wrote.
	Days []calendar.Date
	// Unassigned are courses no site's org filter names.
	Unassigned []string
	// MissingOutlines are the courses in scope with no outline in the
	// store: their enrollments are not updated (each such course with work
	// to do is also recorded as failed) until their export is imported.
	MissingOutlines []string
	// Busy is, for the next and incremental workflows, the time their
	// enrollment stage spent on each kind of work — BusyLMSReads,
	// BusyComputation and BusyStoreWrites — which overlap (the LMS is read
	// while the store is written), so they may add up to more than the
	// stage's wall time. The benchmark reports them as evidence of what
	// dominates.
	Busy map[string]time.Duration
	// LegacyPopulation is, for a legacy run limited to a sample
	// (Config.LegacySample), the number of enrollments the sample was
	// drawn from; 0 otherwise.
	LegacyPopulation int
	// Estimated counts the updated enrollments whose values are estimates:
	// the platform would draw part of the learner's structure at random (a
	// cohort, an experiment group, a library selection), and figures took
	// its fixed choice (docs/METRICS.md). Their rows say why in their
	// estimate column.
	Estimated int
}

// The kinds of work in Report.Busy.
const (
	BusyLMSReads    = "LMS reads"
	BusyComputation = "computation"
	BusyStoreWrites = "store writes"
)

func (rn *runner) addBusy(kind string, d time.Duration) {
	if rn.rep.Busy == nil {
		rn.rep.Busy = map[string]time.Duration{}
	}
	rn.rep.Busy[kind] += d
}

// Status is the run's status: ok, partial (some courses or enrollments
// failed) or failed.
func (r *Report) Status() string {
	if r.Errors > 0 {
		return store.RunPartial
	}
	return store.RunOK
}

// Summary is the one line a run prints at its end.
func (r *Report) Summary() string {
	return fmt.Sprintf("%s run for %s: %d courses, %d enrollments examined, %d updated (%d estimates), %d errors, %d LMS statements, %.2f s",
		r.Workflow, r.Date, r.Courses, r.EnrollmentsExamined, r.EnrollmentsUpdated, r.Estimated, r.Errors, r.LMSStatements, r.Elapsed.Seconds())
}

// Touched is an enrollment a workflow recomputed.
type Touched struct {
	lms.Pair
	Reason string
}

// Run runs the configured workflow for its day and then the day's
// aggregates. It returns an error only when the run itself failed (the LMS
// or the store unusable); failures of single courses or enrollments are in
// the report's Errors and in figures_pipelineerror.
func Run(ctx context.Context, r *lms.Reader, st *store.Store, cfg Config) (*Report, error) {
	cfg.setDefaults()
	rn := &runner{lms: r, st: st, cfg: cfg, rep: &Report{Workflow: cfg.Workflow, Stages: map[string]time.Duration{}}}
	return rn.run(ctx)
}

type runner struct {
	lms   *lms.Reader
	st    *store.Store
	cfg   Config
	rep   *Report
	scope *Scope
	runID int
	// asOf is the time learners' structures are judged at (release
	// dates), set when the enrollment stage first needs it; views are the
	// courses' views for the run (see prepareViews).
	asOf  time.Time
	views map[string]*courseView
	// abort, once abortable set it, stops the run: recordError calls it
	// when a failure is the LMS's or the store's rather than a course's.
	abort context.CancelCauseFunc
}

// runAborted is the cause of a run stopped by abort.
type runAborted struct{ err error }

func (a runAborted) Error() string { return a.err.Error() }
func (a runAborted) Unwrap() error { return a.err }

// abortable returns ctx, cancelled when recordError meets a failure of
// the LMS or the store itself, and a function returning that failure (nil
// when there was none): the error of the run.
func (rn *runner) abortable(ctx context.Context) (context.Context, func() error) {
	ctx, rn.abort = context.WithCancelCause(ctx)
	return ctx, func() error {
		var a runAborted
		if errors.As(context.Cause(ctx), &a) {
			return a.err
		}
		return nil
	}
}

// unusable reports whether err says the LMS or the store cannot be used
// at all — a wait timed out, or a connection failed again after the
// database layer's retries — so that every other course would fail the
// same way, each after its own wait: the run stops rather than record
// each course as failed.
func unusable(err error) bool {
	return database.IsTimeout(err) || database.Transient(err) && !database.Conflict(err)
}

func (rn *runner) stage(name string, fn func() error) error {
	if rn.cfg.OnStage != nil {
		rn.cfg.OnStage(name, false)
	}
	start := time.Now()
	err := fn()
	rn.rep.Stages[name] += time.Since(start)
	if rn.cfg.OnStage != nil {
		rn.cfg.OnStage(name, true)
	}
	rn.cfg.Log.Debug("stage done", "stage", name, "seconds", time.Since(start).Seconds())
	return err
}

func (rn *runner) run(ctx context.Context) (*Report, error) {
	ctx, aborted := rn.abortable(ctx)
	defer rn.abort(nil)
	start := rn.cfg.Now()
	startStmts := rn.lms.Statements()
	var err error
	if rn.cfg.Workflow != Incremental {
		if rn.rep.Date, err = ResolveDate(rn.cfg.Date, start); err != nil {
			return nil, err
		}
	}
	rn.runID, err = rn.st.StartRun(ctx, store.Run{Kind: "run", Workflow: string(rn.cfg.Workflow), Grades: string(rn.cfg.Grades),
		DateFor: rn.rep.Date, Started: time.Now()})
	if err != nil {
		return nil, err
	}
	rn.rep.RunID = rn.runID
	err = rn.runStages(ctx)
	if a := aborted(); a != nil {
		err = a
	}
	rn.rep.Elapsed = time.Since(start)
	rn.rep.LMSStatements = rn.lms.Statements() - startStmts
	status, msg := rn.rep.Status(), rn.rep.Summary()
	if err != nil {
		status, msg = store.RunFailed, err.Error()
	}
	if ferr := rn.st.FinishRun(context.WithoutCancel(ctx), store.Run{ID: rn.runID, Status: status, Courses: rn.rep.Courses,
		EnrollmentsExamined: rn.rep.EnrollmentsExamined, EnrollmentsUpdated: rn.rep.EnrollmentsUpdated,
		Errors: rn.rep.Errors, LMSStatements: rn.rep.LMSStatements, Message: msg}); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return rn.rep, err
	}
	return rn.rep, nil
}

func (rn *runner) runStages(ctx context.Context) error {
	var courses []lms.Course
	var sites []lms.Site
	var bySite map[int][]string
	if err := rn.stage("scope", func() (err error) {
		rn.scope, courses, sites, bySite, err = resolveScope(ctx, rn.lms, rn.st, &rn.cfg)
		return err
	}); err != nil {
		return err
	}
	rn.rep.Sites = len(rn.scope.Sites)
	rn.rep.Courses = len(rn.scope.CourseSites)
	rn.rep.Unassigned = rn.scope.Unassigned
	for _, c := range rn.scope.Unassigned {
		rn.cfg.Log.Warn("course belongs to no site: no site's course_org_filter names its org", "course", c)
	}
	switch rn.cfg.Workflow {
	case Incremental:
		return rn.incremental(ctx, courses, sites, bySite)
	case Legacy, Next:
		if !rn.cfg.EnrollmentsOnly {
			if err := rn.stage("directory", func() error {
				return syncDirectory(ctx, rn.lms, rn.st, courses, sites, bySite, true)
			}); err != nil {
				return err
			}
		}
		// The day's activity selects next's enrollments and feeds the
		// aggregates; legacy's sweep does not use it.
		var day *dayActivity
		if rn.cfg.Workflow == Next || !rn.cfg.EnrollmentsOnly {
			var err error
			if day, err = rn.readDay(ctx, rn.rep.Date, rn.cfg.Workflow == Next); err != nil {
				return err
			}
		}
		if err := rn.stage("enrollments", func() error {
			if err := rn.scope.waitOutlines(ctx); err != nil {
				return err
			}
			rn.rep.MissingOutlines = rn.scope.missingOutlines()
			if rn.cfg.Workflow == Legacy {
				return rn.legacy(ctx, rn.rep.Date)
			}
			return rn.next(ctx, day)
		}); err != nil {
			return err
		}
		if rn.cfg.EnrollmentsOnly {
			return nil
		}
		return rn.stage("aggregates", func() error { return rn.aggregates(ctx, day, true) })
	}
	return fmt.Errorf("unknown workflow %q", rn.cfg.Workflow)
}

// recordError writes a pipeline error and logs it; the run goes on —
// unless err says the LMS or the store is unusable, which stops the run
// (see unusable); the failures that follow from that are not recorded.
func (rn *runner) recordError(ctx context.Context, e store.PipelineError, err error) {
	if rn.abort != nil {
		if ctx.Err() != nil {
			return
		}
		if unusable(err) {
			rn.cfg.Log.Error("run stopped", "course", e.CourseID, "err", err)
			rn.abort(runAborted{err})
			return
		}
	}
	rn.rep.Errors++
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data["error"] = err.Error()
	e.Data["date_for"] = rn.rep.Date.String()
	e.RunID = rn.runID
	rn.cfg.Log.Error("pipeline error", "type", e.ErrorType, "course", e.CourseID, "user", e.UserID, "site", e.SiteID, "err", err)
	if werr := rn.st.RecordError(context.WithoutCancel(ctx), e); werr != nil {
		rn.cfg.Log.Error("cannot record pipeline error", "err", werr)
	}
}
