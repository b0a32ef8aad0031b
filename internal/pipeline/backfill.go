package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/figures-analytics/figures/internal/calendar"
	"github.com/figures-analytics/figures/internal/lms"
	"github.com/figures-analytics/figures/internal/store"
)

// BackfillNote is what a backfill says about progress, in its output and in
// the README: the platform keeps only the latest state of a StudentModule
// row, so past per-enrollment progress cannot be rebuilt.
const BackfillNote = "Backfilled days get their enrollment, activity, completion and MAU counts; " +
	"their average progress stays NULL, because the LMS keeps only the latest state of each " +
	"StudentModule row, so per-enrollment progress on a past day cannot be reconstructed. " +
	"Activity counts of past days are lower bounds for the same reason."

// BackfillReport summarises a backfill.
type BackfillReport struct {
	RunID int
	From  calendar.Date
	To    calendar.Date
	// Resumed is the first day processed when an interrupted backfill of the
	// same range continued; zero when it started at From.
	Resumed       calendar.Date
	Days          []calendar.Date
	Sites         int
	Courses       int
	LMSStatements int64
	Errors        int
	Elapsed       time.Duration
}

// Backfill writes the daily and monthly metrics of the days from..to, in
// order. It records each finished day, so an interrupted backfill of the
// same range and filters continues after the last finished day.
func Backfill(ctx context.Context, r *lms.Reader, st *store.Store, cfg Config, from, to calendar.Date) (*BackfillReport, error) {
	cfg.setDefaults()
	if to.Before(from) {
		return nil, fmt.Errorf("backfill: --to %s is before --from %s", to, from)
	}
	today := calendar.Of(cfg.Now())
	if !to.Before(today) {
		return nil, fmt.Errorf("backfill: --to %s must be before today (%s UTC): today is not over", to, today)
	}
	start := time.Now()
	stmts := r.Statements()
	rn := &runner{lms: r, st: st, cfg: cfg, rep: &Report{Workflow: "backfill", Date: from, Stages: map[string]time.Duration{}}}
	ctx, aborted := rn.abortable(ctx)
	defer rn.abort(nil)
	rep := &BackfillReport{From: from, To: to}
	var err error
	rn.runID, err = st.StartRun(ctx, store.Run{Kind: "backfill", Workflow: "backfill", Grades: string(cfg.Grades),
		DateFor: from, DateTo: to, Started: time.Now()})
	if err != nil {
		return nil, err
	}
	rep.RunID = rn.runID
	err = rn.backfill(ctx, rep, from, to)
	if a := aborted(); a != nil {
		err = a
	}
	rep.Elapsed = time.Since(start)
	rep.LMSStatements = r.Statements() - stmts
	rep.Errors = rn.rep.Errors
	status, msg := rn.rep.Status(), fmt.Sprintf("backfill %s..%s: %d days", from, to, len(rep.Days))
	if err != nil {
		status, msg = store.RunFailed, err.Error()
	}
	if ferr := st.FinishRun(context.WithoutCancel(ctx), store.Run{ID: rn.runID, Status: status, Courses: rep.Courses,
		Errors: rn.rep.Errors, LMSStatements: rep.LMSStatements, Message: msg}); ferr != nil && err == nil {
		err = ferr
	}
	return rep, err
}

func (rn *runner) backfill(ctx context.Context, rep *BackfillReport, from, to calendar.Date) error {
	scope, courses, sites, bySite, err := resolveScope(ctx, rn.lms, rn.st, &rn.cfg)
	if err != nil {
		return err
	}
	rn.scope = scope
	rep.Sites, rep.Courses = len(scope.Sites), len(scope.CourseSites)
	if err := syncDirectory(ctx, rn.lms, rn.st, courses, sites, bySite, true); err != nil {
		return err
	}
	mark := backfillMark(from, to, rn.cfg.Sites, rn.cfg.Courses)
	done, err := rn.st.Watermark(ctx, mark)
	if err != nil {
		return err
	}
	d := from
	if !done.IsZero() && !rn.cfg.RestartBackfill {
		d = calendar.Of(done).AddDays(1)
		rep.Resumed = d
	}
	days := calendar.Range(d, to)
	for i, day := range days {
		if err := ctx.Err(); err != nil {
			return err
		}
		act, err := rn.readDay(ctx, day, false)
		if err != nil {
			return err
		}
		if err := rn.aggregates(ctx, act, false); err != nil {
			return err
		}
		if err := rn.st.SetWatermarks(ctx, map[string]time.Time{mark: day.Start()}); err != nil {
			return err
		}
		rep.Days = append(rep.Days, day)
		rn.cfg.Progress("days", i+1, len(days))
	}
	return nil
}

// backfillMark names the watermark that remembers how far a backfill of
// this range and these filters got.
func backfillMark(from, to calendar.Date, sites []int, courses []string) string {
	s := append([]int{}, sites...)
	sort.Ints(s)
	c := append([]string{}, courses...)
	sort.Strings(c)
	var parts []string
	for _, id := range s {
		parts = append(parts, strconv.Itoa(id))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, ",") + "|" + strings.Join(c, ",")))
	return "backfill:" + from.String() + ":" + to.String() + ":" + hex.EncodeToString(sum[:4])
}
